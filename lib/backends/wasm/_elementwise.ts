// Element-wise kernels and per-channel reductions on `wasm`:
//
// - Add of a per-channel vector to a large tensor (a bias; the backend's computes every broadcast
//   index): a SIMD kernel.
// - Identity (the backend's copies): shares the input's memory.
// - Cast to bool (the backend's truncates to a byte, so 0.5 becomes false and 256 false, -1 255):
//   1 for every value that is not 0, as on the other backends. A cast to the same type (the
//   backend's copies) shares the memory.
// - Sum and Mean over all axes but the last (per-channel gradients of biases and batch
//   normalisation; the backend's transpose the whole tensor first): a SIMD kernel summing in
//   double precision.
// - ReluGrad (new, lib/ops/relu_grad.ts): the ReLU's gradient dy · step(x) in one pass instead of
//   three kernels.
import * as tf from "../../tf.ts";
import { Scope, type WasmBackend } from "../_heap.ts";
import { type KernelArgs, shippedWasmKernel } from "../_kernel.ts";
import { simdKernels } from "./_simd.ts";

// Add of a per-channel vector to a large tensor (a convolution's bias): the wasm kernel computes
// every broadcast index from scratch; here the vector is added row by row. IEEE float32 addition
// gives the same values either way.
const BIAS_ADD_MIN_SIZE = 1 << 15;

export function add(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [big, bias] = tf.util.sizeFromShape(a.shape) >= tf.util.sizeFromShape(b.shape)
    ? [a, b]
    : [b, a];
  const channels = big.shape.at(-1) ?? 0;
  const perChannel = bias.shape.length <= big.shape.length && bias.shape.at(-1) === channels &&
    bias.shape.slice(0, -1).every((d) => d === 1);
  if (
    a.dtype !== "float32" || b.dtype !== "float32" || !perChannel ||
    tf.util.sizeFromShape(big.shape) < BIAS_ADD_MIN_SIZE
  ) {
    return shippedWasmKernel("Add")(args) as tf.TensorInfo;
  }
  const scope = new Scope(args.backend as WasmBackend);
  const out = scope.alloc(big.shape);
  const rows = tf.util.sizeFromShape(big.shape) / channels;
  simdKernels(scope.backend).add_rows(
    scope.pointer(big),
    scope.pointer(bias),
    scope.pointer(out),
    rows,
    channels,
  );
  return scope.result(out);
}

// Identity shares its input's memory, as Reshape does (tensors are immutable); the wasm kernel
// copies it, several times per training step for full-size activations.
export function identity(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === "string") return shippedWasmKernel("Identity")(args) as tf.TensorInfo;
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export // Sum or Mean over every axis but the last (the bias and batch-norm gradients, per channel):
// the wasm kernels transpose the whole tensor first so that the reduced axes come last.
function reduceLeading(kind: "Sum" | "Mean") {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = (args.attrs ?? {}) as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== "float32") return shippedWasmKernel(kind)(args) as tf.TensorInfo;
    const channels = x.shape[rank - 1];
    const outShape = keepDims ? [...new Array(rank - 1).fill(1), channels] : [channels];
    const rows = tf.util.sizeFromShape(x.shape) / channels;
    const scope = new Scope(args.backend as WasmBackend);
    const sums = scope.alloc([2 * channels]); // float64 accumulators
    const out = scope.alloc(outShape);
    simdKernels(scope.backend).sum_rows(
      scope.pointer(x),
      scope.pointer(out),
      rows,
      channels,
      kind === "Mean" ? 1 / rows : 1,
      scope.pointer(sums),
    );
    return scope.result(out);
  };
}

export function cast(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const dtype = args.attrs?.dtype as tf.DataType;
  // A cast to the tensor's own type (the ReLU gradient casts its input to float32) shares it.
  if (dtype === x.dtype) return identity(args);
  if (dtype !== "bool" || !(x.dtype === "float32" || x.dtype === "int32")) {
    return shippedWasmKernel("Cast")(args as never) as tf.TensorInfo;
  }
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(x.shape, "bool");
  // views are taken after the allocation, which may grow (and move) the heap
  const values = backend.typedArrayFromHeap(x);
  const flags = backend.typedArrayFromHeap(out);
  for (let i = 0; i < values.length; i++) flags[i] = values[i] !== 0 ? 1 : 0;
  return out;
}

// The ReLU's gradient (lib/ops/relu_grad.ts) in one pass.
export function reluGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const scope = new Scope(args.backend as WasmBackend);
  const out = scope.alloc(x.shape);
  simdKernels(scope.backend).relu_grad(
    scope.pointer(dy),
    scope.pointer(x),
    scope.pointer(out),
    tf.util.sizeFromShape(x.shape),
  );
  return scope.result(out);
}
