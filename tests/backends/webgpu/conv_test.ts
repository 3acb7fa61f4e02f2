import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { CONV_CASES, convResults, randomData, relativeError, runOn } from "../../_compare.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

// Relative L2 error against cpu: float32 sums in another order.
const TOLERANCE = 1e-6;

for (const testCase of CONV_CASES) {
  const [shape, k, s, pad, co = 5] = testCase;
  Deno.test(`conv2d and its gradients on webgpu match cpu: x ${shape}, ${k}x${k}x${co}, stride ${s}, ${pad}`, async () => {
    const expected = await convResults("cpu", testCase);
    await tf.setBackend("webgpu");
    const before = tf.memory().numTensors;
    const actual = await convResults("webgpu", testCase);
    assertEquals(tf.memory().numTensors, before, "no tensors leaked");
    ["y", "dx", "dW"].forEach((name, i) => {
      const error = relativeError(actual[i], expected[i]);
      assert(error < TOLERANCE, `${name} error ${error}`);
    });
  });
}

// What a Conv2D layer with a bias and a ReLU runs (FusedConv2D), and the gradients of its input,
// filter and bias.
for (
  const [shape, k, s, pad, activation] of [
    [[2, 9, 9, 3], 4, 1, "same", "relu"],
    [[2, 8, 8, 8], 2, 1, "same", "relu"],
    [[2, 9, 9, 4], 1, 2, "valid", "linear"],
    [[2, 11, 11, 3], 7, 2, "valid", "linear"],
  ] as const
) {
  Deno.test(`fused.conv2d with bias and ${activation} and its gradients on webgpu match cpu: x ${shape}, ${k}x${k}, stride ${s}, ${pad}`, async () => {
    const co = 6;
    const inputs = [randomData([...shape], 1), randomData([k, k, shape[3], co], 2)];
    inputs.push(randomData([co], 3));
    const output = tf.tidy(() =>
      tf.conv2d(tf.zeros([...shape]) as tf.Tensor4D, tf.zeros([k, k, shape[3], co]), s, pad)
    );
    inputs.push(randomData(output.shape, 4));
    output.dispose();
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) => {
      const conv = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.fused.conv2d({
          x: a as tf.Tensor4D,
          filter: c as tf.Tensor4D,
          strides: s,
          pad,
          bias: d,
          activation,
        });
      const g = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.sum(tf.mul(conv(a, c, d), dy))
      );
      return [conv(x, w, b), ...g([x, w, b])];
    };
    const expected = await runOn("cpu", f, inputs);
    const actual = await runOn("webgpu", f, inputs);
    assertEquals(actual.leaked, 0, "tensors leaked");
    ["y", "dx", "dW", "db"].forEach((name, i) => {
      const error = relativeError(actual.values[i], expected.values[i]);
      assert(error < TOLERANCE, `${name} error ${error}`);
    });
  });
}
