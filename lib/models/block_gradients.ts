/**
 * Vanishing gradients, measured: how large the gradient of the loss is when it reaches each block
 * of ResNet-50 at initialisation, and of the same network with its shortcuts removed, on one
 * mini-batch. One forward and one backward pass per network, no training.
 *
 * **What is measured.** For every block, the gradient of the loss with respect to the block's
 * output activation a[l] (what backpropagation hands from block l+1 down to block l), summarised
 * as its root mean square: the L2 norm divided by the square root of the number of entries, so
 * that blocks whose outputs differ in size (15x15x256 in stage 2, 2x2x2048 in stage 5) compare.
 * The gradient with respect to a block's *weights* would tell the same story less clearly: a
 * convolution followed by batch normalisation gets a weight gradient that shrinks as its weights
 * grow (the normalisation undoes their scale), and the course draws the identity blocks' weights
 * from ±0.05 but the convolutional blocks' from Glorot-uniform, so weight gradients jump between
 * the two kinds of block for reasons that have nothing to do with depth; and in a network
 * without normalisation the weight gradient multiplies a vanishing activation by a growing
 * gradient, which can hide both.
 *
 * **Batch normalisation.** `"training"` (the default) normalises every batch normalisation with
 * the batch's statistics, as the course's blocks do and as the first training step would compute
 * its gradient. `"inference"` uses the moving averages, which at initialisation are mean 0 and
 * variance 1: every normalisation is then (nearly) the identity, and the network behaves as one
 * without normalisation, the setting of the course's picture of vanishing gradients. Either way
 * the model is left as it was found (the moving averages a training-mode pass moves are restored).
 *
 * @module
 */
import * as tf from "../tf.ts";
import {
  type Displayable,
  displayable,
  JUPYTER_DISPLAY,
  type MimeBundle,
} from "../display/bundle.ts";
import { chart, type ChartView } from "../display/plot.ts";
import { batchNormLayers } from "../layers/batch_norm.ts";
import { conv2dBySeparateOps } from "../layers/input_conv.ts";
import { shapeText } from "../util/format.ts";
import { type Initialization, resNet50 } from "./resnet.ts";

/** The batch-normalisation mode of a gradient measurement (see the module documentation). */
export type GradientBatchNorm = "training" | "inference";

/** Options of {@linkcode blockGradients}. */
export interface BlockGradientsOptions {
  /** Batch normalisation's mode in every layer during the measurement. Default `"training"`. */
  batchNorm?: GradientBatchNorm;
  /**
   * The names of the layers whose outputs are the blocks' outputs, from the input to the output.
   * Default: the layers named like `res2a_out` (the last ReLU of each block of {@linkcode resNet50}),
   * in the model's order.
   */
  blocks?: string[];
}

/** What {@linkcode blockGradients} measured. */
export interface BlockGradients {
  /** The block names, from the input to the output (`"res2a"` for the layer `res2a_out`). */
  blocks: string[];
  /** Per block, the root mean square of the gradient of the loss with respect to its output. */
  sizes: number[];
  /** The mean categorical cross-entropy of the batch. */
  loss: number;
}

/** The layers {@linkcode blockGradients} takes for block outputs when not told. */
const BLOCK_OUTPUT = /^(res\d+[a-z]+)_out$/;

function checkBatchNorm(mode: string): void {
  if (mode !== "training" && mode !== "inference") {
    throw new RangeError(
      `Cannot measure gradients with batch normalisation "${mode}": expected "training" or "inference"`,
    );
  }
}

// A model's shape with its free batch dimension written out: [batch, 64, 64, 3].
const modelShape = (shape: readonly (number | null)[]) =>
  `[${shape.map((d) => d ?? "batch").join(", ")}]`;

