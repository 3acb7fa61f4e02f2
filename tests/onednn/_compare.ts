// Helpers of the oneDNN kernel tests: run the same function on `cpu` and on `onednn` and compare.
import * as tf from "@lib/tf.ts";
import { registerOnednnBackend } from "@lib/onednn/mod.ts";

/** Whether the backend is usable here; the reason is printed once when it is not. */
export const onednn = await registerOnednnBackend();
if (!onednn.available) console.log(`SKIPPED oneDNN tests: ${onednn.reason}`);

/** Input values and their shape. */
export interface Data {
  values: Float32Array;
  shape: number[];
}

/** Random normal values of the given shape (seeded). */
export function randomData(shape: number[], seed: number): Data {
  return tf.tidy(() => {
    const t = tf.randomNormal(shape, 0, 1, "float32", seed);
    return { values: t.dataSync() as Float32Array, shape };
  });
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

/**
 * Runs `f` on `backend` with tensors made from `inputs`, returns the outputs' values and the
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
