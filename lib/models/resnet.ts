/**
 * ResNet-50 as the course builds it: the identity block, the convolutional block, and the
 * 50-layer network made of one stem and four stages of blocks.
 *
 * A residual block adds its input (the "shortcut") to the output of a few layers (the "main
 * path"), so that the layers only have to learn a correction to the identity. Gradients flow back
 * through the addition unchanged, which is what lets very deep networks train.
 *
 * @module
 */
import { checkInputShape } from "./_input_shape.ts";
import * as tf from "../tf.ts";
import { batchNormalization } from "../layers/batch_norm.ts";

export { type BatchNormMode, setBatchNormMode } from "../layers/batch_norm.ts";
import { inputConv2d } from "../layers/input_conv.ts";
import { applyLayer } from "../layers/apply.ts";
import { shapeText } from "../util/format.ts";

/** A TF.js weight initializer, as `tf.initializers.glorotUniform()` and friends return. */
export type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** A tensor a block can be applied to: symbolic (building a model) or concrete (eager check). */
export type BlockInput = tf.SymbolicTensor | tf.Tensor4D;

/** Options shared by {@linkcode identityBlock} and {@linkcode convolutionalBlock}. */
export interface BlockOptions {
  /**
   * Fixes batch normalisation's mode, as `layer(x, training=...)` does in Keras: `true` normalises
   * with the batch's statistics (and updates the moving averages), also in `predict` and
   * `evaluate`; `false` always uses the moving averages; `null` follows the phase (training in
   * `fit`, inference in `predict` and `evaluate`). Default `true`, as the course's functions have
   * it.
   */
  training?: boolean | null;
  /**
   * Kernel initializer of every convolution in the block. Default: the course's distribution
   * (uniform ±0.05 for the identity block, Glorot-uniform for the convolutional block), drawn as
   * `initialization` says.
   */
  initializer?: Initializer;
  /** How the default initializer draws (see {@linkcode Initialization}). Default `"independent"`. */
  initialization?: Initialization;
  /** Prefix for the block's layer names (such as `"res2a"`); TF.js names them when left out. */
  name?: string;
}

/** Options of {@linkcode convolutionalBlock}. */
export interface ConvolutionalBlockOptions extends BlockOptions {
  /** Stride of the first 1x1 convolution and of the shortcut's convolution. Default 2. */
  s?: number;
}

/**
 * How the weights of a model's layers are drawn at the start:
 *
 * - `"independent"`: every layer draws its own numbers from the course's distributions (uniform
 *   in [-0.05, 0.05] in the identity blocks, Glorot-uniform elsewhere), through `Math.random`, so
 *   `seedRandom` makes the draws reproducible and each seed starts elsewhere.
 * - `"seed0"`: every layer starts from the same seeded sequence (seed 0), which is what the
 *   course's `initializer(seed=0)` gives in TF.js, in TensorFlow 1 graphs and in Keras up to 2.6
 *   and from 2.10 on (Keras 2.7 to 2.9 gave each new initializer other numbers): layers of the
 *   same shape start identical and the others from the same numbers scaled. The seed of
 *   `seedRandom` then changes only the order of the mini-batches.
 */
export type Initialization = "independent" | "seed0";

function checkInitialization(what: string, initialization: Initialization): void {
  if (initialization !== "independent" && initialization !== "seed0") {
    throw new RangeError(
      `Cannot build the ${what}: initialization "${initialization}", expected "independent" or "seed0"`,
    );
  }
}

/** The identity block's default initializer: uniform in [-0.05, 0.05], drawn from `Math.random`. */
export function randomUniform(): Initializer {
  return tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 });
}

/** The convolutional block's default initializer: Glorot-uniform, drawn from `Math.random`. */
export function glorotUniform(): Initializer {
  return tf.initializers.glorotUniform({});
}

/** The identity block's initializer with the course's seed: uniform in [-0.05, 0.05], seed 0 (Keras's `random_uniform(seed=0)`). */
export function randomUniformSeed0(): Initializer {
  return tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 0 });
}

/** The convolutional block's initializer with the course's seed: Glorot-uniform, seed 0. */
export function glorotUniformSeed0(): Initializer {
  return tf.initializers.glorotUniform({ seed: 0 });
}

