// Training kernels for TF.js's wasm backend, built from its fast kernels (XNNPACK convolutions and
// matrix products), layout moves in JavaScript, and SIMD kernels of our own (_simd.c, which work
// on the backend's memory in place):
//
// - Conv2DBackpropFilter (missing in the wasm backend). For an input of at most 4 channels (a
//   model's first layer), a direct SIMD kernel over the padded input. For a 1x1 convolution,
//   dW = xᵀ·dy (x subsampled first for stride s). For a kxk one,
//   dW[a,b,i,o] = Σ x[n, a+s·p-pt, b+s·q-pl, i] · dy[n,p,q,o]: a stride-1 convolution of x laid
//   out as [Ci, H, W, N] with dy laid out as the filter [OH, OW, N, Co], dilated by s, giving
//   [Ci, k, k, Co], transposed to [k, k, Ci, Co].
// - Conv2DBackpropInput (the wasm backend's is a slow reference loop). For a 1x1 convolution,
//   dx = dy·Wᵀ, scattered back to every s-th position for stride s. For a kxk one, a stride-1
//   convolution of dy (zero-interleaved for stride s) with W rotated by 180° and its channels
//   swapped, padded k-1-pt before and H-OH'+pt after.
// - Tile (used by batch normalisation's gradient; the wasm one is slow): copies in JavaScript.
// - BatchMatMul with transpose flags (the wasm one falls back to a naive loop): transposes
//   explicitly, then multiplies.
// - MaxPoolGrad (the wasm one is a slow generic loop): a SIMD kernel, 4 channels at a time, or a
//   direct loop in JavaScript for other channel counts.
// - Add of a per-channel vector to a large tensor (a bias; the wasm one computes every broadcast
//   index): a SIMD kernel. Identity (the wasm one copies): shares the input's memory.
// - Sum and Mean over all axes but the last (per-channel gradients of biases and batch
//   normalisation; the wasm ones transpose the whole tensor first): a SIMD kernel summing in
//   double precision.
// - Cast to bool (the wasm one truncates to a byte, so 0.5 becomes false and 256 false, -1 255):
//   1 for every value that is not 0, as on the other backends. A cast to the same type (the wasm
//   one copies) shares the memory.
// - GatherV2 (the wasm one moves one value at a time through a generic index loop; fitting a
//   model gathers every mini-batch from the training set, which took longer than training the
//   baseline): whole slices copied at once.
// - ReluGrad (new): the ReLU's gradient dy · step(x) in one pass instead of three kernels; TF.js's
//   gradient of Relu is registered again to use it where the backend has it.
// - Adam's update (_optimizer.ts): one pass per variable instead of about ten kernels.
// - Batch normalisation in training mode (_batch_norm.ts): statistics and output in one kernel,
//   the three gradients in another, instead of about twenty element-wise kernels.
//
// Any case these formulations do not cover (dilated or grouped
// convolutions, channels-first data, odd paddings) is handed to the wasm backend's own kernel.
import * as tf from "../../tf.ts";
import { heapOf, keepOriginal, originalKernel, Scope, type WasmBackend } from "../_heap.ts";
import { rotateAndSwap, scatter, subsample, tile, transpose2d } from "./_layout.ts";
import { type ConvGeometry, convGeometry as geometry } from "../_conv_geometry.ts";
import { simdKernels } from "./_simd.ts";
import { ADAM_UPDATE } from "../../ops/adam.ts";
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from "../../ops/batch_norm.ts";
import { registerAdamKernel } from "./_optimizer.ts";
import { registerWasmBatchNormKernels } from "./_batch_norm.ts";
import type { KernelArgs } from "../_kernel.ts";

