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

// Applies layers to symbolic or concrete tensors alike. For concrete tensors the layers are
// created, used once and disposed, so an eager check leaves no weights behind.
class BlockBuilder {
  readonly layers: tf.layers.Layer[] = [];
  constructor(readonly options: BlockOptions, readonly initializer: Initializer) {}

  private name(suffix: string): string | undefined {
    return this.options.name === undefined ? undefined : `${this.options.name}_${suffix}`;
  }

  private use<T extends BlockInput>(layer: tf.layers.Layer, x: T | T[]): T {
    this.layers.push(layer);
    return layer.apply(x as tf.Tensor | tf.Tensor[]) as T;
  }

  conv<T extends BlockInput>(
    x: T,
    filters: number,
    kernelSize: number,
    strides: number,
    padding: "same" | "valid",
    suffix: string,
  ): T {
    return this.use(
      tf.layers.conv2d({
        filters,
        kernelSize,
        strides,
        padding,
        kernelInitializer: this.initializer,
        name: this.name(suffix),
      }),
      x,
    );
  }

  batchNorm<T extends BlockInput>(x: T, suffix: string): T {
    return this.use(
      batchNormalization({
        training: this.options.training === undefined ? true : this.options.training ?? undefined,
        name: this.name(suffix),
      }),
      x,
    );
  }

  relu<T extends BlockInput>(x: T, suffix: string): T {
    return this.use(tf.layers.activation({ activation: "relu", name: this.name(suffix) }), x);
  }