const INITIALIZERS: Record<
  Initialization,
  { uniform: () => Initializer; glorot: () => Initializer }
> = {
  independent: { uniform: randomUniform, glorot: glorotUniform },
  seed0: { uniform: randomUniformSeed0, glorot: glorotUniformSeed0 },
};

/** The layer settings a block passes on: names are suffixes of the block's `name` option. */
interface ConvSettings {
  filters: number;
  kernelSize: number;
  /** Default 1. */
  strides?: number;
  padding: "same" | "valid";
  name: string;
}

/**
 * The layers of one block, created as the block's options say (the course's `initializer` and
 * `training` arguments) and applied at once: each method takes the tensor first and returns the
 * layer's output, so `X = tfl.relu(X, …)` reads as the course's `X = tfl.Activation('relu')(X)`. Works on symbolic and concrete tensors alike; for concrete ones the layers are
 * created, used once and disposed, so an eager check leaves no weights behind.
 */
class BlockLayers {
  readonly created: tf.layers.Layer[] = [];
  constructor(readonly options: BlockOptions, readonly initializer: Initializer) {}

  private fullName(suffix: string): string | undefined {
    return this.options.name === undefined ? undefined : `${this.options.name}_${suffix}`;
  }

  private use<T extends BlockInput>(layer: tf.layers.Layer, x: T | T[]): T {
    this.created.push(layer);
    return applyLayer(layer, x);
  }

  /** Keras's `Conv2D(filters, kernel_size, strides, padding, kernel_initializer)(x)`. */
  conv2d<T extends BlockInput>(x: T, settings: ConvSettings): T {
    const { name, ...conv } = settings;
    return this.use(
      tf.layers.conv2d({
        strides: 1,
        ...conv,
        kernelInitializer: this.initializer,
        name: this.fullName(name),
      }),
      x,
    );
  }

  /** Keras's `BatchNormalization(axis=3)(x, training=training)`. */
  batchNormalization<T extends BlockInput>(x: T, settings: { name: string }): T {
    const training = this.options.training === undefined ? true : this.options.training;
    return this.use(batchNormalization({ training, name: this.fullName(settings.name) }), x);
  }

  /** Keras's `Activation('relu')(x)`. */
  relu<T extends BlockInput>(x: T, settings: { name: string }): T {
    return this.use(
      tf.layers.activation({ activation: "relu", name: this.fullName(settings.name) }),
      x,
    );
  }

  /** Keras's `Add()([a, b])`. */
  add<T extends BlockInput>(inputs: [T, T], settings: { name: string }): T {
    return this.use(tf.layers.add({ name: this.fullName(settings.name) }), inputs);
  }
}

function checkFilters(what: string, f: number, filters: readonly number[]): void {
  if (!Number.isInteger(f) || f < 1) {
    throw new RangeError(
      `Cannot build the ${what}: kernel size f = ${f}, expected a positive integer`,
    );
  }
  if (filters.length !== 3 || !filters.every((n) => Number.isInteger(n) && n > 0)) {
    throw new TypeError(
      `Cannot build the ${what}: filters [${
        filters.join(", ")
      }], expected three positive integers [F1, F2, F3]`,
    );
  }
}

function checkInput(what: string, x: BlockInput): void {
  const isTensor = x instanceof tf.Tensor || x instanceof tf.SymbolicTensor;
  if (!isTensor || x.shape.length !== 4) {
    throw new TypeError(
      `Cannot apply the ${what}: expected a 4-D tensor [batch, height, width, channels], got ${
        isTensor ? `shape ${shapeText(x.shape)}` : typeof x
      }`,
    );
  }
}

// The checks of a block's arguments, before any layer is made: a 4-D input, a kernel size and
// three filter counts, for the identity block an input of F3 channels (the shortcut is added to
// the output), for the convolutional block a positive stride `s`.
function checkBlockArguments(
  what: "identity block" | "convolutional block",
  x: BlockInput,
  f: number,
  filters: readonly number[],
  s?: number,
): void {
  checkInput(what, x);
  checkFilters(what, f, filters);
  if (what === "identity block" && x.shape[3] !== filters[2]) {
    throw new TypeError(
      `Cannot build the identity block: the input has ${x.shape[3]} channels but F3 = ${
        filters[2]
      }; the shortcut adds the input to the output, so they must be equal`,
    );
  }
  if (s !== undefined && (!Number.isInteger(s) || s < 1)) {
    throw new RangeError(
      `Cannot build the convolutional block: stride s = ${s}, expected a positive integer`,
    );
  }
}

