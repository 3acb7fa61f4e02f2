/**
 * What the 1x1 "bottleneck" saves, counted from layers rather than from formulas: the parameters
 * and multiplications of a path of convolutions, for the blocks of ResNet-50 (1x1 F1 -> 3x3 F2 ->
 * 1x1 F3) against two 3x3 convolutions of the block's full width, and for the course notes'
 * example (a 5x5 convolution of 32 filters on 28x28x192, directly or after a 1x1 convolution to
 * 16 channels).
 *
 * Parameters are the layers' own `countParams()` (weights and biases). Multiplications are per
 * image: each output value of a convolution takes one multiplication per weight of one filter, so
 * a layer costs (parameters − biases) × output pixels, with the output size the layer reports.
 * Only convolutions count; batch normalisation and additions are left out.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { type Displayable, displayable, JUPYTER_DISPLAY } from "../display/bundle.ts";
import { table, type TableView } from "../display/table.ts";
import { shapeText } from "../util/format.ts";
import { resNet50 } from "./resnet.ts";

/** One convolution of a path: `filters` outputs of `kernelSize` x `kernelSize`. */
export interface ConvSpec {
  /** The number of filters (output channels). */
  filters: number;
  /** The side of the square kernel. */
  kernelSize: number;
  /** The stride. Default 1. */
  strides?: number;
  /** The padding. Default `"same"`. */
  padding?: "same" | "valid";
}

/** What a path of convolutions costs, from its layers. */
export interface ConvPathCost {
  /** The path in words: `"1x1 64 → 3x3 64 → 1x1 256"` (kernel size, then filters). */
  layers: string;
  /** Weights and biases, summed over the layers' `countParams()`. */
  params: number;
  /** Multiplications per image: each layer's weights (without biases) times its output pixels. */
  multiplies: number;
  /** The output shape of the path, [height, width, channels]. */
  outputShape: [number, number, number];
}

interface LayerCost {
  spec: string;
  params: number;
  multiplies: number;
  outputShape: [number, number, number];
}

// The cost of a built Conv2D layer, from its parameter count and the output shape it reports.
function layerCost(layer: tf.layers.Layer, inputShape: readonly (number | null)[]): LayerCost {
  const [kh, kw, , filters] = layer.getWeights()[0].shape;
  const biases = layer.getWeights().length > 1 ? filters : 0;
  const params = layer.countParams();
  const [, h, w, c] = layer.computeOutputShape([null, ...inputShape.slice(1)]) as number[];
  return {
    spec: `${kh}x${kw} ${filters}`,
    params,
    multiplies: (params - biases) * h * w,
    outputShape: [h, w, c],
  };
}

function pathCost(costs: LayerCost[]): ConvPathCost {
  return {
    layers: costs.map((c) => c.spec).join(" → "),
    params: costs.reduce((n, c) => n + c.params, 0),
    multiplies: costs.reduce((n, c) => n + c.multiplies, 0),
    outputShape: costs[costs.length - 1].outputShape,
  };
}

function checkShape(what: string, shape: readonly number[]): void {
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(
      `Cannot count ${what} for input shape ${
        shapeText(shape)
      }: expected [height, width, channels] of positive integers`,
    );
  }
}

/**
 * Builds the convolutions of `convs` one after the other on an input of `inputShape` (with
 * biases, as Keras's Conv2D has them) and counts their parameters and multiplications per image;
 * the layers are freed before it returns.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * // The course notes: a 5x5 convolution of 32 filters on 28x28x192 takes about 120M multiplies.
 * const direct = convPathCost([28, 28, 192], [{ filters: 32, kernelSize: 5 }]);
 * assertEquals(direct.multiplies, 120_422_400);
 * assertEquals(direct.outputShape, [28, 28, 32]);
 * ```
 */
export function convPathCost(
  inputShape: [number, number, number],
  convs: ConvSpec[],
): ConvPathCost {
  checkShape("convolutions", inputShape);
  if (!Array.isArray(convs) || convs.length === 0) {
    throw new RangeError("Cannot count a path of no convolutions: give at least one");
  }
  const costs: LayerCost[] = [];
  let shape: (number | null)[] = [null, ...inputShape];
  for (const [i, conv] of convs.entries()) {
    const { filters, kernelSize } = conv;
    const strides = conv.strides ?? 1;
    if (![filters, kernelSize, strides].every((n) => Number.isInteger(n) && n > 0)) {
      throw new RangeError(
        `Cannot count convolution ${i + 1} (filters ${filters}, kernel size ${kernelSize}, ` +
          `strides ${strides}): expected positive integers`,
      );
    }
    const layer = tf.layers.conv2d({
      filters,
      kernelSize,
      strides,
      padding: conv.padding ?? "same",
      kernelInitializer: "zeros",
    });
    try {
      layer.build(shape);
      const cost = layerCost(layer, shape);
      costs.push(cost);
      shape = [null, ...cost.outputShape];
    } finally {
      tf.dispose(layer.getWeights());
    }
  }
  return pathCost(costs);
}

