// 3x3 convolutions of stride 1 and 'same' padding over images of at most 2x2 pixels (ResNet-50's
// last stage) as matrix products on the filter as it is stored (HWIO): no reorder of the filter
// into oneDNN's layout (9.4 MB a call for 512 channels, as long as the convolution itself), and no
// products with the padding, which covers most of each 3x3 window over 2x2 pixels.
//
// Over an image of h x w pixels, output pixel (i, j) reads input pixel (i + a - 1, j + b - 1)
// through tap (a, b) of the filter. In NHWC the input pixels of one row are side by side, and in
// HWIO the taps of one filter row are too, so each output pixel's sum over one row of its window
// is one product, x [n, the row's pixels · ci] · filter [the row's taps · ci, co], and the input
// gradient runs the same products the other way. The images of the batch are a fixed distance
// apart (h · w pixels), which the products take as the distance between rows. The filter
// gradient is one product per tap, over the pairs of pixels it joins, gathered.
//
// The caller rounds x, dy and the filter to bfloat16 in mixed precision; the products then run as
// gemm_bf16bf16f32.
import type { Dnnl } from "./_ffi.ts";
import { gemm, type Values } from "./_primitive.ts";
import type { ConvGeometry } from "../_conv_geometry.ts";

/** Images up to this many pixels take this path. */
const MAX_PIXELS = 4;

/** Whether the convolution is one this module computes: 3x3, stride 1, 'same', tiny images. */
export function tapwise(g: ConvGeometry): boolean {
  return g.kh === 3 && g.kw === 3 && g.sh === 1 && g.sw === 1 && g.top === 1 && g.left === 1 &&
    g.bottom === 1 && g.right === 1 && g.h * g.w <= MAX_PIXELS;
}

// `values` from the `pixel`-th pixel of its first image on (a pixel has `channels` values).
function at<T extends Values>(values: T, pixel: number, channels: number): T {
  return values.subarray(pixel * channels) as T;
}

// The filter from tap (a, b) on: [3, 3, ci, co] in HWIO.
function tap<T extends Values>(filter: T, g: ConvGeometry, a: number, b: number): T {
  return filter.subarray((a * 3 + b) * g.ci * g.co) as T;
}

/** An output pixel and one row of the input pixels it reads, side by side. */
interface WindowRow {
  /** The output pixel, as an index into its image's pixels. */
  output: number;
  /** The first input pixel (same indexing), and how many there are. */
  input: number;
  pixels: number;
  /** The filter tap [a, b] that reads the first; the others read it with the next taps. */
  tap: [number, number];
  /** Whether this is the first row of its output pixel's window. */
  first: boolean;
}

/** The rows of every output pixel's 3x3 window that lie inside the image. */
function* windowRows(g: ConvGeometry): Generator<WindowRow> {
  for (let i = 0; i < g.h; i++) {
    for (let j = 0; j < g.w; j++) {
      const [left, right] = [Math.max(0, j - 1), Math.min(g.w - 1, j + 1)];
      for (let row = Math.max(0, i - 1); row <= Math.min(g.h - 1, i + 1); row++) {
        yield {
          output: i * g.w + j,
          input: row * g.w + left,
          pixels: right - left + 1,
          tap: [row - i + 1, left - j + 1],
          first: row === Math.max(0, i - 1),
        };
      }
    }
  }
}

/**
 * out [n, h, w, co] = the convolution of x [n, h, w, ci] with filter [3, 3, ci, co], added to what
 * `out` holds where `accumulate` (a bias repeated on every pixel, say).
 */