// Builds a block's layers with its options and applies them to `x` through `body`: to a symbolic
// tensor for a model, or eagerly to a concrete one (the layers freed afterwards).
function buildBlock<T extends BlockInput>(
  what: string,
  x: T,
  options: BlockOptions,
  kind: "uniform" | "glorot",
  body: (layers: BlockLayers, x: T) => T,
): T {
  const initialization = options.initialization ?? "independent";
  checkInitialization(what, initialization);
  const layers = new BlockLayers(
    options,
    options.initializer ?? INITIALIZERS[initialization][kind](),
  );
  if (x instanceof tf.SymbolicTensor) return body(layers, x);
  try {
    return tf.tidy(() => body(layers, x) as tf.Tensor4D) as T;
  } finally {
    for (const layer of layers.created) layer.dispose();
  }
}

/**
 * The identity block: the shortcut is the input itself, so input and output shapes are equal and
 * the input must have `F3` channels.
 *
 * Main path: Conv2D F1 1x1 'valid' -> BN -> ReLU -> Conv2D F2 fxf 'same' -> BN -> ReLU ->
 * Conv2D F3 1x1 'valid' -> BN; then add the input and apply ReLU.
 *
 * Works on a symbolic tensor (returns a symbolic tensor, for building a model) and on a concrete
 * [batch, h, w, F3] tensor (returns a new tensor the caller owns; the block's layers are freed).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const x = tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
 * const y = identityBlock(x, 2, [4, 4, 3], { training: false });
 * assertEquals(y.shape, [1, 4, 4, 3]);
 * tf.dispose([x, y]);
 * ```
 */
export function identityBlock<T extends BlockInput>(
  x: T,
  f: number,
  filters: readonly [number, number, number] | number[],
  options: BlockOptions = {},
): T {
  checkBlockArguments("identity block", x, f, filters);
  return buildBlock("identity block", x, options, "uniform", (tfl, X) => {
    const [F1, F2, F3] = filters;
    const shortcut = X;

    // First component of the main path: 1x1 convolution, batch normalisation, ReLU
    X = tfl.conv2d(X, { filters: F1, kernelSize: 1, padding: "valid", name: "conv_a" });
    X = tfl.batchNormalization(X, { name: "bn_a" });
    X = tfl.relu(X, { name: "relu_a" });

    // Second component: f x f convolution with 'same' padding, batch normalisation, ReLU
    X = tfl.conv2d(X, { filters: F2, kernelSize: f, padding: "same", name: "conv_b" });
    X = tfl.batchNormalization(X, { name: "bn_b" });
    X = tfl.relu(X, { name: "relu_b" });

    // Third component: 1x1 convolution, batch normalisation (no ReLU yet)
    X = tfl.conv2d(X, { filters: F3, kernelSize: 1, padding: "valid", name: "conv_c" });
    X = tfl.batchNormalization(X, { name: "bn_c" });

    // Final step: add the shortcut to the main path, then ReLU
    X = tfl.add([X, shortcut], { name: "add" });
    return tfl.relu(X, { name: "out" });
  });
}

/**
 * The convolutional block: like the identity block, but the first 1x1 convolution has stride `s`
 * and the shortcut goes through its own Conv2D F3 1x1 stride s 'valid' -> BN, so the block can
 * change the number of channels and the spatial size. The sum is taken as [main, shortcut].
 *
 * Works on symbolic and concrete tensors, like {@linkcode identityBlock}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const x = tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
 * const y = convolutionalBlock(x, 2, [2, 2, 5], { s: 2, training: false });
 * assertEquals(y.shape, [1, 2, 2, 5]);
 * tf.dispose([x, y]);
 * ```
 */
