// The gradients of convolutions on `wasm`, built from its fast XNNPACK convolutions and matrix
// products, layout moves in JavaScript (_layout.ts) and a SIMD kernel of _simd.c:
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
//
// Cases these formulations do not cover (dilated or grouped convolutions, channels-first data, odd
// paddings) are handed to the wasm backend's own kernel.
import * as tf from "../../tf.ts";
import { type ConvGeometry, convGeometry as geometry } from "../_conv_geometry.ts";
import { Scope, type WasmBackend } from "../_heap.ts";
import { type KernelArgs, shippedWasmKernel } from "../_kernel.ts";
import { rotateAndSwap, scatter, subsample, transpose2d } from "../_layout.ts";
import { simdKernels } from "./_simd.ts";

export function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
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

export function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const inputShape = attrs.inputShape as number[];
  const g = geometry(inputShape, filter.shape, attrs);
  const before = g ? [g.kh - 1 - g.top, g.kw - 1 - g.left] : [-1, -1];
  if (!g || before[0] < 0 || before[1] < 0) {
    return shippedWasmKernel("Conv2DBackpropInput")(args) as tf.TensorInfo;
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