function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const g = geometry(x.shape, attrs.filterShape as number[], attrs);
  if (!g) throw new Error("Conv2DBackpropFilter on wasm supports NHWC data without dilation only");
  const scope = new Scope(args.backend as WasmBackend);
  if (simdConv(g)) {
    // The filter is small and the input has few channels (a model's first convolution): one
    // SIMD pass over the padded input and dy, without the transposes and the repacking of the
    // large "filter" dy that the formulation below needs on every call.
    const lanes = Math.ceil((g.kw * g.ci) / 4) * 4;
    const xp = padded(scope, x, g, lanes - g.kw * g.ci);
    const acc = scope.alloc([g.kh * g.co * lanes]);
    const dw = scope.alloc([g.kh, g.kw, g.ci, g.co]);
    simdKernels(scope.backend).conv_filter_grad(
      scope.pointer(xp),
      scope.pointer(dy),
      scope.pointer(dw),
      scope.pointer(acc),
      g.n,
      paddedHeight(g),
      paddedWidth(g),
      g.ci,
      g.oh,
      g.ow,
      g.co,
      g.kh,
      g.kw,
      g.sh,
      g.sw,
    );
    return scope.result(dw);
  }
  if (g.kh === 1 && g.kw === 1 && g.top === 0 && g.left === 0) {
    let xs = x;
    if (g.sh > 1 || g.sw > 1 || g.oh !== g.h || g.ow !== g.w) {
      xs = scope.alloc([g.n, g.oh, g.ow, g.ci]);
      subsample(scope.view(x), scope.view(xs), x.shape, [g.oh, g.ow], [g.sh, g.sw]);
    }
    const m = g.n * g.oh * g.ow;
    const xt = scope.run("Transpose", { x: scope.reshape(xs, [m, g.ci]) }, { perm: [1, 0] });
    const product = scope.run("BatchMatMul", {
      a: scope.reshape(xt, [1, g.ci, m]),
      b: scope.reshape(dy, [1, m, g.co]),
    }, { transposeA: false, transposeB: false });
    return scope.result(scope.reshape(product, [1, 1, g.ci, g.co]));
  }
  // Rows and columns of x beyond what the last output position reads do not contribute.
  const bottom = g.kh - g.h - g.top + (g.oh - 1) * g.sh;
  const right = g.kw - g.w - g.left + (g.ow - 1) * g.sw;
  let xc = x;
  if (bottom < 0 || right < 0) {
    const h = g.h + Math.min(bottom, 0);
    const w = g.w + Math.min(right, 0);
    xc = scope.run("Slice", { x }, { begin: [0, 0, 0, 0], size: [g.n, h, w, g.ci] });
  }
  const xt = scope.run("Transpose", { x: xc }, { perm: [3, 1, 2, 0] });
  const dyt = scope.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
  const conv = scope.run("Conv2D", { x: xt, filter: dyt }, {
    strides: [1, 1],
    pad: [[0, 0], [g.top, Math.max(bottom, 0)], [g.left, Math.max(right, 0)], [0, 0]],
    dataFormat: "NHWC",
    dilations: [g.sh, g.sw],
  });
  return scope.result(scope.run("Transpose", { x: conv }, { perm: [1, 2, 0, 3] }));
}

// The filter gradients of convolutions of inputs with at most this many channels (a model's first
// layer, on images) run as the direct SIMD kernel of _simd.c, for output channels in multiples
// of 4. (A direct forward kernel was tried too: no faster than XNNPACK's.)
const SIMD_MAX_CI = 4;

function simdConv(g: ConvGeometry): boolean {
  return g.ci <= SIMD_MAX_CI && g.co % 4 === 0;
}

// Rows and columns of the input as the windows read them: padding included, and only as far as
// the last window reaches.
const paddedHeight = (g: ConvGeometry) => (g.oh - 1) * g.sh + g.kh;
const paddedWidth = (g: ConvGeometry) => (g.ow - 1) * g.sw + g.kw;