export function convolutionalBlock<T extends BlockInput>(
  x: T,
  f: number,
  filters: readonly [number, number, number] | number[],
  options: ConvolutionalBlockOptions = {},
): T {
  const s = options.s ?? 2;
  checkBlockArguments("convolutional block", x, f, filters, s);
  return buildBlock("convolutional block", x, options, "glorot", (tfl, X) => {
    const [F1, F2, F3] = filters;
    let shortcut = X;

    // First component of the main path: 1x1 convolution with stride s, batch normalisation, ReLU
    X = tfl.conv2d(X, { filters: F1, kernelSize: 1, strides: s, padding: "valid", name: "conv_a" });
    X = tfl.batchNormalization(X, { name: "bn_a" });
    X = tfl.relu(X, { name: "relu_a" });

    // Second component: f x f convolution with 'same' padding, batch normalisation, ReLU
    X = tfl.conv2d(X, { filters: F2, kernelSize: f, padding: "same", name: "conv_b" });
    X = tfl.batchNormalization(X, { name: "bn_b" });
    X = tfl.relu(X, { name: "relu_b" });

    // Third component: 1x1 convolution, batch normalisation
    X = tfl.conv2d(X, { filters: F3, kernelSize: 1, padding: "valid", name: "conv_c" });
    X = tfl.batchNormalization(X, { name: "bn_c" });

    // Shortcut path: 1x1 convolution with stride s to F3 channels, batch normalisation
    shortcut = tfl.conv2d(shortcut, {
      filters: F3,
      kernelSize: 1,
      strides: s,
      padding: "valid",
      name: "conv_shortcut",
    });
    shortcut = tfl.batchNormalization(shortcut, { name: "bn_shortcut" });

    // Final step: add the shortcut to the main path, then ReLU
    X = tfl.add([X, shortcut], { name: "add" });
    return tfl.relu(X, { name: "out" });
  });
}

// A block of the same layers as the identity block (kind "identity") or the convolutional block
// (kind "convolutional") without its shortcut: the main path, then the ReLU that follows the add
// in the residual block. The convolutional block's shortcut branch (its 1x1 convolution and batch
// normalisation) is not built. Layer names, order and initializers are those of the residual
// block, so the two networks start from the same draws.
function plainBlock(kind: "identity" | "convolutional"): ModelBlock {
  return (x, f, [F1, F2, F3], options) => {
    const s = kind === "convolutional" ? options.s ?? 2 : 1;
    const initializer = kind === "identity" ? "uniform" : "glorot";
    return buildBlock(`plain ${kind} block`, x, options, initializer, (tfl, X) => {
      const components = [[F1, 1, s, "valid", "a"], [F2, f, 1, "same", "b"], [
        F3,
        1,
        1,
        "valid",
        "c",
      ]];
      for (const [filters, kernelSize, strides, padding, id] of components) {
        X = tfl.conv2d(X, {
          filters: filters as number,
          kernelSize: kernelSize as number,
          strides: strides as number,
          padding: padding as "same" | "valid",
          name: `conv_${id}`,
        });
        X = tfl.batchNormalization(X, { name: `bn_${id}` });
        if (id !== "c") X = tfl.relu(X, { name: `relu_${id}` });
      }
      return tfl.relu(X, { name: "out" });
    });
  };
}

/** Options of {@linkcode resNet50}. */
export interface ResNet50Options {
  /** Input image shape. Default [64, 64, 3]. */
  inputShape?: [number, number, number];
  /** Number of classes of the softmax output. Default 6. */
  classes?: number;
  /**
   * Batch normalisation's mode in every block (see {@linkcode BlockOptions.training}); default
   * `true`, as in the course, whose blocks are called with their default. The stem's batch
   * normalisation follows the phase, as in the course.
   */
  training?: boolean | null;
  /**
   * How the initial weights are drawn (see {@linkcode Initialization}). Default `"independent"`:
   * with `"seed0"` every convolution and the dense layer start from the same seeded sequence.
   */
  initialization?: Initialization;
  /**
   * The blocks to build it from, such as a learner's own versions of the course's functions;
   * default the library's {@linkcode identityBlock} and {@linkcode convolutionalBlock}. Each is
   * called on a symbolic tensor with `f`, `filters` and the options `s` (convolutional block),
   * `training`, `initialization` and `name`, which a learner's block may ignore.
   */
  blocks?: { identityBlock?: ModelBlock; convolutionalBlock?: ModelBlock };
  /**
   * Whether the blocks have their shortcuts. Default `true`. With `false`, every block is its main
   * path followed by the ReLU, without the add, and the convolutional blocks lose their shortcut
   * branch (1x1 convolution and batch normalisation): the "plain" network of the same depth the
   * course compares ResNet with, whose layers keep the names and initial distributions of the
   * residual network's (for 64x64x3 and 6 classes, 23,600,006 - 2,788,096 = 20,811,910
   * parameters).
   */
  shortcuts?: boolean;
}

