import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { randomData, relativeError, runOn } from "../../_compare.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

const TOLERANCE = 1e-6;

// The dense layer of both models (64 inputs for the baseline, 2048 for ResNet-50, 6 classes):
// the matrix product with its bias, then the cross-entropy of the softmax, computed from the
// logits as the library's compiled models do and from the probabilities as TF.js's loss does.
for (const inputs of [64, 2048]) {
  Deno.test(`a dense softmax layer, its cross-entropy and their gradients on webgpu match cpu: ${inputs} inputs`, async () => {
    const data = [
      randomData([8, inputs], 1),
      randomData([inputs, 6], 2),
      randomData([6], 3),
    ];
    data[1].values.forEach((v, i) => (data[1].values[i] = v / Math.sqrt(inputs)));
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 3], "int32"), 6));
    data.push({ values: (await labels.data()) as Float32Array, shape: labels.shape });
    labels.dispose();
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, y: tf.Tensor) => {
      const logits = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: c as tf.Tensor2D, bias: d });
      const fromLogits = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.mean(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits(a, c, d))), -1)));
      const fromProbabilities = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.mean(tf.metrics.categoricalCrossentropy(y, tf.softmax(logits(a, c, d))));
      // intermediates freed, as in a training step
      return tf.tidy(() => [
        tf.softmax(logits(x, w, b)),
        fromLogits(x, w, b),
        ...tf.grads(fromLogits)([x, w, b]),
        fromProbabilities(x, w, b),
        ...tf.grads(fromProbabilities)([x, w, b]),
      ]);
    };
    const expected = await runOn("cpu", f, data);
    const actual = await runOn("webgpu", f, data);
    assertEquals(actual.leaked, 0, "tensors leaked");
    ["softmax", "loss", "dx", "dW", "db", "TF.js loss", "dx", "dW", "db"].forEach((name, i) => {
      const error = relativeError(actual.values[i], expected.values[i]);
      assert(error < TOLERANCE, `${name} error ${error}`);
    });
  });
}

Deno.test("BatchMatMul with transpose flags on webgpu matches cpu", async () => {
  const data = [randomData([2, 5, 3], 4), randomData([2, 4, 5], 5)];
  const f = (a: tf.Tensor, b: tf.Tensor) => [tf.matMul(a, b, true, true)];
  const expected = await runOn("cpu", f, data);
  const actual = await runOn("webgpu", f, data);
  const error = relativeError(actual.values[0], expected.values[0]);
  assert(error < TOLERANCE, `error ${error}`);
});