// x [n, h, w, ci] copied into zeros of [n, paddedHeight, paddedWidth, ci] (flat, with `slack`
// more values at the end for kernels that read whole vectors past a window's last value).
function padded(scope: Scope, x: tf.TensorInfo, g: ConvGeometry, slack: number): tf.TensorInfo {
  const hp = paddedHeight(g);
  const wp = paddedWidth(g);
  const xp = scope.alloc([g.n * hp * wp * g.ci + slack]);
  simdKernels(scope.backend).pad_nhwc(
    scope.pointer(x),
    scope.pointer(xp),
    g.n,
    g.h,
    g.w,
    g.ci,
    hp,
    wp,
    g.top,
    g.left,
  );
  return xp;
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const inputShape = attrs.inputShape as number[];
  const g = geometry(inputShape, filter.shape, attrs);
  const before = g ? [g.kh - 1 - g.top, g.kw - 1 - g.left] : [-1, -1];
  if (!g || before[0] < 0 || before[1] < 0) {
    return originalKernel("Conv2DBackpropInput")(args) as tf.TensorInfo;
  }
  const scope = new Scope(args.backend as WasmBackend);
  if (g.kh === 1 && g.kw === 1) {
    const wt = scope.alloc([g.co, g.ci]);
    transpose2d(scope.view(filter), scope.view(wt), g.ci, g.co);
    const m = g.n * g.oh * g.ow;
    const product = scope.run("BatchMatMul", {
      a: scope.reshape(dy, [1, m, g.co]),
      b: scope.reshape(wt, [1, g.co, g.ci]),
    }, { transposeA: false, transposeB: false });
    if (g.sh === 1 && g.sw === 1 && g.oh === g.h && g.ow === g.w && g.top === 0 && g.left === 0) {
      return scope.result(scope.reshape(product, inputShape));
    }
    const dx = scope.alloc(inputShape, true);
    scatter(
      scope.view(product),
      scope.view(dx),
      [g.n, g.oh, g.ow, g.ci],
      [g.h, g.w],
      [g.sh, g.sw],
      [-g.top, -g.left],
    );
    return scope.result(dx);
  }
  let dyu = dy;
  const uh = (g.oh - 1) * g.sh + 1;
  const uw = (g.ow - 1) * g.sw + 1;
  if (g.sh > 1 || g.sw > 1) {
    dyu = scope.alloc([g.n, uh, uw, g.co], true);
    scatter(scope.view(dy), scope.view(dyu), dy.shape, [uh, uw], [g.sh, g.sw], [0, 0]);
  }
  const rotated = scope.alloc([g.kh, g.kw, g.co, g.ci]);
  rotateAndSwap(scope.view(filter), scope.view(rotated), g.kh, g.kw, g.ci, g.co);
  const after = [g.h - uh + g.top, g.w - uw + g.left];
  let dx = scope.run("Conv2D", { x: dyu, filter: rotated }, {
    strides: [1, 1],
    pad: [[0, 0], [before[0], Math.max(after[0], 0)], [before[1], Math.max(after[1], 0)], [0, 0]],
    dataFormat: "NHWC",
    dilations: [1, 1],
  });
  if (after[0] < 0 || after[1] < 0) {
    dx = scope.run("Slice", { x: dx }, { begin: [0, 0, 0, 0], size: inputShape });
  }
  return scope.result(dx);
}

function tileKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const reps = (args.attrs ?? {}).reps as number[];
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    return originalKernel("Tile")(args) as tf.TensorInfo;
  }
  const backend = args.backend as WasmBackend & {
    typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  };
  const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
  tile(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, reps);
  return out;
}

// Add of a per-channel vector to a large tensor (a convolution's bias): the wasm kernel computes
// every broadcast index from scratch; here the vector is added row by row. IEEE float32 addition
// gives the same values either way.
const BIAS_ADD_MIN_SIZE = 1 << 15;

function add(args: KernelArgs): tf.TensorInfo {
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
    return originalKernel("Add")(args) as tf.TensorInfo;
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
function identity(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === "string") return originalKernel("Identity")(args) as tf.TensorInfo;
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = (args.attrs ?? {}) as {
    transposeA?: boolean;
    transposeB?: boolean;
  };
  if (!transposeA && !transposeB) return originalKernel("BatchMatMul")(args) as tf.TensorInfo;
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

// Sum or Mean over every axis but the last (the bias and batch-norm gradients, per channel):
// the wasm kernels transpose the whole tensor first so that the reduced axes come last.
function reduceLeading(kind: "Sum" | "Mean") {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = (args.attrs ?? {}) as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== "float32") return originalKernel(kind)(args) as tf.TensorInfo;
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

// MaxPoolGrad: each output position sends its gradient to the first maximum of its window (the
// wasm kernel for this is a slow generic loop). The forward pass's output, when given, holds each
// window's maximum, so the search can stop at the first value equal to it.
function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
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
  const { make, view } = heapOf(args);
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

// The ReLU's gradient, dy · step(x), as one kernel: TF.js's gradient runs Step, Cast and Multiply,
// each a pass over the activations. Used by the gradient registered below.
const RELU_GRAD = "ReluGrad";

function reluGrad(args: KernelArgs): tf.TensorInfo {
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

let reluGradientRegistered = false;

// TF.js's gradient of Relu, with the fused kernel where the active backend has it (same values).
function registerReluGradient(): void {
  if (reluGradientRegistered) return;
  reluGradientRegistered = true;
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x] = saved;
      const g = Array.isArray(dy) ? dy[0] : dy;
      const fused = tf.getKernel(RELU_GRAD, tf.getBackend()) && x.dtype === "float32" &&
        g.dtype === "float32" && tf.util.arraysEqual(x.shape, g.shape);
      return {
        x: () =>
          fused
            ? tf.engine().runKernel(
              RELU_GRAD,
              { dy: g, x } as unknown as tf.NamedTensorMap,
            ) as tf.Tensor
            : tf.mul(g, tf.cast(tf.step(x), "float32")),
      };
    },
  });
}