  add<T extends BlockInput>(main: T, shortcut: T, suffix: string): T {
    return this.use(tf.layers.add({ name: this.name(suffix) }), [main, shortcut]);
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

function runBlock<T extends BlockInput>(
  what: string,
  x: T,
  options: BlockOptions,
  kind: "uniform" | "glorot",
  body: (b: BlockBuilder, x: T) => T,
): T {
  const initialization = options.initialization ?? "independent";
  checkInitialization(what, initialization);
  const builder = new BlockBuilder(
    options,
    options.initializer ?? INITIALIZERS[initialization][kind](),
  );
  if (x instanceof tf.SymbolicTensor) return body(builder, x);
  try {
    return tf.tidy(() => body(builder, x) as tf.Tensor4D) as T;
  } finally {
    for (const layer of builder.layers) layer.dispose();
  }
}

// The main path both blocks share: 1x1 (stride s) -> BN -> ReLU -> fxf 'same' -> BN -> ReLU ->
// 1x1 -> BN.
function mainPath<T extends BlockInput>(
  b: BlockBuilder,
  input: T,
  f: number,
  [f1, f2, f3]: readonly number[],
  s: number,
): T {
  let y = b.conv(input, f1, 1, s, "valid", "conv_a");
  y = b.relu(b.batchNorm(y, "bn_a"), "relu_a");
  y = b.conv(y, f2, f, 1, "same", "conv_b");
  y = b.relu(b.batchNorm(y, "bn_b"), "relu_b");
  y = b.conv(y, f3, 1, 1, "valid", "conv_c");
  return b.batchNorm(y, "bn_c");
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
  checkInput("identity block", x);
  checkFilters("identity block", f, filters);
  const channels = x.shape[3];
  const f3 = filters[2];
  if (channels !== f3) {
    throw new TypeError(
      `Cannot build the identity block: the input has ${channels} channels but F3 = ${f3}; ` +
        `the shortcut adds the input to the output, so they must be equal`,
    );
  }
  return runBlock("identity block", x, options, "uniform", (b, input) => {
    const y = mainPath(b, input, f, filters, 1);
    return b.relu(b.add(y, input, "add"), "out");
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
  checkInput("convolutional block", x);
  checkFilters("convolutional block", f, filters);
  const s = options.s ?? 2;
  if (!Number.isInteger(s) || s < 1) {
    throw new RangeError(
      `Cannot build the convolutional block: stride s = ${s}, expected a positive integer`,
    );
  }
  return runBlock("convolutional block", x, options, "glorot", (b, input) => {
    const y = mainPath(b, input, f, filters, s);
    let shortcut = b.conv(input, filters[2], 1, s, "valid", "conv_shortcut");
    shortcut = b.batchNorm(shortcut, "bn_shortcut");
    return b.relu(b.add(y, shortcut, "add"), "out");
  });
}

// A block of the same layers as the identity block (s = 1, kind "uniform") or the convolutional
// block (kind "glorot") without its shortcut: the main path, then the ReLU that follows the add in
// the residual block. The convolutional block's shortcut branch (its 1x1 convolution and batch
// normalisation) is not built. Layer names are those of the residual block.
function plainBlock(
  x: tf.SymbolicTensor,
  f: number,
  filters: [number, number, number],
  s: number,
  kind: "uniform" | "glorot",
  options: BlockOptions,
): tf.SymbolicTensor {
  return runBlock("plain block", x, options, kind, (b, input) => {
    return b.relu(mainPath(b, input, f, filters, s), "out");
  });
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
   * Whether the blocks have their shortcuts. Default `true`. With `false`, every block is its main
   * path followed by the ReLU, without the add, and the convolutional blocks lose their shortcut
   * branch (1x1 convolution and batch normalisation): the "plain" network of the same depth the
   * course compares ResNet with, whose layers keep the names and initial distributions of the
   * residual network's (for 64x64x3 and 6 classes, 23,600,006 - 2,788,096 = 20,811,910
   * parameters).
   */
  shortcuts?: boolean;
}

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
  const inputShape = options.inputShape ?? [64, 64, 3];
  const classes = options.classes ?? 6;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(
      `Cannot build ResNet-50 for ${classes} classes: expected a positive integer`,
    );
  }
  checkInputShape("ResNet-50", inputShape);
  checkResNet50Size(inputShape);
  const training = options.training;
  const initialization = options.initialization ?? "independent";
  checkInitialization("ResNet-50", initialization);
  const glorot = INITIALIZERS[initialization].glorot;
  const input = tf.input({ shape: inputShape, name: "input" });
  let x = tf.layers.zeroPadding2d({ padding: 3, name: "zero_padding" }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = inputConv2d({
    filters: 64,
    kernelSize: 7,
    strides: 2,
    padding: "valid",
    kernelInitializer: glorot(),
    name: "conv1",
  }).apply(x) as tf.SymbolicTensor;
  x = batchNormalization({ name: "bn_conv1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu", name: "relu_conv1" }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: "pool1" }).apply(
    x,
  ) as tf.SymbolicTensor;

  const stages: { filters: [number, number, number]; s: number; identityBlocks: number }[] = [
    { filters: [64, 64, 256], s: 1, identityBlocks: 2 },
    { filters: [128, 128, 512], s: 2, identityBlocks: 3 },
    { filters: [256, 256, 1024], s: 2, identityBlocks: 5 },
    { filters: [512, 512, 2048], s: 2, identityBlocks: 2 },
  ];
  const shortcuts = options.shortcuts ?? true;
  if (typeof shortcuts !== "boolean") {
    throw new TypeError(
      `Cannot build ResNet-50 with shortcuts ${shortcuts}: expected true or false`,
    );
  }
  stages.forEach((stage, i) => {
    const prefix = `res${i + 2}`;
    if (!shortcuts) {
      for (let j = 0; j <= stage.identityBlocks; j++) {
        const name = `${prefix}${String.fromCharCode(97 + j)}`;
        const s = j === 0 ? stage.s : 1;
        const kind = j === 0 ? "glorot" : "uniform";
        x = plainBlock(x, 3, stage.filters, s, kind, { training, initialization, name });
      }
      return;
    }
    x = convolutionalBlock(x, 3, stage.filters, {
      s: stage.s,
      training,
      initialization,
      name: `${prefix}a`,
    });
    for (let j = 0; j < stage.identityBlocks; j++) {
      x = identityBlock(x, 3, stage.filters, {
        training,
        initialization,
        name: `${prefix}${String.fromCharCode(98 + j)}`,
      });
    }
  });

  x = tf.layers.averagePooling2d({ poolSize: 2, name: "avg_pool" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({
    units: classes,
    activation: "softmax",
    kernelInitializer: glorot(),
    name: "fc",
  }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: "ResNet50" });
}
