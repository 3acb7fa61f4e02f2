// Batch normalisation in training mode as two oneDNN primitives: the forward pass computes the
// batch statistics and the normalised output in one call, the backward pass the gradients of the
// input, scale and offset in one more. TF.js composes the same computation from about twenty
// element-wise kernels (moments, batchNorm and their gradients), each a full pass over the
// activations.
//
// The operation is a kernel of the `onednn` backend with its own gradient; `batchNormLayerCall`
// lets a Keras-style BatchNormalization layer use it when that backend is active.
import * as tf from "../tf.ts";
import { heapOf } from "../wasm/_heap.ts";
import { check, DNNL, type Dnnl } from "./_ffi.ts";
import {
  Cache,
  denseDesc,
  descPointer as ptr,
  pinned,
  Primitive,
  taggedDesc,
  writeInto,
} from "./_primitive.ts";

/** Kernel name of the training-mode forward pass: inputs x, scale, offset; outputs y, mean, variance. */
export const BATCH_NORM_TRAINING = "OnednnBatchNormTraining";
/** Kernel name of its gradient: inputs dy, x, scale, offset, mean, variance; outputs dx, dscale,
 * doffset (oneDNN asks for the offset, though the gradients do not depend on it). */
export const BATCH_NORM_TRAINING_GRAD = "OnednnBatchNormTrainingGrad";

type Pointer = Deno.PointerValue;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap };

/** The two primitives of one input shape [n, h, w, c] and epsilon. */
class BatchNormPlan {
  readonly data: Uint8Array;
  readonly stats: Uint8Array;
  readonly forward: Primitive;
  readonly backward: Primitive;

  constructor(dnnl: Dnnl, readonly shape: readonly number[], epsilon: number) {
    const [n, h, w, c] = shape;
    const what = `batch normalisation of [${shape}] (epsilon ${epsilon})`;
    this.data = taggedDesc(dnnl, [n, c, h, w], DNNL.tag.nhwc, what);
    this.stats = denseDesc(dnnl, [c], what);
    const flags = DNNL.batchNormFlags.useScale | DNNL.batchNormFlags.useShift;
    const forwardDesc = new Uint8Array(DNNL.batchNormDescBytes);
    check(
      dnnl.fn.dnnl_batch_normalization_forward_desc_init(
        forwardDesc,
        DNNL.prop.forwardTraining,
        this.data,
        epsilon,
        flags,
      ),
      `${what}: forward descriptor`,
    );
    this.forward = Primitive.create(dnnl, forwardDesc, `forward ${what}`);
    const backwardDesc = new Uint8Array(DNNL.batchNormDescBytes);
    check(
      dnnl.fn.dnnl_batch_normalization_backward_desc_init(
        backwardDesc,
        DNNL.prop.backward,
        this.data,
        this.data,
        epsilon,
        flags,
      ),
      `${what}: backward descriptor`,
    );
    this.backward = Primitive.create(dnnl, backwardDesc, `backward ${what}`, this.forward.pd);
  }

  destroy(): void {
    this.forward.destroy();
    this.backward.destroy();
  }
}

const plans = new Cache<BatchNormPlan>(256, (plan) => plan.destroy());

function planFor(dnnl: Dnnl, shape: readonly number[], epsilon: number): BatchNormPlan {
  return plans.get(`${shape}|${epsilon}`, () => new BatchNormPlan(dnnl, shape, epsilon));
}

/** Whether the native kernels handle this input: float32 NHWC with the channels last. */
function supported(x: tf.TensorInfo): boolean {
  return x.dtype === "float32" && x.shape.length === 4 && x.shape.every((d) => d > 0);
}

/** Registers the two kernels for the `onednn` backend and the gradient (once). */
export function registerBatchNormKernels(dnnl: Dnnl): void {
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING,
    backendName: "onednn",
    kernelFunc: ((args: KernelArgs): tf.TensorInfo[] => {
      const { x, scale, offset } = args.inputs as Record<string, tf.TensorInfo>;
      const epsilon = args.attrs?.epsilon as number;
      if (!supported(x)) {
        throw new TypeError(
          `Cannot run ${BATCH_NORM_TRAINING} on a ${x.dtype} tensor of shape [${x.shape}]: ` +
            "expected float32 [batch, height, width, channels]",
        );
      }
      const { make, view } = heapOf(args);
      const c = x.shape[3];
      const y = make(x.shape);
      const mean = make([c]);
      const variance = make([c]);
      const plan = planFor(dnnl, x.shape, epsilon);
      const meanOut = view(mean);
      const varianceOut = view(variance);
      writeInto(
        meanOut,
        (meanTarget) =>
          writeInto(varianceOut, (varianceTarget) =>
            plan.forward.execute([
              [DNNL.arg.src, ptr(plan.data), pinned(view(x))],
              [DNNL.arg.scale, ptr(plan.stats), pinned(view(scale))],
              [DNNL.arg.shift, ptr(plan.stats), pinned(view(offset))],
              [DNNL.arg.dst, ptr(plan.data), view(y)],
              [DNNL.arg.mean, ptr(plan.stats), meanTarget],
              [DNNL.arg.variance, ptr(plan.stats), varianceTarget],
            ])),
      );
      return [y, mean, variance];
    }) as unknown as tf.KernelFunc,
  });

  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING_GRAD,
    backendName: "onednn",
    kernelFunc: ((args: KernelArgs): tf.TensorInfo[] => {
      const { dy, x, scale, offset, mean, variance } = args.inputs as Record<
        string,
        tf.TensorInfo
      >;
      const epsilon = args.attrs?.epsilon as number;
      const { make, view } = heapOf(args);
      const c = x.shape[3];
      const dx = make(x.shape);
      const dscale = make([c]);
      const doffset = make([c]);
      const plan = planFor(dnnl, x.shape, epsilon);
      writeInto(
        view(dscale),
        (scaleTarget) =>
          writeInto(view(doffset), (offsetTarget) =>
            plan.backward.execute([
              [DNNL.arg.src, ptr(plan.data), pinned(view(x))],
              [DNNL.arg.diffDst, ptr(plan.data), pinned(view(dy))],
              [DNNL.arg.mean, ptr(plan.stats), pinned(view(mean))],
              [DNNL.arg.variance, ptr(plan.stats), pinned(view(variance))],
              [DNNL.arg.scale, ptr(plan.stats), pinned(view(scale))],
              [DNNL.arg.shift, ptr(plan.stats), pinned(view(offset))],
              [DNNL.arg.diffSrc, ptr(plan.data), view(dx)],
              [DNNL.arg.diffScale, ptr(plan.stats), scaleTarget],
              [DNNL.arg.diffShift, ptr(plan.stats), offsetTarget],
            ])),
      );
      return [dx, dscale, doffset];
    }) as unknown as tf.KernelFunc,
  });

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
 * Differentiable with respect to x, scale and offset. Needs the `onednn` backend active. The
 * caller owns the three tensors.
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
 * averages updated with the layer's momentum), through the native kernels; `null` when they do
 * not apply (another backend active, inference, not a 4-D float input normalised over its last
 * axis, no scale or offset), and the layer's own code should run.
 */
export function batchNormLayerCall(
  layer: object,
  inputs: tf.Tensor | tf.Tensor[],
  training: boolean,
): tf.Tensor | null {
  if (!training || tf.getBackend() !== "onednn") return null;
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
