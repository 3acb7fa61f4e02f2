import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { ADAM_UPDATE, FusedAdamOptimizer } from "@lib/ops/adam.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { registerOnednnBackend } from "@lib/backends/onednn/mod.ts";
import { type Data, randomData, relativeError } from "../../_compare.ts";

await useBackend("wasm", { log: null });
const onednn = await registerOnednnBackend();
const SHAPES = [[3, 3, 4, 8], [5000], [7]];

// Three Adam steps on variables of the given shapes: TF.js's optimizer on `backend` or the fused
// one; returns the final weights and the optimizer's state (iterations, moments).
async function threeSteps(
  backend: string,
  fused: boolean,
  start: Data[],
  gradients: Data[][],
): Promise<{ weights: Float32Array[]; state: Float32Array[]; leaked: number }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const variables = start.map((d, i) =>
    tf.tidy(() => tf.variable(tf.tensor(d.values, d.shape), true, `w${i}`))
  );
  const optimizer = fused
    ? new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7)
    : tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  for (const step of gradients) {
    const grads = step.map((d, i) => ({ name: `w${i}`, tensor: tf.tensor(d.values, d.shape) }));
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
  }
  const weights = await Promise.all(variables.map((v) => v.data() as Promise<Float32Array>));
  const saved = await optimizer.getWeights();
  const state = await Promise.all(saved.map((w) => w.tensor.data() as Promise<Float32Array>));
  tf.dispose(saved.map((w) => w.tensor));
  optimizer.dispose();
  tf.dispose(variables);
  return { weights, state, leaked: tf.memory().numTensors - before };
}

for (const backend of ["wasm", "onednn"]) {
  Deno.test({
    name: `FusedAdamOptimizer on ${backend} matches TF.js's Adam on cpu over three steps`,
    ignore: backend === "onednn" && !onednn.available,
    async fn() {
      assert(tf.getKernel(ADAM_UPDATE, backend), `${backend} has the fused update`);
      const start = SHAPES.map((s, i) => randomData(s, i));
      const gradients = [0, 1, 2].map((step) => SHAPES.map((s, i) => randomData(s, 10 * step + i)));
      const expected = await threeSteps("cpu", false, start, gradients);
      const actual = await threeSteps(backend, true, start, gradients);
      assertEquals(actual.leaked, 0, "tensors leaked");
      assertEquals(expected.leaked, 0, "tensors leaked on cpu");
      expected.weights.forEach((e, i) => {
        const error = relativeError(actual.weights[i], e);
        assert(error < 1e-6, `weights ${i}: relative error ${error}`);
        assert(relativeError(e, start[i].values) > 1e-3, `weights ${i} moved`);
      });
      assertEquals(actual.state.length, expected.state.length);
      expected.state.forEach((e, i) => {
        const error = relativeError(actual.state[i], e);
        assert(error < 1e-6, `optimizer state ${i}: relative error ${error}`);
      });
    },
  });
}

Deno.test({
  name: "FusedAdamOptimizer on cpu is TF.js's Adam, saved as Adam",
  async fn() {
    const start = SHAPES.map((s, i) => randomData(s, i));
    const gradients = [0, 1].map((step) => SHAPES.map((s, i) => randomData(s, 10 * step + i)));
    const expected = await threeSteps("cpu", false, start, gradients);
    const actual = await threeSteps("cpu", true, start, gradients);
    expected.weights.forEach((e, i) => assertEquals(actual.weights[i], e));
    assertEquals(new FusedAdamOptimizer(0.001, 0.9, 0.999).getClassName(), "Adam");
  },
});
