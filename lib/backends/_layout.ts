// Data-layout operations in plain JavaScript on heap arrays (they move memory, no arithmetic), used
// around the kernels that do the arithmetic (WebAssembly in wasm/, native in onednn/).

/** filter [kh, kw, ci, co] -> [kh, kw, co, ci], rotated by 180° in (kh, kw). */
export function rotateAndSwap(
  src: Float32Array,
  dst: Float32Array,
  kh: number,
  kw: number,
  ci: number,
  co: number,
): void {
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const from = (a * kw + b) * ci * co;
      const to = ((kh - 1 - a) * kw + (kw - 1 - b)) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) dst[to + o * ci + i] = src[from + i * co + o];
      }
    }
  }
}

/** matrix [rows, cols] -> [cols, rows]. */
export function transpose2d(
  src: Float32Array,
  dst: Float32Array,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  }
}

/**
 * Copies `src` [n, h, w, c] into `dst` [n, H, W, c] at rows `top + i*sh` and columns `left + j*sw`;
 * the rest of `dst` must already be zero. With strides 1 it is a padding, with strides > 1 the
 * zero-interleaving that turns a strided convolution's gradient into a stride-1 one.
 */
export function scatter(
  src: Float32Array,
  dst: Float32Array,
  [n, h, w, c]: number[],
  [bigH, bigW]: number[],
  [sh, sw]: number[],
  [top, left]: number[],
): void {
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      const row = top + i * sh;
      if (row < 0 || row >= bigH) continue;
      for (let j = 0; j < w; j++) {
        const col = left + j * sw;
        if (col < 0 || col >= bigW) continue;
        const from = ((b * h + i) * w + j) * c;
        dst.set(src.subarray(from, from + c), ((b * bigH + row) * bigW + col) * c);
      }
    }
  }
}

/** Picks rows `i*sh` and columns `j*sw` of `src` [n, h, w, c] into `dst` [n, outH, outW, c]. */
export function subsample(
  src: Float32Array,
  dst: Float32Array,
  [n, h, w, c]: number[],
  [outH, outW]: number[],
  [sh, sw]: number[],
): void {
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        const from = ((b * h + i * sh) * w + j * sw) * c;
        dst.set(src.subarray(from, from + c), ((b * outH + i) * outW + j) * c);
      }
    }
  }
}

/** `x` tiled `reps` times along each axis (TF's Tile), row-major. */
export function tile(
  src: Float32Array | Int32Array,
  dst: Float32Array | Int32Array,
  shape: number[],
  reps: number[],
): void {
  const rank = shape.length;
  const outShape = shape.map((d, i) => d * reps[i]);
  const srcStrides = new Array(rank).fill(1);
  const dstStrides = new Array(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) {
    srcStrides[i] = srcStrides[i + 1] * shape[i + 1];
    dstStrides[i] = dstStrides[i + 1] * outShape[i + 1];
  }
  const fill = (d: number, from: number, to: number): void => {
    if (d === rank - 1) {
      const row = src.subarray(from, from + shape[d]);
      for (let r = 0; r < reps[d]; r++) dst.set(row, to + r * shape[d]);
      return;
    }
    for (let i = 0; i < shape[d]; i++) {
      fill(d + 1, from + i * srcStrides[d], to + i * dstStrides[d]);
    }
    const block = shape[d] * dstStrides[d];
    for (let r = 1; r < reps[d]; r++) dst.copyWithin(to + r * block, to, to + block);
  };
  if (rank === 0) dst[0] = src[0];
  else fill(0, 0, 0);
}
