// Max pooling's gradient on `wasm` (the backend's own is a slow generic loop): a SIMD kernel of
// _simd.c, 4 channels at a time, or a direct loop in JavaScript for other channel counts.
import * as tf from "../../tf.ts";
import { Scope, type WasmBackend } from "../_heap.ts";
import type { KernelArgs } from "../_kernel.ts";
import { simdKernels } from "./_simd.ts";

// MaxPoolGrad: each output position sends its gradient to the first maximum of its window (the
// wasm kernel for this is a slow generic loop). The forward pass's output, when given, holds each
// window's maximum, so the search can stop at the first value equal to it.
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, input, output } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  if (!dy || !input) throw new Error("MaxPoolGrad needs the inputs dy and input");
  const attrs = (args.attrs ?? {}) as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: "same" | "valid" | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [n, h, w, c] = input.shape;
  const { outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  if (output && c % 4 === 0 && input.dtype === "float32") {
    const scope = new Scope(args.backend as WasmBackend);
    const dx = scope.alloc(input.shape);
    const unresolved = simdKernels(scope.backend).max_pool_grad(
      scope.pointer(input),
      scope.pointer(output),
      scope.pointer(dy),
      scope.pointer(dx),
      n,
      h,
      w,
      c,
      outHeight,
      outWidth,
      filterHeight,
      filterWidth,
      strideHeight,
      strideWidth,
      top,
      left,
    );
    // NaN maxima (or none equal to its window's maximum): the full search below.
    if (unresolved === 0) return scope.result(dx);
    scope.result(null);
  }
  const { make, view } = Scope.of(args);
  const dx = make(input.shape);
  const x = view(input);
  const g = view(dy);
  const out = view(dx);
  const maxima = output ? view(output) : null;
  out.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < outHeight; i++) {
      const r0 = Math.max(i * strideHeight - top, 0);
      const r1 = Math.min(i * strideHeight - top + filterHeight, h);
      for (let j = 0; j < outWidth; j++) {
        const c0 = Math.max(j * strideWidth - left, 0);
        const c1 = Math.min(j * strideWidth - left + filterWidth, w);
        const from = ((b * outHeight + i) * outWidth + j) * c;
        const corner = ((b * h + r0) * w + c0) * c;
        for (let k = 0; k < c; k++) {
          const best = firstMaximum(
            x,
            corner + k,
            r1 - r0,
            c1 - c0,
            w * c,
            c,
            maxima ? maxima[from + k] : NaN,
          );
          if (best >= 0) out[best] += g[from + k];
        }
      }
    }
  }
  return dx;
}

// The index of the first largest value of a window (rows of `width` values `step` apart, rows
// `rowStep` apart, from `start`), or -1 when none is above -Infinity (all -Infinity or NaN), as
// on the cpu backend. `maximum` is the window's largest value when known (else NaN): the first
// value equal to it is the answer, found without the unpredictable branches of a running maximum.
function firstMaximum(
  x: Float32Array,
  start: number,
  height: number,
  width: number,
  rowStep: number,
  step: number,
  maximum: number,
): number {
  if (maximum > -Infinity) {
    for (let r = 0; r < height; r++) {
      let at = start + r * rowStep;
      for (let col = 0; col < width; col++) {
        if (x[at] === maximum) return at;
        at += step;
      }
    }
  }
  let best = -1;
  let bestValue = -Infinity;
  for (let r = 0; r < height; r++) {
    let at = start + r * rowStep;
    for (let col = 0; col < width; col++) {
      const value = x[at];
      if (value > bestValue) {
        bestValue = value;
        best = at;
      }
      at += step;
    }
  }
  return best;
}
