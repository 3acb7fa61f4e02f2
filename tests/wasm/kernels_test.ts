import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backend.ts";
import { registerTrainingKernels } from "@lib/wasm/mod.ts";

await useBackend("wasm", { log: null });

// Relative L2 error of `actual` against `expected`.
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

/** Runs `f` on the given backend with plain-array inputs and returns the outputs' values. */
interface Data {
  values: Float32Array;
  shape: number[];
}

async function dataOf(t: tf.Tensor): Promise<Data> {
  const data = { values: (await t.data()) as Float32Array, shape: t.shape };
  t.dispose();
  return data;
}

async function on(backend: string, f: (...xs: tf.Tensor[]) => tf.Tensor[], inputs: Data[]) {
  await tf.setBackend(backend);
  const tensors = inputs.map((v) => tf.tensor(v.values, v.shape));
  const outs = f(...tensors);
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([...tensors, ...outs]);
  return values;
}

const TOLERANCE = 1e-5;

// [input shape, kernel size, stride, padding]: the ResNet-50 and baseline cases, odd sizes included.
const CASES: [[number, number, number, number], number, number, "same" | "valid"][] = [
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
];

for (const [shape, k, s, pad] of CASES) {
  Deno.test(`conv2d gradients on wasm match cpu: x ${shape}, ${k}x${k}, stride ${s}, ${pad}`, async () => {
    await tf.setBackend("cpu");
    const x = tf.randomNormal(shape, 0, 1, "float32", 1);
    const w = tf.randomNormal([k, k, shape[3], 5], 0, 1, "float32", 2);
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad);
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 3);
    y.dispose();
    const inputs = [await dataOf(x), await dataOf(w), await dataOf(dy)];
    const grads = (xt: tf.Tensor, wt: tf.Tensor, dyt: tf.Tensor) => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), dyt))
      );
      return g([xt, wt]);
    };
    const expected = await on("cpu", grads, inputs);
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const actual = await on("wasm", grads, inputs);
    assertEquals(tf.memory().numTensors, before, "no tensors leaked");
    assert(
      relativeError(actual[0], expected[0]) < TOLERANCE,
      `dx error ${relativeError(actual[0], expected[0])}`,
    );
    assert(
      relativeError(actual[1], expected[1]) < TOLERANCE,
      `dW error ${relativeError(actual[1], expected[1])}`,
    );
  });
}

Deno.test("Tile on wasm matches cpu for ranks 1 to 4", async () => {
  const cases: [number[], number[]][] = [
    [[3], [4]],
    [[2, 3], [3, 1]],
    [[2, 1, 3], [1, 4, 2]],
    [[1, 2, 2, 3], [5, 1, 2, 1]],
  ];
  for (const [shape, reps] of cases) {
    const size = shape.reduce((a, b) => a * b);
    const values = Float32Array.from({ length: size }, (_, i) => i * 0.5 - 1);
    const f = (x: tf.Tensor) => [tf.tile(x, reps)];
    const [expected] = await on("cpu", f, [{ values, shape }]);
    const [actual] = await on("wasm", f, [{ values, shape }]);
    assertEquals(Array.from(actual), Array.from(expected));
  }
});

Deno.test("BatchMatMul with transpose flags on wasm matches cpu", async () => {
  await tf.setBackend("cpu");
  const a = await dataOf(tf.randomNormal([2, 5, 3], 0, 1, "float32", 4));
  const b = await dataOf(tf.randomNormal([2, 4, 5], 0, 1, "float32", 5));
  const f = (x: tf.Tensor, y: tf.Tensor) => [tf.matMul(x, y, true, true)];
  const [expected] = await on("cpu", f, [a, b]);
  const [actual] = await on("wasm", f, [a, b]);
  assert(relativeError(actual, expected) < 1e-6);
});

Deno.test("registerTrainingKernels() is idempotent", () => {
  assertEquals(registerTrainingKernels(), 0);
});

Deno.test("Sum and Mean over leading axes on wasm match cpu, other reductions too", async () => {
  await tf.setBackend("cpu");
  const x = await dataOf(tf.randomNormal([3, 5, 4, 6], 0, 1, "float32", 6));
  const f = (t: tf.Tensor) => [
    tf.sum(t, [0, 1, 2]),
    tf.mean(t, [0, 1, 2], true),
    tf.sum(t, [1, 2]),
    tf.mean(t, -1),
    tf.sum(tf.reshape(t, [60, 6]), 0),
  ];
  const expected = await on("cpu", f, [x]);
  const actual = await on("wasm", f, [x]);
  expected.forEach((e, i) => assert(relativeError(actual[i], e) < 1e-6, `reduction ${i}`));
});

for (
  const [shape, size, stride, pad] of [
    [[2, 9, 9, 3], 3, 2, "valid"],
    [[2, 16, 16, 4], 8, 8, "same"],
    [[1, 7, 7, 2], 3, 1, "same"],
    [[1, 15, 15, 5], 4, 4, "same"],
  ] as const
) {
  Deno.test(`max-pool gradient on wasm matches cpu: x ${shape}, ${size}x${size}, stride ${stride}, ${pad}`, async () => {
    await tf.setBackend("cpu");
    const x = await dataOf(tf.randomNormal([...shape], 0, 1, "float32", 8));
    const f = (t: tf.Tensor) => {
      const g = tf.grad((a: tf.Tensor) =>
        tf.sum(tf.square(tf.maxPool(a as tf.Tensor4D, size, stride, pad)))
      );
      return [g(t)];
    };
    const [expected] = await on("cpu", f, [x]);
    const [actual] = await on("wasm", f, [x]);
    assert(relativeError(actual, expected) < 1e-6, `error ${relativeError(actual, expected)}`);
  });
}
