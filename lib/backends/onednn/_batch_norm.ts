// Batch normalisation in training mode as two oneDNN primitives: the forward pass computes the
// batch statistics and the normalised output in one call, the backward pass the gradients of the
// input, scale and offset in one more. TF.js composes the same computation from about twenty
// element-wise kernels (moments, batchNorm and their gradients), each a full pass over the
// activations.
//
// The kernels are named, and their gradient registered, in lib/ops/batch_norm.ts; here they are
// oneDNN's, replacing the ones `onednn` inherits from `wasm`.
import * as tf from "../../tf.ts";
import { Scope } from "../_heap.ts";
import { checkBatchNormInput } from "../../ops/batch_norm.ts";
import type { KernelArgs } from "../_kernel.ts";
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

type Pointer = Deno.PointerValue;

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

/** The training-mode forward pass: y, mean and variance. */
export function batchNormForward(dnnl: Dnnl): (args: KernelArgs) => tf.TensorInfo[] {
  return (args) => {
    const { x, scale, offset } = args.inputs as Record<string, tf.TensorInfo>;
    const epsilon = args.attrs?.epsilon as number;
    checkBatchNormInput(x);
    const { make, view } = Scope.of(args);
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
  };
}

/** Its gradient: dx, dscale and doffset. */
export function batchNormBackward(dnnl: Dnnl): (args: KernelArgs) => tf.TensorInfo[] {
  return (args) => {
    const { dy, x, scale, offset, mean, variance } = args.inputs as Record<
      string,
      tf.TensorInfo
    >;
    const epsilon = args.attrs?.epsilon as number;
    const { make, view } = Scope.of(args);
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
  };
}