/** A block as {@linkcode resNet50} calls it while it builds the model. */
export type ModelBlock = (
  X: tf.SymbolicTensor,
  f: number,
  filters: [number, number, number],
  options: ConvolutionalBlockOptions,
) => tf.SymbolicTensor;

// The side length that reaches the final 2x2 average pooling from an input side of `n` pixels:
// padding 3, the 7x7 convolution with stride 2, the 3x3 max pooling with stride 2, then one
// halving (rounding up) for each of the three stages with stride 2.
function sideBeforeAveragePooling(n: number): number {
  const afterConv1 = Math.floor((n + 6 - 7) / 2) + 1;
  let side = afterConv1 >= 3 ? Math.floor((afterConv1 - 3) / 2) + 1 : 0;
  for (let stage = 0; stage < 3; stage++) side = Math.ceil(side / 2);
  return side;
}

// Refuses heights or widths that leave less than the 2x2 the average pooling needs (Keras refuses
// them too: its flatten would have 0 units and every output would be 1/classes).
function checkResNet50Size(inputShape: number[]): void {
  const [height, width] = inputShape;
  if (sideBeforeAveragePooling(height) >= 2 && sideBeforeAveragePooling(width) >= 2) return;
  let smallest = 1;
  while (sideBeforeAveragePooling(smallest) < 2) smallest++;
  const sides = [height, width].map(sideBeforeAveragePooling);
  throw new RangeError(
    `Cannot build ResNet-50 for input shape ${shapeText(inputShape)}: its layers shrink a ` +
      `${height}x${width} image to ${sides.join("x")} before the final 2x2 average pooling, ` +
      `which then has nothing to pool; images must be at least ${smallest}x${smallest} pixels`,
  );
}

// resNet50's options with their defaults, checked before any layer is made.
function checkedResNet50Options(options: ResNet50Options) {
  const inputShape = options.inputShape ?? [64, 64, 3];
  const classes = options.classes ?? 6;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(
      `Cannot build ResNet-50 for ${classes} classes: expected a positive integer`,
    );
  }
  checkInputShape("ResNet-50", inputShape);
  checkResNet50Size(inputShape);
  const initialization = options.initialization ?? "independent";
  checkInitialization("ResNet-50", initialization);
  const shortcuts = options.shortcuts ?? true;
  if (typeof shortcuts !== "boolean") {
    throw new TypeError(
      `Cannot build ResNet-50 with shortcuts ${shortcuts}: expected true or false`,
    );
  }
  if (!shortcuts && options.blocks !== undefined) {
    throw new TypeError("Cannot build ResNet-50: blocks are given, and shortcuts: false too");
  }
  const blocks = shortcuts
    ? {
      identityBlock: options.blocks?.identityBlock ?? identityBlock,
      convolutionalBlock: options.blocks?.convolutionalBlock ?? convolutionalBlock,
    }
    : { identityBlock: plainBlock("identity"), convolutionalBlock: plainBlock("convolutional") };
  for (const [name, block] of Object.entries(blocks)) {
    if (typeof block !== "function") {
      throw new TypeError(
        `Cannot build ResNet-50: blocks.${name} is ${typeof block}, not a function`,
      );
    }
  }
  return { inputShape, classes, training: options.training, initialization, blocks };
}

