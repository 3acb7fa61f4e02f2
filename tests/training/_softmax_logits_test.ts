import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { keepSoftmaxLogits } from "@lib/training/_softmax_logits.ts";
import { compileModel, disposeModel } from "@lib/training/fit.ts";
import { loadCheckpoint, saveCheckpoint } from "@lib/training/checkpoint/mod.ts";

await tf.setBackend("cpu");

// One Dense softmax layer over two inputs whose logits for the input [1, 0] are [0, 30, 0]: the
// true class 0 gets a probability of about e^-30, far below TF.js's clipping threshold of 1e-7.
function confidentlyWrong(): tf.LayersModel {
  const input = tf.input({ shape: [2] });
  const output = tf.layers.dense({ units: 3, activation: "softmax", name: "fc" }).apply(input);
  const model = tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
  model.getLayer("fc").setWeights([tf.tensor2d([[0, 30, 0], [0, 0, 0]]), tf.zeros([3])]);
  return model;
}

const x = tf.tensor2d([[1, 0]]);
const y = tf.tensor2d([[1, 0, 0]]);
// -log softmax([0, 30, 0])[0] = 30 + log(1 + 2e^-30)
const KERAS_LOSS = 30;

async function lossOf(model: tf.LayersModel): Promise<number> {
  const result = model.evaluate(x, y) as tf.Scalar | tf.Scalar[];
  const loss = (await (Array.isArray(result) ? result[0] : result).data())[0];
  tf.dispose(result);
  return loss;
}

Deno.test("compileModel(): the cross-entropy of a softmax output comes from its logits, unclipped", async () => {
  const model = confidentlyWrong();
  model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
  assertAlmostEquals(await lossOf(model), -Math.log(1e-7), 1e-3, "TF.js's own loss is clipped");
  compileModel(model);
  const before = tf.memory().numTensors;
  assertAlmostEquals(await lossOf(model), KERAS_LOSS, 1e-3);
  assertEquals(tf.memory().numTensors, before, "the logits are freed with the step");
  const prediction = model.predict(x) as tf.Tensor;
  assertAlmostEquals((await prediction.data())[1], 1, 1e-6, "outputs are still probabilities");
  prediction.dispose();
  const applied = model.getLayer("fc").apply(x) as tf.Tensor;
  assertEquals(tf.memory().numTensors, before + 1, "applied at the top level: only the output");
  applied.dispose();
  disposeModel(model);
});

Deno.test("compileModel(): a confidently wrong example still gets a gradient (p - y)", async () => {
  // With the clipped loss the gradient is zero and Adam leaves the weights where they are.
  const model = confidentlyWrong();
  compileModel(model);
  const [, biasBefore] = model.getLayer("fc").getWeights().map((w) => w.arraySync() as number[]);
  const loss = (await model.trainOnBatch(x, y)) as number[];
  assertAlmostEquals(loss[0], KERAS_LOSS, 1e-3, "the loss of the step");
  const [, biasAfter] = model.getLayer("fc").getWeights().map((w) => w.arraySync() as number[]);
  // Adam's first step moves each weight by the learning rate against the sign of its gradient:
  // p - y = [-1, 1, 0] (up to e^-30).
  assertAlmostEquals(biasAfter[0] - biasBefore[0], 0.001, 1e-5);
  assertAlmostEquals(biasAfter[1] - biasBefore[1], -0.001, 1e-5);
  disposeModel(model);
});

Deno.test("keepSoftmaxLogits(): idempotent, leaves other layers alone, and survives a checkpoint", async () => {
  const input = tf.input({ shape: [2] });
  const hidden = tf.layers.dense({ units: 2, activation: "relu" }).apply(input);
  const output = tf.layers.dense({ units: 3, activation: "softmax", name: "fc" }).apply(hidden);
  const model = tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
  model.getLayer("fc").setWeights([tf.tensor2d([[0, 30, 0], [0, 0, 0]]), tf.zeros([3])]);
  model.layers[1].setWeights([tf.eye(2), tf.zeros([2])]);
  compileModel(model);
  assertEquals(keepSoftmaxLogits(model), 1, "one softmax Dense layer");
  assertEquals(keepSoftmaxLogits(model), 1, "again");
  assertAlmostEquals(await lossOf(model), KERAS_LOSS, 1e-3);
  const dir = await Deno.makeTempDir();
  try {
    await saveCheckpoint(dir, model, {
      epoch: 1,
      history: { epoch: [1], loss: [30], accuracy: [0] },
    });
    const loaded = await loadCheckpoint(dir);
    assertEquals(loaded.model.getLayer("fc").getConfig().activation, "softmax", "config unchanged");
    assertAlmostEquals(await lossOf(loaded.model), KERAS_LOSS, 1e-3, "loaded: from the logits too");
    disposeModel(loaded.model);
  } finally {
    await Deno.remove(dir, { recursive: true });
    disposeModel(model);
  }
});

Deno.test("the loss matches TF.js's where nothing is clipped", async () => {
  const model = confidentlyWrong();
  model.getLayer("fc").setWeights([
    tf.tensor2d([[0.5, -1, 2], [1, 0, 0]]),
    tf.tensor1d([0.1, 0, 0]),
  ]);
  model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
  const clipped = await lossOf(model);
  compileModel(model);
  const fromLogits = await lossOf(model);
  assert(Math.abs(clipped - fromLogits) < 1e-6, `${clipped} vs ${fromLogits}`);
  disposeModel(model);
});
