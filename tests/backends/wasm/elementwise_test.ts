import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { dataOf, on, randomData, relativeError, runOn } from "../../_compare.ts";

await useBackend("wasm", { log: null });

Deno.test("Sum and Mean over leading axes on wasm match cpu, other reductions too", async () => {
  // 8 channels: vectors of 4; 6: a vector and two channels one at a time
  for (const channels of [6, 8]) {
    await tf.setBackend("cpu");
    const x = await dataOf(tf.randomNormal([3, 5, 4, channels], 0, 1, "float32", 6));
    const f = (t: tf.Tensor) =>
      tf.tidy(() => [
        tf.sum(t, [0, 1, 2]),
        tf.mean(t, [0, 1, 2], true),
        tf.sum(t, [1, 2]),
        tf.mean(t, -1),
        tf.sum(tf.reshape(t, [60, channels]), 0),
      ]);
    const expected = await on("cpu", f, [x]);
    const { values: actual, leaked } = await runOn("wasm", f, [x]);
    assertEquals(leaked, 0);
    expected.forEach((e, i) =>
      assert(relativeError(actual[i], e) < 1e-6, `${channels} channels, reduction ${i}`)
    );
  }
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

Deno.test("Add of a per-channel vector on wasm matches cpu exactly, either operand first", async () => {
  const cases: [number[], number[]][] = [
    [[4, 32, 32, 8], [8]], // large: added row by row
    [[4, 32, 64, 6], [6]], // a vector of 4 channels, then two one at a time
    [[4, 32, 32, 8], [1, 1, 1, 8]],
    [[8], [2, 64, 64, 8]],
    [[3, 5, 8], [8]], // small: the wasm kernel
    [[4, 32, 32, 8], [4, 1, 1, 8]], // not per channel: the wasm kernel
  ];
  for (const [aShape, bShape] of cases) {
    const a = randomData(aShape, 12);
    const b = randomData(bShape, 13);
    const f = (x: tf.Tensor, y: tf.Tensor) => [tf.add(x, y)];
    const [expected] = await on("cpu", f, [a, b]);
    const { values: [actual], leaked } = await runOn("wasm", f, [a, b]);
    assertEquals(leaked, 0);
    assertEquals(Array.from(actual), Array.from(expected), `[${aShape}] + [${bShape}]`);
  }
});

Deno.test("Identity and a cast to the same type on wasm share their input's memory", async () => {
  await tf.setBackend("wasm");
  for (const copy of [tf.clone, (t: tf.Tensor) => tf.cast(t, "float32")]) {
    const x = tf.randomNormal([64, 64, 8], 0, 1, "float32", 14);
    const expected = Array.from(await x.data());
    const buffers = tf.memory().numDataBuffers;
    const y = copy(x);
    assertEquals(tf.memory().numDataBuffers, buffers, "no new buffer");
    x.dispose();
    assertEquals(Array.from(await y.data()), expected, "the copy outlives its source");
    const before = tf.memory().numTensors;
    y.dispose();
    assertEquals(tf.memory().numTensors, before - 1);
  }
});

Deno.test("ReLU's gradient on wasm is one ReluGrad kernel with the values of TF.js's dy · step(x)", async () => {
  // 0, -0, NaN and infinities among x and dy; 11 values: vectors of 4 and a tail
  const x = [1.5, 0, -0, -2, NaN, 3, Infinity, -Infinity, 0.25, -0.5, 7];
  const dy = [-1, 2, -3, 4, 5, -0, Infinity, 2, -Infinity, NaN, -0.75];
  const results: number[][] = [];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const [xt, dyt] = [tf.tensor1d(x), tf.tensor1d(dy)];
    const composed = tf.tidy(() => tf.mul(dyt, tf.cast(tf.step(xt), "float32")));
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(xt, dyt));
    const names = info.kernels.map((k) => k.name);
    const grad = tf.grad((t: tf.Tensor) => tf.relu(t))(xt, dyt);
    if (backend === "wasm") {
      assert(names.includes("ReluGrad") && !names.includes("Step"), `kernels: ${names}`);
      assertEquals(Array.from(await grad.data()), results[0], "same values as the composition");
    }
    results.push(Array.from(await composed.data()));
    tf.dispose([xt, dyt, composed, grad, info.result as tf.Tensor]);
    assertEquals(tf.memory().numTensors, before, `${backend}: no tensors leaked`);
  }
  assertEquals(results[1], results[0], "the composition on wasm and on cpu");
});