export function tapwiseForward(
  dnnl: Dnnl,
  g: ConvGeometry,
  x: Values,
  filter: Values,
  out: Float32Array,
  accumulate: boolean,
): void {
  const pixels = g.h * g.w;
  const ld = { a: pixels * g.ci, c: pixels * g.co };
  const what = `3x3 convolution over ${g.h}x${g.w} pixels by taps`;
  // out (pixel) += x (the row's pixels) · filter (the row's taps)
  for (const r of windowRows(g)) {
    const a = at(x, r.input, g.ci);
    const b = tap(filter, g, ...r.tap);
    const c = at(out, r.output, g.co);
    const beta = accumulate || !r.first ? 1 : 0;
    gemm(dnnl, [false, false], [g.n, g.co, r.pixels * g.ci], a, b, c, what, 1, beta, ld);
  }
}

/** dx [n, h, w, ci] = the input gradient of the convolution, from dy [n, h, w, co] and filter. */
export function tapwiseInputGradient(
  dnnl: Dnnl,
  g: ConvGeometry,
  dy: Values,
  filter: Values,
  dx: Float32Array,
): void {
  const pixels = g.h * g.w;
  const ld = { a: pixels * g.co, c: pixels * g.ci };
  const what = `3x3 input gradient over ${g.h}x${g.w} pixels by taps`;
  dx.fill(0);
  // dx (the row's pixels) += dy (pixel) · filter (the row's taps)ᵀ
  for (const r of windowRows(g)) {
    const a = at(dy, r.output, g.co);
    const b = tap(filter, g, ...r.tap);
    const c = at(dx, r.input, g.ci);
    gemm(dnnl, [false, true], [g.n, r.pixels * g.ci, g.co], a, b, c, what, 1, 1, ld);
  }
}

// The rows that filter gradients gather, reused (kernels run one at a time) and grown as needed.
const gathered = {
  f32: [new Float32Array(0), new Float32Array(0)],
  bf16: [new Uint16Array(0), new Uint16Array(0)],
};

function gatherBuffer<T extends Values>(like: T, slot: 0 | 1, length: number): T {
  const kind = like instanceof Uint16Array ? "bf16" : "f32";
  const buffers = gathered[kind] as T[];
  if (buffers[slot].length < length) {
    buffers[slot] = new (like.constructor as new (length: number) => T)(length);
  }
  return buffers[slot].subarray(0, length) as T;
}

/** dw [3, 3, ci, co] = the filter gradient of the convolution from x and dy (both NHWC). */
export function tapwiseFilterGradient<T extends Values>(
  dnnl: Dnnl,
  g: ConvGeometry,
  x: T,
  dy: T,
  dw: Float32Array,
): void {
  const pixels = g.h * g.w;
  const what = `3x3 filter gradient over ${g.h}x${g.w} pixels by taps`;
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      // the output pixels (p, q) whose tap (a, b) falls inside the image, at (p + a - 1, q + b - 1)
      const pairs: [number, number][] = [];
      for (let p = Math.max(0, 1 - a); p < Math.min(g.h, g.h + 1 - a); p++) {
        for (let q = Math.max(0, 1 - b); q < Math.min(g.w, g.w + 1 - b); q++) {
          pairs.push([(p + a - 1) * g.w + q + b - 1, p * g.w + q]);
        }
      }
      const block = tap(dw, g, a, b).subarray(0, g.ci * g.co);
      if (pairs.length === 0) {
        block.fill(0);
        continue;
      }
      // tap (a, b)'s gradient = [x at the pixels it reads]ᵀ · [dy at the pixels it writes], the
      // rows of every pair and image stacked
      const rows = pairs.length * g.n;
      const xs = gatherBuffer(x, 0, rows * g.ci);
      const dys = gatherBuffer(dy, 1, rows * g.co);
      let row = 0;
      for (const [read, written] of pairs) {
        for (let image = 0; image < g.n; image++, row++) {
          const from = (image * pixels + read) * g.ci;
          xs.set(x.subarray(from, from + g.ci), row * g.ci);
          const to = (image * pixels + written) * g.co;
          dys.set(dy.subarray(to, to + g.co), row * g.co);
        }
      }
      gemm(dnnl, [true, false], [g.ci, g.co, rows], xs, dys, block, what);
    }
  }
}