/**
 * Builds the course's `ResNet50(input_shape, classes)`:
 *
 * ZeroPadding (3, 3) -> Conv2D 64 7x7 stride 2 -> BN -> ReLU -> MaxPool 3x3 stride 2 ->
 * stage 2: convolutional block [64, 64, 256] s=1 + 2 identity blocks ->
 * stage 3: [128, 128, 512] s=2 + 3 -> stage 4: [256, 256, 1024] s=2 + 5 ->
 * stage 5: [512, 512, 2048] s=2 + 2 -> AveragePooling 2x2 -> Flatten -> Dense softmax.
 *
 * For (64, 64, 3) and 6 classes: 23,600,006 parameters, of which 53,120 (the batch-norm moving
 * averages) are not trainable. The model is not compiled.
 *
 * @example
 * ```ts ignore
 * const model = resNet50();
 * console.log(model.countParams()); // 23600006
 * model.dispose();
 * ```
 */
export function resNet50(options: ResNet50Options = {}): tf.LayersModel {
  const { inputShape, classes, training, initialization, blocks } = checkedResNet50Options(options);
  const { identityBlock, convolutionalBlock } = blocks; // the library's, or the ones given
  const glorot = INITIALIZERS[initialization].glorot;
  const settings = { training, initialization };

  const input = tf.input({ shape: inputShape, name: "input" });
  let X = applyLayer(tf.layers.zeroPadding2d({ padding: 3, name: "zero_padding" }), input);

  // Stage 1: 7x7 convolution with stride 2, batch normalisation, ReLU, 3x3 max pooling
  const conv1 = { filters: 64, kernelSize: 7, strides: 2, kernelInitializer: glorot() };
  X = applyLayer(inputConv2d({ ...conv1, name: "conv1" }), X);
  X = applyLayer(batchNormalization({ name: "bn_conv1" }), X);
  X = applyLayer(tf.layers.activation({ activation: "relu", name: "relu_conv1" }), X);
  X = applyLayer(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: "pool1" }), X);

  // Stage 2: one convolutional block with s = 1, then 2 identity blocks
  X = convolutionalBlock(X, 3, [64, 64, 256], { s: 1, name: "res2a", ...settings });
  X = identityBlock(X, 3, [64, 64, 256], { name: "res2b", ...settings });
  X = identityBlock(X, 3, [64, 64, 256], { name: "res2c", ...settings });

  // Stage 3: one convolutional block with s = 2, then 3 identity blocks
  X = convolutionalBlock(X, 3, [128, 128, 512], { s: 2, name: "res3a", ...settings });
  X = identityBlock(X, 3, [128, 128, 512], { name: "res3b", ...settings });
  X = identityBlock(X, 3, [128, 128, 512], { name: "res3c", ...settings });
  X = identityBlock(X, 3, [128, 128, 512], { name: "res3d", ...settings });

  // Stage 4: one convolutional block with s = 2, then 5 identity blocks
  X = convolutionalBlock(X, 3, [256, 256, 1024], { s: 2, name: "res4a", ...settings });
  X = identityBlock(X, 3, [256, 256, 1024], { name: "res4b", ...settings });
  X = identityBlock(X, 3, [256, 256, 1024], { name: "res4c", ...settings });
  X = identityBlock(X, 3, [256, 256, 1024], { name: "res4d", ...settings });
  X = identityBlock(X, 3, [256, 256, 1024], { name: "res4e", ...settings });
  X = identityBlock(X, 3, [256, 256, 1024], { name: "res4f", ...settings });

  // Stage 5: one convolutional block with s = 2, then 2 identity blocks
  X = convolutionalBlock(X, 3, [512, 512, 2048], { s: 2, name: "res5a", ...settings });
  X = identityBlock(X, 3, [512, 512, 2048], { name: "res5b", ...settings });
  X = identityBlock(X, 3, [512, 512, 2048], { name: "res5c", ...settings });

  // 2x2 average pooling, flatten, and a dense softmax layer of one unit per class
  X = applyLayer(tf.layers.averagePooling2d({ poolSize: 2, name: "avg_pool" }), X);
  X = applyLayer(tf.layers.flatten({ name: "flatten" }), X);
  const dense = { units: classes, activation: "softmax", kernelInitializer: glorot() } as const;
  X = applyLayer(tf.layers.dense({ ...dense, name: "fc" }), X);

  return tf.model({ inputs: input, outputs: X, name: "ResNet50" });
}
