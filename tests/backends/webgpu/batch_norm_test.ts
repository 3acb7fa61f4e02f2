import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { BATCH_NORM_TRAINING, batchNormLayerCall, MOVING_AVERAGES } from "@lib/ops/batch_norm.ts";
import { ADAM_UPDATE } from "@lib/ops/adam.ts";
import { RELU_GRAD } from "@lib/ops/relu_grad.ts";
import { batchNormalization } from "@lib/layers/batch_norm.ts";
import { type Data, randomData, relativeError, runOn } from "../../_compare.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

const TOLERANCE = 1e-6;
const EPSILON = 0.001;

Deno.test("webgpu has none of the project's training kernels: batch norm, Adam and ReLU's gradient run TF.js's own ops", () => {
  for (const kernel of [BATCH_NORM_TRAINING, MOVING_AVERAGES, ADAM_UPDATE, RELU_GRAD]) {
    assertEquals(tf.getKernel(kernel, "webgpu"), undefined, kernel);
  }
  const layer = batchNormalization();
  const x = tf.ones([1, 2, 2, 3]);
  assertEquals(batchNormLayerCall(layer, x, true), null, "the layer runs its own code");
  x.dispose();
});

// Training mode: the batch's statistics (moments, then batchNorm), as the layer computes it here.
function training(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor[] {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return [tf.batchNorm(x as tf.Tensor4D, mean, variance, offset, scale, EPSILON), mean, variance];
}

// Inference mode: the moving averages (FusedBatchNorm).
const inference = (mean: tf.Tensor, variance: tf.Tensor) =>
(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
): tf.Tensor[] => [tf.batchNorm(x as tf.Tensor4D, mean, variance, offset, scale, EPSILON)];

// The outputs, then the gradients of sum(y * dy) with respect to x, scale and offset.
const withGradients = (f: typeof training) =>
(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
  dy: tf.Tensor,
  ...rest: tf.Tensor[]
) =>
  tf.tidy(() => {
    const g = rest.length ? inference(rest[0], rest[1]) : f;
    return [
      ...g(x, scale, offset),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(g(a, b, c)[0], dy)))(
        [x, scale, offset],
      ),
    ];
  });

const SHAPES: [number, number, number, number][] = [
  [4, 5, 5, 3],
  [2, 8, 8, 16],
  [3, 7, 9, 64],
  [32, 2, 2, 8],
];

for (const shape of SHAPES) {
  const c = shape[3];
  const inputs = (): Data[] => {
    const x = randomData(shape, 1);
    x.values.forEach((v, i) => (x.values[i] = 3 * v + 2)); // a mean and variance far from 0, 1
    return [x, randomData([c], 2), randomData([c], 3), randomData(shape, 4)];
  };
  for (const mode of ["training", "inference"] as const) {
    Deno.test(`batch normalisation in ${mode} mode and its gradients on webgpu match cpu: [${shape}]`, async () => {
      const data = inputs();
      if (mode === "inference") {
        const variance = randomData([c], 5);
        variance.values.forEach((v, i) => (variance.values[i] = 9 + 2 * v));
        const mean = randomData([c], 6);
        mean.values.forEach((v, i) => (mean.values[i] = 2 + v));
        data.push(mean, variance);
      }
      const f = withGradients(training);
      const expected = await runOn("cpu", f, data);
      const actual = await runOn("webgpu", f, data);
      assertEquals(actual.leaked, 0, "tensors leaked");
      const names = mode === "training"
        ? ["y", "mean", "variance", "dx", "dscale", "doffset"]
        : ["y", "dx", "dscale", "doffset"];
      names.forEach((name, i) => {
        const error = relativeError(actual.values[i], expected.values[i]);
        assert(error < TOLERANCE, `${name}: relative error ${error}`);
      });
    });
  }
}

Deno.test("the library's BatchNormalization layer on webgpu normalises in both modes and updates its moving averages as on cpu", async () => {
  const x = randomData([4, 3, 3, 6], 5);
  x.values.forEach((v, i) => (x.values[i] = 2 * v + 1));
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const layer = batchNormalization();
    const input = tf.tensor(x.values, x.shape);
    const outputs: Float32Array[] = [];
    for (let step = 0; step < 3; step++) {
      const y = layer.apply(input, { training: true }) as tf.Tensor;
      outputs.push((await y.data()) as Float32Array);
      y.dispose();
    }
    const y = layer.apply(input, { training: false }) as tf.Tensor;
    outputs.push((await y.data()) as Float32Array);
    const [, , mean, variance] = layer.getWeights();
    outputs.push((await mean.data()) as Float32Array, (await variance.data()) as Float32Array);
    tf.dispose([y, input]);
    layer.dispose();
    return { outputs, leaked: tf.memory().numTensors - before };
  };
  const expected = await run("cpu");
  const actual = await run("webgpu");
  assertEquals(actual.leaked, 0, "tensors leaked");
  ["training 1", "training 2", "training 3", "inference", "moving mean", "moving variance"]
    .forEach((name, i) => {
      const error = relativeError(actual.outputs[i], expected.outputs[i]);
      assert(error < TOLERANCE, `${name}: relative error ${error}`);
    });
  // the averages moved from their initial zeros
  assert(relativeError(expected.outputs[4], new Float32Array(6)) > 0.5);
});