function checkBatch(x: tf.Tensor, y: tf.Tensor, inputShape: readonly (number | null)[]): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) {
    throw new TypeError(
      `Cannot measure gradients on x ${
        x instanceof tf.Tensor ? `of shape ${shapeText(x.shape)}` : typeof x
      }: expected images [batch, height, width, channels]`,
    );
  }
  if (!(y instanceof tf.Tensor) || y.rank !== 2 || y.shape[0] !== x.shape[0]) {
    throw new TypeError(
      `Cannot measure gradients on y ${
        y instanceof tf.Tensor ? `of shape ${shapeText(y.shape)}` : typeof y
      }: expected one-hot labels [${x.shape[0]}, classes], one row per image of x`,
    );
  }
  if (inputShape.slice(1).some((d, i) => d !== null && d !== x.shape[i + 1])) {
    throw new TypeError(
      `Cannot measure gradients on x of shape ${shapeText(x.shape)}: the model takes ${
        modelShape(inputShape)
      }`,
    );
  }
}

function isConv2d(layer: tf.layers.Layer): boolean {
  return layer.getClassName() === "Conv2D" &&
    (layer as unknown as { dataFormat: string }).dataFormat === "channelsLast";
}

// Runs the model's layers one by one on x, as `model.apply` does, adding `probes[name]` to the
// output of the layers it names: the gradient with respect to a probe of zeros is the gradient
// with respect to that layer's output.
function forward(
  model: tf.LayersModel,
  x: tf.Tensor,
  training: boolean,
  probes: Map<string, tf.Tensor>,
): tf.Tensor {
  const values = new Map<number, tf.Tensor>([[model.inputs[0].id, x]]);
  for (const layer of model.layers) {
    const node = layer.inboundNodes.find((n) =>
      n.inboundLayers.length > 0 && n.inputTensors.every((t) => values.has(t.id))
    );
    if (node === undefined) continue; // the input layer
    const inputs = node.inputTensors.map((t) => values.get(t.id)!);
    // A convolution as its separate ops: the same values, and no gradient for the weights
    // (TF.js's fused convolution computes it eagerly, on the cpu backend at a high cost).
    const result = isConv2d(layer)
      ? conv2dBySeparateOps(layer, inputs[0] as tf.Tensor4D)
      : layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training });
    const outputs = (Array.isArray(result) ? result : [result]) as tf.Tensor[];
    const probe = probes.get(layer.name);
    if (probe !== undefined) outputs[0] = tf.add(outputs[0], probe);
    node.outputTensors.forEach((t, i) => values.set(t.id, outputs[i]));
  }
  return values.get(model.outputs[0].id)!;
}

