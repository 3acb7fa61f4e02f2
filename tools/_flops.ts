// Floating-point operations of a training step, counted from a model's layers, for the benchmarks'
// GFLOP/s figures.
import * as tf from "../lib/tf.ts";

/** Floating-point operations (a multiply-add counts 2) of a model, per image. */
export interface ModelFlops {
  /** A forward pass of the convolutions and dense layers. */
  forward: number;
  /** The convolutions' part of {@linkcode ModelFlops.forward}. */
  convolutionForward: number;
  /**
   * A training step: the forward pass, the input gradient (none for the first layer with weights,
   * whose input needs none) and the weight gradient of every convolution and dense layer.
   */
  trainingStep: number;
  /** The convolutions' part of {@linkcode ModelFlops.trainingStep}. */
  convolutionTrainingStep: number;
}

// Multiply-adds of one image through a Conv2D or Dense layer, or 0 for any other layer.
function multiplyAdds(layer: tf.layers.Layer): { macs: number; convolution: boolean } {
  const kind = layer.getClassName();
  if (kind !== "Conv2D" && kind !== "Dense") return { macs: 0, convolution: false };
  const kernel = layer.getWeights()[0];
  const weights = kernel.shape.reduce((a, b) => a * b, 1); // kh·kw·ci·co, or in·out
  if (kind === "Dense") return { macs: weights, convolution: false };
  const [, oh, ow] = layer.outputShape as number[];
  return { macs: weights * oh * ow, convolution: true };
}

/**
 * The floating-point operations of `model` per image: the batch-norm, activation, pooling and
 * add layers are left out (a few per cent of the convolutions' count).
 */
export function modelFlops(model: tf.LayersModel): ModelFlops {
  const counts = { forward: 0, convolutionForward: 0, trainingStep: 0, convolutionTrainingStep: 0 };
  let first = true;
  for (const layer of model.layers) {
    const { macs, convolution } = multiplyAdds(layer);
    if (macs === 0) continue;
    const forward = 2 * macs;
    const step = forward * (first ? 2 : 3);
    first = false;
    counts.forward += forward;
    counts.trainingStep += step;
    if (convolution) {
      counts.convolutionForward += forward;
      counts.convolutionTrainingStep += step;
    }
  }
  return counts;
}