/** One comparison of {@linkcode bottleneckSavings}. */
export interface BottleneckComparison {
  /** Where the comparison comes from: `"stage 2 (res2b)"`, or the course notes' example. */
  where: string;
  /** The input of both paths, [height, width, channels]. */
  input: [number, number, number];
  /** The path through the 1x1 bottleneck. */
  withBottleneck: ConvPathCost;
  /** The path without it: two 3x3 convolutions of full width, or the notes' single 5x5. */
  without: ConvPathCost;
}

/** The comparisons of {@linkcode bottleneckSavings}; displays as a table in millions. */
export interface BottleneckSavings extends Displayable {
  /** One comparison per stage of ResNet-50, then the course notes' example. */
  comparisons: BottleneckComparison[];
  /** The comparisons as a table, parameters and multiplications in millions. */
  table: TableView;
}

const STAGES = [2, 3, 4, 5];
const round2 = (n: number) => Math.round(n * 100) / 100;
const millions = (n: number) => round2(n / 1e6);

// The main path of the block `name` of a ResNet-50 (three Conv2D layers named `<name>_conv_a`,
// `_conv_b`, `_conv_c`), costed from the model's own layers.
function blockPath(model: tf.LayersModel, name: string): [[number, number, number], ConvPathCost] {
  const layers = ["a", "b", "c"].map((part) => {
    const layer = model.layers.find((l) => l.name === `${name}_conv_${part}`);
    if (layer === undefined || layer.getClassName() !== "Conv2D") {
      throw new TypeError(
        `Cannot count the bottleneck of model "${model.name}": it has no Conv2D layer ` +
          `"${name}_conv_${part}" (expected a model built by resNet50())`,
      );
    }
    return layer;
  });
  const shapes = layers.map((l) => l.inboundNodes[0].inputTensors[0].shape);
  const [, h, w, c] = shapes[0] as number[];
  return [[h, w, c], pathCost(layers.map((l, i) => layerCost(l, shapes[i])))];
}

/**
 * What the 1x1 bottleneck saves in ResNet-50 and in the course notes' example. For each stage,
 * the main path of its first identity block (`res2b`, `res3b`, …), costed from the layers of
 * `model`, against two 3x3 convolutions of the block's full width at the same input size, built
 * for the purpose; then the notes' 5x5 convolution of 32 filters on 28x28x192 (about 120.4
 * million multiplications) against the same after a 1x1 convolution to 16 channels (about 12.4
 * million). Without `model`, a {@linkcode resNet50} is built (64x64x3) and freed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const savings = bottleneckSavings();
 * const notes = savings.comparisons[4];
 * assertEquals([notes.without.multiplies, notes.withBottleneck.multiplies], [120_422_400, 12_443_648]);
 * assertEquals(savings.table.rows[0]?.slice(0, 3), ["stage 2 (res2b)", "15x15x256", "1x1 64 → 3x3 64 → 1x1 256"]);
 * ```
 */
export function bottleneckSavings(model?: tf.LayersModel): BottleneckSavings {
  const built = model ?? resNet50();
  const comparisons: BottleneckComparison[] = [];
  try {
    for (const stage of STAGES) {
      const name = `res${stage}b`;
      const [input, withBottleneck] = blockPath(built, name);
      const width = { filters: input[2], kernelSize: 3 };
      comparisons.push({
        where: `stage ${stage} (${name})`,
        input,
        withBottleneck,
        without: convPathCost(input, [width, width]),
      });
    }
  } finally {
    if (model === undefined) built.dispose();
  }
  const notes: [number, number, number] = [28, 28, 192];
  comparisons.push({
    where: "course notes: 5x5, 32 filters",
    input: notes,
    withBottleneck: convPathCost(notes, [{ filters: 16, kernelSize: 1 }, {
      filters: 32,
      kernelSize: 5,
    }]),
    without: convPathCost(notes, [{ filters: 32, kernelSize: 5 }]),
  });
  const view = table(
    comparisons.map((c) => ({
      where: c.where,
      input: c.input.join("x"),
      "with bottleneck": c.withBottleneck.layers,
      "params (M)": millions(c.withBottleneck.params),
      "multiplies (M)": millions(c.withBottleneck.multiplies),
      without: c.without.layers,
      "params without (M)": millions(c.without.params),
      "multiplies without (M)": millions(c.without.multiplies),
      "times fewer multiplies": round2(c.without.multiplies / c.withBottleneck.multiplies),
    })),
    {
      decimals: 2,
      caption: "Convolutions only, multiplications per image; M: millions",
    },
  );
  return displayable({ comparisons, table: view }, () => view[JUPYTER_DISPLAY]());
}