/**
 * Measures the gradient of the loss (categorical cross-entropy, the batch's mean) with respect to
 * the output of each block of `model`, on the images `x` and one-hot labels `y`: one forward and
 * one backward pass, whose size per block is the root mean square of that gradient (see the
 * module documentation for why the output and not the weights, and for `batchNorm`). The model is
 * left as it was: its batch normalisations' modes and moving averages are restored, and no
 * tensor is left behind.
 *
 * Works on any single-input, single-output model whose last layer gives class probabilities;
 * name its block outputs with `blocks` unless the model is a {@linkcode resNet50}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * import { resNet50 } from "./resnet.ts";
 * const model = resNet50({ inputShape: [37, 37, 3], classes: 2 });
 * const x = tf.randomUniform([2, 37, 37, 3]) as tf.Tensor4D;
 * const y = tf.oneHot([0, 1], 2);
 * const measured = await blockGradients(model, x, y);
 * assertEquals(measured.blocks.length, 16);
 * assertEquals(measured.blocks[0], "res2a");
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export async function blockGradients(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: BlockGradientsOptions = {},
): Promise<BlockGradients> {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TypeError(
      `Cannot measure gradients of model "${model.name}": it has ${model.inputs.length} inputs ` +
        `and ${model.outputs.length} outputs, expected one of each`,
    );
  }
  checkBatch(x, y, model.inputs[0].shape);
  const classes = model.outputs[0].shape[1];
  if (model.outputs[0].shape.length !== 2 || classes !== y.shape[1]) {
    throw new TypeError(
      `Cannot measure gradients on y of shape ${shapeText(y.shape)}: model "${model.name}" ` +
        `outputs ${modelShape(model.outputs[0].shape)}`,
    );
  }
  const mode = options.batchNorm ?? "training";
  checkBatchNorm(mode);
  const names = options.blocks ??
    model.layers.map((l) => l.name).filter((name) => BLOCK_OUTPUT.test(name));
  if (names.length === 0) {
    throw new TypeError(
      `Cannot measure gradients of model "${model.name}": it has no layer named like ` +
        `"res2a_out"; name the layers that end its blocks with the option blocks`,
    );
  }
  const known = new Set(model.layers.map((l) => l.name));
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new RangeError(
      `Cannot measure gradients of model "${model.name}": it has no layer ${
        unknown.map((name) => `"${name}"`).join(", ")
      }`,
    );
  }

  const norms = batchNormLayers(model);
  const modes = norms.map((layer) => layer.fixedTraining);
  const saved = model.nonTrainableWeights.map((w) => tf.clone(w.read()));
  let loss: tf.Tensor, sizes: tf.Tensor;
  try {
    for (const layer of norms) layer.fixedTraining = mode === "training";
    [loss, sizes] = tf.tidy(() => {
      const zeros = names.map((name) => {
        const shape = model.getLayer(name).inboundNodes[0].outputTensors[0].shape;
        return tf.zeros([x.shape[0], ...shape.slice(1) as number[]]);
      });
      const lossOf = (...probes: tf.Tensor[]) => {
        const p = forward(
          model,
          x,
          mode === "training",
          new Map(names.map((n, i) => [n, probes[i]])),
        );
        return tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(lossOf)(zeros);
      return [value, tf.stack(grads.map((g) => tf.sqrt(tf.mean(tf.square(g)))))];
    });
  } finally {
    norms.forEach((layer, i) => (layer.fixedTraining = modes[i]));
    model.nonTrainableWeights.forEach((w, i) => w.write(saved[i]));
    tf.dispose(saved);
  }
  const [lossValue, sizeValues] = await Promise.all([loss.data(), sizes.data()]);
  tf.dispose([loss, sizes]);
  return {
    blocks: names.map((name) => name.match(BLOCK_OUTPUT)?.[1] ?? name),
    sizes: Array.from(sizeValues),
    loss: lossValue[0],
  };
}

/** Options of {@linkcode shortcutGradients}. */
export interface ShortcutGradientsOptions {
  /** Batch normalisation's mode during the measurement (see the module). Default `"training"`. */
  batchNorm?: GradientBatchNorm;
  /** How the two networks draw their initial weights (see {@linkcode Initialization}). */
  initialization?: Initialization;
}

/** What {@linkcode shortcutGradients} measured; displays as its chart. */
export interface ShortcutGradients extends Displayable {
  /** The block names, from the input to the output: `"res2a"` … `"res5c"`. */
  blocks: string[];
  /** Per block, the gradient's root mean square in ResNet-50. */
  withShortcuts: number[];
  /** Per block, the same in the network without shortcuts (`resNet50({ shortcuts: false })`). */
  withoutShortcuts: number[];
  /**
   * The size at the first block divided by the size at the last, per network: how much the
   * gradient grew (above 1) or shrank (below 1) on its way from the output to the input.
   */
  firstToLast: { withShortcuts: number; withoutShortcuts: number };
  /** The loss of the batch in each network. */
  loss: { withShortcuts: number; withoutShortcuts: number };
  /** The batch normalisation mode of the measurement. */
  batchNorm: GradientBatchNorm;
  /** Both curves on a logarithmic axis, block by block. */
  chart: ChartView;
}

const WITH = "ResNet-50 (with shortcuts)";
const WITHOUT = "without shortcuts";

