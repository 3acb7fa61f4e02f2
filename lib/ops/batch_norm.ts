// Batch normalisation in training mode as two kernels with their own gradient: the forward pass
// computes the batch statistics and the normalised output in one call, the backward pass the
// gradients of the input, scale and offset in one more. TF.js composes the same computation from
// about twenty element-wise kernels (moments, batchNorm and their gradients), each a full pass
// over the activations.
//
// This module names the kernels and registers their gradient; the backends that have them
// register the kernels (lib/backends/wasm/_batch_norm.ts, lib/backends/onednn/_batch_norm.ts).
// `batchNormLayerCall` lets a Keras-style BatchNormalization layer use them when the active backend
// has them, and tells it to run its own code (TF.js's composition) otherwise.
import * as tf from "../tf.ts";
import { shapeText } from "../util/format.ts";

/** Kernel name of the training-mode forward pass: inputs x, scale, offset; outputs y, mean, variance. */
export const BATCH_NORM_TRAINING = "BatchNormTraining";
/** Kernel name of its gradient: inputs dy, x, scale, offset, mean, variance; outputs dx, dscale,
 * doffset (oneDNN asks for the offset, though the gradients do not depend on it). */
export const BATCH_NORM_TRAINING_GRAD = "BatchNormTrainingGrad";

/** Kernel name of the update of a layer's moving averages: inputs movingMean, movingVariance,
 * mean, variance; attribute decay (1 - momentum); outputs the new moving mean and variance,
 * `moving - (moving - batch) · decay` in float32 as TF.js's three kernels per average compute it. */
export const MOVING_AVERAGES = "BatchNormMovingAverages";

/** Throws a clear error unless the kernels handle `x`: float32 NHWC, nothing empty. */
export function checkBatchNormInput(x: tf.TensorInfo): void {
  if (x.dtype !== "float32" || x.shape.length !== 4 || !x.shape.every((d) => d > 0)) {
    throw new TypeError(
      `Cannot run ${BATCH_NORM_TRAINING} on a ${x.dtype} tensor of shape ${shapeText(x.shape)}: ` +
        "expected float32 [batch, height, width, channels]",
    );
  }
}

let gradientRegistered = false;

/** The gradient of {@linkcode BATCH_NORM_TRAINING}, whichever backend runs it (once). */
export function registerBatchNormGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  // The batch statistics carry no gradient (the layer only feeds them to its moving averages).
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ["x", "scale", "offset"],
    outputsToSave: [false, true, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [x, scale, offset, mean, variance] = saved;
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [dx, dscale, doffset] = tf.engine().runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { dy, x, scale, offset, mean, variance } as unknown as tf.NamedTensorMap,
        attrs,
      ) as tf.Tensor[];
      return { x: () => dx, scale: () => dscale, offset: () => doffset };
    },
  });
}

/**
 * Training-mode batch normalisation over all axes but the last of a 4-D tensor: the normalised
 * output and the batch mean and (biased) variance, as `tf.moments` and `tf.batchNorm` give them.
 * Differentiable with respect to x, scale and offset. Needs a backend with the kernels (`wasm`,
 * `onednn`) active. The caller owns the three tensors.
 */
export function batchNormTraining(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel(
    BATCH_NORM_TRAINING,
    { x, scale, offset } as unknown as tf.NamedTensorMap,
    { epsilon },
  ) as unknown as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
}

/** The parts of TF.js's BatchNormalization layer that training mode reads and writes. */
interface BatchNormLayerState {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor };
  beta: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void };
}

/**
 * What TF.js's `BatchNormalization.call` computes in training mode (normalised output; moving
 * averages updated with the layer's momentum), through the kernels above; `null` when they do
 * not apply (a backend without them active, inference, not a 4-D float input normalised over its
 * last axis, no scale or offset), and the layer's own code should run.
 */
export function batchNormLayerCall(
  layer: object,
  inputs: tf.Tensor | tf.Tensor[],
  training: boolean,
): tf.Tensor | null {
  if (!training || !tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend())) return null;
  const input = Array.isArray(inputs) ? inputs[0] : inputs;
  if (Array.isArray(inputs) && inputs.length !== 1) return null;
  const state = layer as BatchNormLayerState;
  const rank = input.shape.length;
  const axis = state.axis >= 0 ? state.axis : state.axis + rank;
  if (rank !== 4 || axis !== 3 || input.dtype !== "float32" || !state.center || !state.scale) {
    return null;
  }
  return tf.tidy(() => {
    const [y, mean, variance] = batchNormTraining(
      input as tf.Tensor4D,
      state.gamma.read() as tf.Tensor1D,
      state.beta.read() as tf.Tensor1D,
      state.epsilon,
    );
    const decay = 1 - state.momentum;
    if (tf.getKernel(MOVING_AVERAGES, tf.getBackend())) {
      // one kernel for both averages, where TF.js runs six (and makes a scalar for each product)
      const [movingMean, movingVariance] = tf.engine().runKernel(
        MOVING_AVERAGES,
        {
          movingMean: state.movingMean.read(),
          movingVariance: state.movingVariance.read(),
          mean,
          variance,
        } as unknown as tf.NamedTensorMap,
        { decay },
      ) as tf.Tensor[];
      state.movingMean.write(movingMean);
      state.movingVariance.write(movingVariance);
      return y;
    }
    for (
      const [variable, value] of [[state.movingMean, mean], [
        state.movingVariance,
        variance,
      ]] as const
    ) {
      tf.tidy(() => {
        const previous = variable.read();
        variable.write(tf.sub(previous, tf.mul(tf.sub(previous, value), decay)));
      });
    }
    return y;
  });
}
