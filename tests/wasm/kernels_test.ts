import { assert, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backend.ts";
import { registerTrainingKernels } from "@lib/wasm/mod.ts";
import { CONV_CASES, convResults, dataOf, on, relativeError } from "../_compare.ts";

await useBackend("wasm", { log: null });

const TOLERANCE = 1e-5;

for (const testCase of CONV_CASES) {
  const [shape, k, s, pad] = testCase;
  Deno.test(`conv2d gradients on wasm match cpu: x ${shape}, ${k}x${k}, stride ${s}, ${pad}`, async () => {
    const expected = await convResults("cpu", testCase);
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const actual = await convResults("wasm", testCase);
    assertEquals(tf.memory().numTensors, before, "no tensors leaked");
    ["y", "dx", "dW"].forEach((name, i) => {
      const error = relativeError(actual[i], expected[i]);
      assert(error < TOLERANCE, `${name} error ${error}`);
    });
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

Deno.test("GatherV2 on wasm matches cpu: any axis, 2-D indices, int32 and bool values", async () => {
  const cases: [number[], tf.DataType, number[], number[], number][] = [
    // [x shape, dtype, indices, indices shape, axis]
    [[10, 4, 4, 3], "float32", [3, 0, 9, 3], [4], 0],
    [[5, 6, 7], "float32", [5, 0, 2, 1, 4, 4], [2, 3], 1],
    [[5, 6, 7], "int32", [6, 0], [2], -1],
    [[4, 20], "bool", [1, 3], [2], 0],
    [[3, 2], "float32", [], [0], 0],
  ];
  for (const [shape, dtype, picked, indexShape, axis] of cases) {
    const results = [];
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const values = tf.tidy(() => {
        const random = tf.randomUniform(shape, -3, 3, "float32", 9);
        const x = dtype === "bool" ? tf.greater(random, 0) : tf.cast(random, dtype);
        const y = tf.gather(x, tf.tensor(picked, indexShape, "int32"), axis);
        return { shape: y.shape, dtype: y.dtype, data: Array.from(y.dataSync()) };
      });
      assertEquals(tf.memory().numTensors, before, `${backend}: no tensors leaked`);
      results.push(values);
    }
    assertEquals(results[1], results[0], `x [${shape}] ${dtype}, axis ${axis}`);
  }
});

Deno.test("GatherV2 on wasm rejects an index outside the axis", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.zeros([4, 3]);
  for (const index of [4, -1]) {
    const indices = tf.tensor1d([0, index], "int32");
    assertThrows(() => tf.gather(x, indices), RangeError, `index value ${index} is not in [0, 3]`);
    indices.dispose();
  }
  x.dispose();
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("Cast to bool on wasm matches cpu: every value that is not 0 is true", async () => {
  const cases: [number[], tf.DataType][] = [
    [[0.5, -1, 2, 0, 300, -0.2, NaN, -0], "float32"],
    [[0, 3, -2, 256, 512, -256], "int32"],
  ];
  for (const [values, dtype] of cases) {
    const results = [];
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const x = tf.tensor(values, undefined, dtype);
      const flags = tf.cast(x, "bool");
      results.push({ dtype: flags.dtype, values: Array.from(await flags.data()) });
      tf.dispose([x, flags]);
    }
    assertEquals(results[1], results[0], `${dtype} [${values}]`);
  }
  await tf.setBackend("wasm");
  const x = tf.tensor([1.5, 0]);
  const ints = tf.cast(x, "int32");
  assertEquals(Array.from(await ints.data()), [1, 0], "other casts unchanged");
  tf.dispose([x, ints]);
});