function gradientChart(
  blocks: string[],
  withShortcuts: number[],
  withoutShortcuts: number[],
  batchNorm: GradientBatchNorm,
): ChartView {
  const trace = (name: string, y: number[]) => ({
    type: "scatter",
    mode: "lines+markers",
    name,
    x: blocks,
    y,
    hovertemplate: "%{x}: %{y:.3g}<extra>" + name + "</extra>",
  });
  return chart({
    data: [trace(WITH, withShortcuts), trace(WITHOUT, withoutShortcuts)],
    layout: {
      title: {
        text: `Gradient reaching each block at initialisation (batch normalisation: ${batchNorm})`,
      },
      xaxis: { title: { text: "block, from the input to the output" }, type: "category" },
      yaxis: {
        title: { text: "RMS of ∂loss/∂(block output)" },
        type: "log",
        exponentformat: "power",
      },
      legend: { orientation: "h", y: -0.25 },
      margin: { t: 50, r: 20 },
    },
  });
}

function gradientText(g: Omit<ShortcutGradients, "chart" | symbol>): string {
  const width = Math.max(...g.blocks.map((b) => b.length));
  const rows = g.blocks.map((b, i) =>
    `${b.padEnd(width)}  ${g.withShortcuts[i].toExponential(2).padStart(12)}  ${
      g.withoutShortcuts[i].toExponential(2).padStart(12)
    }`
  );
  return [
    `Gradient RMS at each block's output (batch normalisation: ${g.batchNorm})`,
    `${"block".padEnd(width)}  ${"shortcuts".padStart(12)}  ${"no shortcuts".padStart(12)}`,
    ...rows,
    `first / last block: ${g.firstToLast.withShortcuts.toPrecision(3)} with shortcuts, ` +
    `${g.firstToLast.withoutShortcuts.toPrecision(3)} without`,
  ].join("\n");
}

/**
 * The course's argument for shortcuts, measured: builds ResNet-50 for the shape of `x` and the
 * classes of `y`, and the same network without its shortcuts, measures the gradient reaching
 * each block at initialisation on this one mini-batch ({@linkcode blockGradients}), frees both
 * networks and returns the two curves, which display as a chart with a logarithmic axis.
 *
 * With batch normalisation in training mode (the default, the course's), the plain network's
 * gradient grows far more from the output to the input than ResNet-50's; in inference mode (no
 * normalisation at initialisation) it vanishes, while ResNet-50's stays within a small factor.
 * The initial weights are drawn from `Math.random` (seed it for the same numbers every run)
 * unless `initialization` says `"seed0"`.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const x = tf.randomUniform([2, 37, 37, 3]) as tf.Tensor4D;
 * const y = tf.oneHot([0, 1], 2);
 * const measured = await shortcutGradients(x, y, { batchNorm: "inference" });
 * // Without normalisation and without shortcuts, little gradient reaches the first block.
 * assert(measured.firstToLast.withoutShortcuts < measured.firstToLast.withShortcuts);
 * tf.dispose([x, y]);
 * ```
 */
export async function shortcutGradients(
  x: tf.Tensor,
  y: tf.Tensor,
  options: ShortcutGradientsOptions = {},
): Promise<ShortcutGradients> {
  checkBatch(x, y, [null, null, null, null]);
  const batchNorm = options.batchNorm ?? "training";
  checkBatchNorm(batchNorm);
  const measure = async (shortcuts: boolean) => {
    const model = resNet50({
      inputShape: x.shape.slice(1) as [number, number, number],
      classes: y.shape[1],
      initialization: options.initialization,
      shortcuts,
    });
    try {
      return await blockGradients(model, x, y, { batchNorm });
    } finally {
      model.dispose();
    }
  };
  const residual = await measure(true);
  const plain = await measure(false);
  const ratio = (sizes: number[]) => sizes[0] / sizes[sizes.length - 1];
  const result = {
    blocks: residual.blocks,
    withShortcuts: residual.sizes,
    withoutShortcuts: plain.sizes,
    firstToLast: { withShortcuts: ratio(residual.sizes), withoutShortcuts: ratio(plain.sizes) },
    loss: { withShortcuts: residual.loss, withoutShortcuts: plain.loss },
    batchNorm,
  };
  const view = gradientChart(
    result.blocks,
    result.withShortcuts,
    result.withoutShortcuts,
    batchNorm,
  );
  return displayable({ ...result, chart: view }, (): MimeBundle => ({
    ...view[JUPYTER_DISPLAY](),
    "text/plain": gradientText(result),
  }));
}
