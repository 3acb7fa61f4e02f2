// The training-mode batch normalisation kernels of lib/ops/batch_norm.ts for the `wasm` backend:
// the SIMD code of _simd.c, working on the tensors in the WebAssembly heap, and the update of the
// moving averages (a few thousand values a layer) in JavaScript on the same memory.
import * as tf from "../../tf.ts";
import { checkBatchNormInput } from "../../ops/batch_norm.ts";
import { Scope, type WasmBackend } from "../_heap.ts";
import type { KernelArgs } from "../_kernel.ts";
import { simdKernels } from "./_simd.ts";

// What both kernels start with: the input checked, its channels and rows, a scope for their
// tensors and the heap address of a tensor.
function start(args: KernelArgs) {
  const { x } = args.inputs as Record<string, tf.TensorInfo>;
  checkBatchNormInput(x);
  const c = x.shape[3];
  const scope = new Scope(args.backend as WasmBackend);
  return {
    c,
    rows: tf.util.sizeFromShape(x.shape) / c,
    scope,
    simd: simdKernels(scope.backend),
    p: (t: tf.TensorInfo) => scope.pointer(t),
    epsilon: args.attrs?.epsilon as number,
  };
}

/** The forward pass: y, mean and variance. */
export function batchNormForward(args: KernelArgs): tf.TensorInfo[] {
  const { x, scale, offset } = args.inputs as Record<string, tf.TensorInfo>;
  const { c, rows, scope, simd, p, epsilon } = start(args);
  const y = scope.alloc(x.shape);
  const mean = scope.alloc([c]);
  const variance = scope.alloc([c]);
  const scratch = scope.alloc([2 * c]); // c doubles, then c floats
  simd.bn_stats(p(x), p(mean), p(variance), rows, c, p(scratch));
  simd.bn_normalize(
    p(x),
    p(mean),
    p(variance),
    p(scale),
    p(offset),
    p(y),
    rows,
    c,
    epsilon,
    p(scratch),
  );
  return scope.results([y, mean, variance]);
}

/** The gradient: dx, dscale and doffset. */
export function batchNormBackward(args: KernelArgs): tf.TensorInfo[] {
  const { dy, x, scale, mean, variance } = args.inputs as Record<string, tf.TensorInfo>;
  const { c, rows, scope, simd, p, epsilon } = start(args);
  const dx = scope.alloc(x.shape);
  const dscale = scope.alloc([c]);
  const doffset = scope.alloc([c]);
  const sums = scope.alloc([4 * c]); // 2·c doubles
  const coefficients = scope.alloc([3 * c]);
  simd.bn_grad(
    p(dy),
    p(x),
    p(mean),
    p(variance),
    p(scale),
    p(dx),
    p(dscale),
    p(doffset),
    rows,
    c,
    epsilon,
    p(sums),
    p(coefficients),
  );
  return scope.results([dx, dscale, doffset]);
}

/** The new moving mean and variance, each `moving - (moving - batch) · decay` in float32. */
export function movingAverages(args: KernelArgs): tf.TensorInfo[] {
  const { movingMean, movingVariance, mean, variance } = args.inputs as Record<
    string,
    tf.TensorInfo
  >;
  const decay = Math.fround(args.attrs?.decay as number);
  const { make, view } = Scope.of(args);
  return [[movingMean, mean], [movingVariance, variance]].map(([moving, batch]) => {
    const out = make(moving.shape);
    const [m, b, o] = [moving, batch, out].map(view);
    // every step rounded to float32, as TF.js's Sub, Mul and Sub kernels round it
    for (let i = 0; i < o.length; i++) o[i] = m[i] - Math.fround(Math.fround(m[i] - b[i]) * decay);
    return out;
  });
}
