// Helpers for comparing a backend's results with the cpu backend's.
import * as tf from "@lib/tf.ts";

/** A tensor's values and shape, independent of any backend. */
export interface Data {
  values: Float32Array;
  shape: number[];
}

/** Reads a tensor's values and disposes it. */
export async function dataOf(t: tf.Tensor): Promise<Data> {
  const data = { values: (await t.data()) as Float32Array, shape: t.shape };
  t.dispose();
  return data;
}

/** Random normal values of the given shape (seeded). */
export function randomData(shape: number[], seed: number): Data {
  return tf.tidy(() => {
    const t = tf.randomNormal(shape, 0, 1, "float32", seed);
    return { values: t.dataSync() as Float32Array, shape };
  });
}

/**
 * Runs `f` on `backend` with tensors made from `inputs`; returns the outputs' values and the
 * number of tensors left behind.
 */
export async function runOn(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
  inputs: Data[],
): Promise<{ values: Float32Array[]; leaked: number }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const tensors = inputs.map((v) => tf.tensor(v.values, v.shape));
  const outs = f(...tensors);
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([...tensors, ...outs]);
  return { values, leaked: tf.memory().numTensors - before };
}

/** The outputs' values of `f` on `backend` (see {@linkcode runOn}). */
export async function on(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
  inputs: Data[],
): Promise<Float32Array[]> {
  return (await runOn(backend, f, inputs)).values;
}

/** Relative L2 error of `actual` against `expected`. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) {
    throw new RangeError(`lengths differ: ${actual.length} vs ${expected.length}`);
  }
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

/** The convolution cases of both models, odd sizes included: [x shape, kernel, stride, padding]. */
export const CONV_CASES: ConvCase[] = [
  [[2, 9, 9, 3], 1, 1, "valid"],
  [[2, 9, 9, 5], 1, 2, "valid"],
  [[2, 7, 7, 6], 1, 2, "same"],
  [[2, 8, 8, 4], 3, 1, "same"],
  [[2, 9, 9, 4], 2, 1, "same"],
  [[3, 9, 9, 3], 4, 1, "same"],
  [[2, 15, 15, 3], 7, 2, "valid"],
  [[2, 10, 10, 3], 3, 2, "valid"],
  [[2, 11, 11, 3], 3, 2, "same"],
  [[1, 13, 11, 2], 3, 1, "valid"],
  // At most 4 input channels and output channels in multiples of 4: the SIMD filter gradient of
  // the wasm backend (output channels in groups of 4; window rows of kw·ci values read in chunks
  // of 12, 8 or 4 lanes).
  [[3, 9, 9, 3], 4, 1, "same", 8],
  [[2, 9, 8, 3], 2, 2, "same", 8],
  [[2, 13, 11, 3], 7, 2, "same", 12],
  [[2, 10, 9, 1], 2, 1, "same", 4],
  [[2, 11, 10, 4], 3, 2, "valid", 16],
  [[1, 6, 7, 2], 5, 1, "same", 8],
];

/** A convolution: input shape, kernel size, stride, padding and output channels (default 5). */
export type ConvCase = [
  [number, number, number, number],
  number,
  number,
  "same" | "valid",
  number?,
];

/**
 * Gradients of sum(conv(x, w) * dy) with respect to x and w on `backend`, and the forward output,
 * for one case, with the same random inputs on every backend.
 */
export async function convResults(
  backend: string,
  [shape, k, s, pad, co = 5]: ConvCase,
): Promise<Float32Array[]> {
  await tf.setBackend("cpu");
  const x = tf.randomNormal(shape, 0, 1, "float32", 1);
  const w = tf.randomNormal([k, k, shape[3], co], 0, 1, "float32", 2);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad);
  const dy = tf.randomNormal(y.shape, 0, 1, "float32", 3);
  y.dispose();
  const inputs = [await dataOf(x), await dataOf(w), await dataOf(dy)];
  return on(backend, (xt, wt, dyt) => {
    const conv = (a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), dyt)));
    return [conv(xt, wt), ...g([xt, wt])];
  }, inputs);
}
