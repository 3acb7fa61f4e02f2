import { assertAlmostEquals, assertEquals, assertRejects } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { recalibrateBatchNorm } from "@lib/training/recalibration.ts";
import { batchNormalization, batchNormLayers } from "@lib/layers/batch_norm.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";

await tf.setBackend("cpu");

const EPSILON = 0.001;

// conv 3x3 -> BN (fixed training) -> ReLU -> conv 1x1 -> BN (follows the phase) -> dense softmax.
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 2] });
  let x = tf.layers.conv2d({
    filters: 3,
    kernelSize: 3,
    padding: "same",
    kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    biasInitializer: tf.initializers.constant({ value: 0.2 }),
    name: "conv1",
  }).apply(input) as tf.SymbolicTensor;
  x = batchNormalization({ training: true, name: "bn1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({
    filters: 4,
    kernelSize: 1,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    name: "conv2",
  }).apply(x) as tf.SymbolicTensor;
  x = batchNormalization({ name: "bn2" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  // A scale and offset other than 1 and 0, so that the second layer's inputs depend on them.
  const bn1 = model.getLayer("bn1");
  const [, , mean, variance] = bn1.getWeights();
  bn1.setWeights([tf.tensor1d([1.5, 0.5, 2]), tf.tensor1d([0.1, -0.2, 0.3]), mean, variance]);
  return model;
}

// The population statistics computed directly: the first layer's inputs do not depend on any batch
// normalisation; the second's come from the first normalised with each mini-batch's statistics.
function directStatistics(model: tf.LayersModel, x: tf.Tensor4D, batchSize: number) {
  return tf.tidy(() => {
    const conv1 = model.getLayer("conv1");
    const conv2 = model.getLayer("conv2");
    const [gamma, beta] = model.getLayer("bn1").getWeights();
    const z1 = conv1.apply(x) as tf.Tensor4D;
    const z2: tf.Tensor[] = [];
    for (let start = 0; start < x.shape[0]; start += batchSize) {
      const count = Math.min(batchSize, x.shape[0] - start);
      const z = tf.slice(z1, start, count);
      const { mean, variance } = tf.moments(z, [0, 1, 2]);
      const normed = tf.add(
        tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, EPSILON))), gamma),
        beta,
      );
      z2.push(conv2.apply(tf.relu(normed)) as tf.Tensor);
    }
    const first = tf.moments(z1, [0, 1, 2]);
    const second = tf.moments(tf.concat(z2), [0, 1, 2]);
    return [first.mean, first.variance, second.mean, second.variance].map((t) =>
      Array.from(t.dataSync())
    );
  });
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assertEquals(actual.length, expected.length, what);
  actual.forEach((v, i) => assertAlmostEquals(v, expected[i], 1e-5, `${what}[${i}]`));
}

Deno.test("recalibrateBatchNorm() sets each layer's moving averages to its inputs' population statistics", async () => {
  const model = smallModel();
  const x = tf.randomUniform([10, 5, 5, 2], 0, 1, "float32", 7) as tf.Tensor4D;
  const expected = directStatistics(model, x, 4);
  const done = await recalibrateBatchNorm(model, x, { batchSize: 4 });
  assertEquals(done, { layers: 2, images: 10 });
  const [bn1, bn2] = ["bn1", "bn2"].map((name) =>
    model.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()))
  );
  assertClose(bn1[2], expected[0], "bn1 moving mean");
  assertClose(bn1[3], expected[1], "bn1 moving variance");
  assertClose(bn2[2], expected[2], "bn2 moving mean");
  assertClose(bn2[3], expected[3], "bn2 moving variance");
  // The trainable weights did not move.
  assertEquals(bn1[0], [1.5, 0.5, 2]);
  assertClose(bn1[1], [0.1, -0.2, 0.3], "bn1 beta");
  assertEquals(bn2[0], [1, 1, 1, 1]);
  assertEquals(bn2[1], [0, 0, 0, 0]);
  tf.dispose(x);
  model.dispose();
});

Deno.test("recalibrateBatchNorm() restores the layers' modes and leaves no tensors", async () => {
  const model = smallModel();
  const x = tf.randomUniform([6, 5, 5, 2], 0, 1, "float32", 8);
  const before = tf.memory().numTensors;
  await recalibrateBatchNorm(model, x, { batchSize: 4 });
  assertEquals(tf.memory().numTensors, before);
  assertEquals(batchNormLayers(model).map((layer) => layer.fixedTraining), [true, undefined]);
  tf.dispose(x);
  model.dispose();
});

Deno.test("recalibrateBatchNorm() makes inference mode agree with the statistics of the whole set", async () => {
  // With one batch covering the whole set, inference with the recalibrated averages must give what
  // training mode gives on that batch (up to the epsilon both use).
  const model = smallModel();
  const x = tf.randomUniform([8, 5, 5, 2], 0, 1, "float32", 9);
  await recalibrateBatchNorm(model, x, { batchSize: 8 });
  for (const layer of batchNormLayers(model)) layer.fixedTraining = true;
  const batch = model.predict(x) as tf.Tensor;
  for (const layer of batchNormLayers(model)) layer.fixedTraining = false;
  const single = tf.concat(
    Array.from({ length: 8 }, (_, i) => model.predict(tf.slice(x, i, 1)) as tf.Tensor),
  );
  assertClose(Array.from(single.dataSync()), Array.from(batch.dataSync()), "probabilities");
  tf.dispose([x, batch, single]);
  model.dispose();
});

Deno.test("recalibrateBatchNorm() leaves a model without batch normalisation alone and rejects bad input", async () => {
  const baseline = convolutionalModel([64, 64, 3]);
  const x = tf.zeros([2, 64, 64, 3]);
  assertEquals(await recalibrateBatchNorm(baseline, x), { layers: 0, images: 2 });
  await assertRejects(
    () => recalibrateBatchNorm(baseline, x, { batchSize: 1 }),
    RangeError,
    "batch size 1",
  );
  await assertRejects(
    () => recalibrateBatchNorm(baseline, tf.zeros([0, 64, 64, 3])),
    RangeError,
    "on 0 images",
  );
  tf.dispose(x);
  baseline.dispose();
});