function gatherV2(args: KernelArgs): tf.TensorInfo {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  if (((attrs.batchDims as number | undefined) ?? 0) !== 0 || x.dtype === "string") {
    return originalKernel("GatherV2")(args as never) as tf.TensorInfo;
  }
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const dimSize = x.shape[axis];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
  const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
  const backend = args.backend as WasmBackend;
  const index = backend.typedArrayFromHeap(indices);
  for (const i of index) {
    if (!(i >= 0 && i < dimSize)) {
      throw new RangeError(`GatherV2: the index value ${i} is not in [0, ${dimSize - 1}]`);
    }
  }
  const out = backend.makeOutput(
    [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)],
    x.dtype,
  );
  // views are taken after the allocation, which may grow (and move) the heap
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const picked = backend.typedArrayFromHeap(indices);
  const n = picked.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const from = (o * dimSize + picked[i]) * inner;
      const to = (o * n + i) * inner;
      if (inner >= 16) {
        dst.set(src.subarray(from, from + inner), to);
      } else {
        for (let k = 0; k < inner; k++) dst[to + k] = src[from + k];
      }
    }
  }
  return out;
}

function cast(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const dtype = args.attrs?.dtype as tf.DataType;
  // A cast to the tensor's own type (the ReLU gradient casts its input to float32) shares it.
  if (dtype === x.dtype) return identity(args);
  if (dtype !== "bool" || !(x.dtype === "float32" || x.dtype === "int32")) {
    return originalKernel("Cast")(args as never) as tf.TensorInfo;
  }
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(x.shape, "bool");
  // views are taken after the allocation, which may grow (and move) the heap
  const values = backend.typedArrayFromHeap(x);
  const flags = backend.typedArrayFromHeap(out);
  for (let i = 0; i < values.length; i++) flags[i] = values[i] !== 0 ? 1 : 0;
  return out;
}

const KERNELS: [string, (args: KernelArgs) => tf.TensorInfo][] = [
  ["Identity", identity],
  ["Add", add],
  ["Cast", cast],
  ["GatherV2", gatherV2],
  ["MaxPoolGrad", maxPoolGrad],
  ["Sum", reduceLeading("Sum")],
  ["Mean", reduceLeading("Mean")],
  ["Conv2DBackpropFilter", conv2DBackpropFilter],
  ["Conv2DBackpropInput", conv2DBackpropInput],
  ["Tile", tileKernel],
  ["BatchMatMul", batchMatMul],
  [RELU_GRAD, reluGrad],
];

/** Names of the kernels {@linkcode registerWasmTrainingKernels} registers. */
export const TRAINING_KERNEL_NAMES: readonly string[] = [
  ...KERNELS.map(([name]) => name),
  ADAM_UPDATE,
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
];

/**
 * Registers the training kernels for the wasm backend (replacing its slow ones). Idempotent:
 * returns the number of kernels this call registered.
 */
export function registerWasmTrainingKernels(): number {
  let added = registerAdamKernel() + registerWasmBatchNormKernels();
  registerReluGradient();
  for (const [name, kernelFunc] of KERNELS) {
    const existing = tf.getKernelsForBackend("wasm").find((k) => k.kernelName === name);
    if (existing?.kernelFunc === (kernelFunc as unknown)) continue;
    if (existing) {
      keepOriginal(name, existing.kernelFunc);
      tf.unregisterKernel(name, "wasm");
    }
    // The original's set-up (binding its WebAssembly function) still has to run when the backend
    // starts, since the replacement calls the original for the cases it does not cover.
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      kernelFunc: kernelFunc as tf.KernelFunc,
      setupFunc: existing?.setupFunc,
      disposeFunc: existing?.disposeFunc,
    });
    added++;
  }
  return added;
}
