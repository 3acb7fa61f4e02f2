// The exercise of notebook 2 as a learner completes it: blocks written with plain TF.js layers and
// the library's batch normalisation pass the checks, and ResNet-50 builds and trains from them.
import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import * as signs from "@lib/mod.ts";

await tf.setBackend("cpu");

function learnerIdentityBlock<T extends signs.BlockInput>(
  X: T,
  f: number,
  filters: number[],
  options: signs.BlockOptions = {},
): T {
  const { training = true, initializer = signs.randomUniform() } = options;
  const [F1, F2, F3] = filters;
  const shortcut = X;
  const conv = (n: number, k: number, padding: "same" | "valid") =>
    tf.layers.conv2d({
      filters: n,
      kernelSize: k,
      strides: 1,
      padding,
      kernelInitializer: initializer,
    });
  X = signs.applyLayer(conv(F1, 1, "valid"), X);
  X = signs.applyLayer(signs.batchNormalization({ training }), X);
  X = signs.applyLayer(tf.layers.activation({ activation: "relu" }), X);
  X = signs.applyLayer(conv(F2, f, "same"), X);
  X = signs.applyLayer(signs.batchNormalization({ training }), X);
  X = signs.applyLayer(tf.layers.activation({ activation: "relu" }), X);
  X = signs.applyLayer(conv(F3, 1, "valid"), X);
  X = signs.applyLayer(signs.batchNormalization({ training }), X);
  X = signs.applyLayer(tf.layers.add(), [X, shortcut]);
  return signs.applyLayer(tf.layers.activation({ activation: "relu" }), X);
}

function learnerConvolutionalBlock<T extends signs.BlockInput>(
  X: T,
  f: number,
  filters: number[],
  options: signs.ConvolutionalBlockOptions = {},
): T {
  const { training = true, initializer = signs.glorotUniform(), s = 2 } = options;
  const [F1, F2, F3] = filters;
  const conv = (n: number, k: number, strides: number, padding: "same" | "valid") =>
    tf.layers.conv2d({
      filters: n,
      kernelSize: k,
      strides,
      padding,
      kernelInitializer: initializer,
    });
  let shortcut = signs.applyLayer(conv(F3, 1, s, "valid"), X);
  shortcut = signs.applyLayer(signs.batchNormalization({ training }), shortcut);
  X = signs.applyLayer(conv(F1, 1, s, "valid"), X);
  X = signs.applyLayer(signs.batchNormalization({ training }), X);
  X = signs.applyLayer(tf.layers.activation({ activation: "relu" }), X);
  X = signs.applyLayer(conv(F2, f, 1, "same"), X);
  X = signs.applyLayer(signs.batchNormalization({ training }), X);
  X = signs.applyLayer(tf.layers.activation({ activation: "relu" }), X);
  X = signs.applyLayer(conv(F3, 1, 1, "valid"), X);
  X = signs.applyLayer(signs.batchNormalization({ training }), X);
  X = signs.applyLayer(tf.layers.add(), [X, shortcut]);
  return signs.applyLayer(tf.layers.activation({ activation: "relu" }), X);
}

Deno.test("a learner's blocks written as notebook 2 asks pass the checks", async () => {
  const before = tf.memory().numTensors;
  assert((await signs.checkIdentityBlock(learnerIdentityBlock)).passed, "identity block");
  assert(
    (await signs.checkConvolutionalBlock(learnerConvolutionalBlock)).passed,
    "convolutional block",
  );
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("resNet50() built from a learner's blocks has the course's layers and parameters", () => {
  const model = signs.resNet50({
    blocks: { identityBlock: learnerIdentityBlock, convolutionalBlock: learnerConvolutionalBlock },
  });
  assertEquals(model.countParams(), 23_600_006);
  assertEquals(signs.checkModel(model, () => signs.resNet50()).failures, []);
  model.dispose();
});

Deno.test("a model of a learner's blocks trains: the loss is finite, nothing leaks", async () => {
  const before = tf.memory().numTensors;
  const input = tf.input({ shape: [8, 8, 3] });
  let X = learnerConvolutionalBlock(input, 3, [2, 2, 4], { s: 2 });
  X = learnerIdentityBlock(X, 3, [2, 2, 4]);
  X = signs.applyLayer(tf.layers.flatten(), X);
  const output = signs.applyLayer(tf.layers.dense({ units: 6, activation: "softmax" }), X);
  const model = tf.model({ inputs: input, outputs: output });
  signs.compileModel(model);
  const x = tf.randomUniform([8, 8, 8, 3], 0, 1, "float32", 1);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 1], "int32"), 6));
  const history = await signs.fitModel(model, x, y, { epochs: 2, batchSize: 4, log: null });
  assert(history.loss.every(Number.isFinite), `losses ${history.loss}`);
  tf.dispose([x, y]);
  signs.disposeModel(model);
  assertEquals(tf.memory().numTensors, before);
});
