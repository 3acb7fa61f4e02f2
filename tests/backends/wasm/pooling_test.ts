import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { dataOf, on, relativeError } from "../../_compare.ts";

await useBackend("wasm", { log: null });

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
