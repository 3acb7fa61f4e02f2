import { assert, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { registerTrainingKernels, WASM_TRAINING_KERNELS } from "@lib/backends/wasm/mod.ts";
import {
  CONV_CASES,
  convResults,
  dataOf,
  on,
  randomData,
  relativeError,
  runOn,
} from "../../_compare.ts";

await useBackend("wasm", { log: null });

const TOLERANCE = 1e-5;

for (const testCase of CONV_CASES) {
  const [shape, k, s, pad, co = 5] = testCase;
  Deno.test(`conv2d gradients on wasm match cpu: x ${shape}, ${k}x${k}x${co}, stride ${s}, ${pad}`, async () => {
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

Deno.test("registerTrainingKernels() is idempotent; the kernels it lists are registered", () => {
  assertEquals(registerTrainingKernels(), 0);
  const registered = new Set(tf.getKernelsForBackend("wasm").map((k) => k.kernelName));
  for (const name of WASM_TRAINING_KERNELS) assert(registered.has(name), name);
});

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

for (
  const [shape, size, stride, pad] of [
    [[2, 9, 9, 3], 3, 2, "valid"],
    [[2, 16, 16, 4], 8, 8, "same"],
    [[1, 7, 7, 2], 3, 1, "same"],
    [[1, 15, 15, 5], 4, 4, "same"],
    [[2, 9, 9, 8], 3, 2, "valid"],
    [[1, 10, 11, 4], 3, 1, "same"],
    [[2, 15, 13, 8], 4, 4, "same"],
    [[1, 17, 17, 4], 4, 4, "valid"],
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

// 3 channels: a loop in JavaScript; 8: the SIMD kernel, 4 channels at a time.
for (const channels of [3, 8]) {
  Deno.test(`max-pool gradient on wasm matches cpu exactly with ties, windows of -Infinity or NaN, and without the forward output (${channels} channels)`, async () => {
    await maxPoolGradEdgeCases(channels);
  });
}

async function maxPoolGradEdgeCases(channels: number) {
  // Rounded values after a ReLU: many windows hold equal maxima (zeros and small integers), where
  // the gradient goes to the first one. One window holds nothing but -Infinity (no gradient),
  // another one a NaN among its values, which the cpu backend passes by.
  const shape: [number, number, number, number] = [2, 8, 8, channels];
  const nanAt = (64 + 8 * 5 + 6) * channels + 1;
  await tf.setBackend("cpu");
  const x = tf.tidy(() => tf.relu(tf.round(tf.randomNormal(shape, 0, 1.5, "float32", 11))));
  const values = (await x.data()) as Float32Array;
  x.dispose();
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) values[(r * 8 + c) * channels] = -Infinity;
  }
  values[nanAt] = NaN;
  // The forward output as the cpu backend computes it (the wasm one treats NaN differently: its
  // maximum restarts after a NaN), and the same with a NaN maximum where the NaN is.
  const maxima = await dataOf(tf.maxPool(tf.tensor4d(values, shape), 4, 4, "same"));
  const nanMaxima = { ...maxima, values: maxima.values.slice() };
  nanMaxima.values[(4 + 3) * channels + 1] = NaN;
  const results: Record<string, number[]> = {};
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    for (
      const [name, output] of [["maxima", maxima], ["NaN maxima", nanMaxima], [
        "none",
        null,
      ]] as const
    ) {
      const grads = tf.tidy(() => {
        const input = tf.tensor4d(values, shape);
        const dy = tf.add(tf.reshape(tf.range(0, maxima.values.length), maxima.shape), 1);
        const inputs: tf.NamedTensorMap = { dy, input };
        if (output) inputs.output = tf.tensor(output.values, output.shape);
        return tf.engine().runKernel("MaxPoolGrad", inputs, {
          filterSize: 4,
          strides: 4,
          pad: "same",
        }) as tf.Tensor;
      });
      results[`${backend}, output: ${name}`] = Array.from(await grads.data());
      grads.dispose();
    }
    assertEquals(tf.memory().numTensors, before, `${backend}: no tensors leaked`);
  }
  const expected = results["cpu, output: maxima"];
  for (const [name, actual] of Object.entries(results)) assertEquals(actual, expected, name);
  assertEquals(expected.filter((g) => g !== 0).length, 2 * 2 * 2 * channels - 1, "one per window");
}

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
