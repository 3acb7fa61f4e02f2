import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { FusedAdamOptimizer } from "@lib/ops/adam.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { type Data, randomData, relativeError } from "../../_compare.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

const TOLERANCE = 1e-6;
const SHAPES = [[3, 3, 4, 8], [5000], [7]];

// Three steps of the library's Adam (TF.js's update on a backend without the fused kernel) from
// the same weights and gradients; the final weights, the optimizer's state, the tensors left.
async function threeSteps(backend: string, start: Data[], gradients: Data[][]) {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const variables = start.map((d, i) =>
    tf.tidy(() => tf.variable(tf.tensor(d.values, d.shape), true, `w${i}`))
  );
  const optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
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

Deno.test("FusedAdamOptimizer on webgpu matches it on cpu over three steps", async () => {
  const start = SHAPES.map((s, i) => randomData(s, i));
  const gradients = [0, 1, 2].map((step) => SHAPES.map((s, i) => randomData(s, 10 * step + i)));
  const expected = await threeSteps("cpu", start, gradients);
  const actual = await threeSteps("webgpu", start, gradients);
  assertEquals(actual.leaked, 0, "tensors leaked");
  expected.weights.forEach((e, i) => {
    const error = relativeError(actual.weights[i], e);
    assert(error < TOLERANCE, `weights ${i}: relative error ${error}`);
    assert(relativeError(e, start[i].values) > 1e-3, `weights ${i} moved`);
  });
  assertEquals(actual.state.length, expected.state.length);
  expected.state.forEach((e, i) => {
    const error = relativeError(actual.state[i], e);
    assert(error < TOLERANCE, `optimizer state ${i}: relative error ${error}`);
  });
});
