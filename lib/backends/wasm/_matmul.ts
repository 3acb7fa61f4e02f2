// BatchMatMul with transpose flags on `wasm` (the backend's falls back to a naive loop for
// them): transposes explicitly, then multiplies with XNNPACK.
import * as tf from "../../tf.ts";
import { Scope, type WasmBackend } from "../_heap.ts";
import { type KernelArgs, shippedWasmKernel } from "../_kernel.ts";

export function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = (args.attrs ?? {}) as {
    transposeA?: boolean;
    transposeB?: boolean;
  };
  if (!transposeA && !transposeB) return shippedWasmKernel("BatchMatMul")(args) as tf.TensorInfo;
  const scope = new Scope(args.backend as WasmBackend);
  const swapLast = (t: tf.TensorInfo) => {
    const perm = t.shape.map((_, i) => i);
    perm.splice(-2, 2, t.shape.length - 1, t.shape.length - 2);
    return scope.run("Transpose", { x: t }, { perm });
  };
  const product = scope.run("BatchMatMul", {
    a: transposeA ? swapLast(a) : a,
    b: transposeB ? swapLast(b) : b,
  }, { transposeA: false, transposeB: false });
  return scope.result(product);
}
