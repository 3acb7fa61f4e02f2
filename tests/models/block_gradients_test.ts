import { assert, assertAlmostEquals, assertEquals, assertRejects } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { blockGradients, shortcutGradients } from "@lib/models/block_gradients.ts";
import { resNet50 } from "@lib/models/resnet.ts";
import { batchNormLayers } from "@lib/layers/batch_norm.ts";
import { JUPYTER_DISPLAY } from "@lib/display/bundle.ts";
import { seedRandom } from "@lib/training/random.ts";

await tf.setBackend("cpu");

const SHAPE: [number, number, number] = [37, 37, 3];
const batch = (n: number, classes: number): [tf.Tensor4D, tf.Tensor2D] => {
  const x = tf.randomUniform([n, ...SHAPE], 0, 1, "float32", 7) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: n }, (_, i) => i % classes), "int32");
  const y = tf.oneHot(labels, classes) as tf.Tensor2D;
  labels.dispose();
  return [x, y];
};

Deno.test("blockGradients() measures each block of resNet50() in order and leaves the model as it was", async () => {
  seedRandom(3);
  const model = resNet50({ inputShape: [37, 37, 3], classes: 3, training: null });
  const [x, y] = batch(3, 3);
  const before = tf.memory().numTensors;
  const averages = model.nonTrainableWeights.map((w) => w.read().dataSync().slice());
  const measured = await blockGradients(model, x, y);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(measured.blocks, [
    ..."abc".split("").map((c) => `res2${c}`),
    ..."abcd".split("").map((c) => `res3${c}`),
    ..."abcdef".split("").map((c) => `res4${c}`),
    ..."abc".split("").map((c) => `res5${c}`),
  ]);
  assertEquals(measured.sizes.length, 16);
  assert(measured.sizes.every((s) => Number.isFinite(s) && s > 0), String(measured.sizes));
  assert(measured.loss > 0 && Number.isFinite(measured.loss));
  // Training mode moved the moving averages; they are back, and so is the layers' mode.
  model.nonTrainableWeights.forEach((w, i) => assertEquals(w.read().dataSync(), averages[i]));
  assert(batchNormLayers(model).every((layer) => layer.fixedTraining === undefined));
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("blockGradients() gives the root mean square of the loss's gradient at a block's output", async () => {
  // A model whose "block" ends at the layer b1_out: the gradient there is that of the head alone.
  const input = tf.input({ shape: [4, 4, 2] });
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", name: "b1_conv" });
  const relu = tf.layers.activation({ activation: "relu", name: "b1_out" });
  const flatten = tf.layers.flatten();
  const dense = tf.layers.dense({ units: 2, activation: "softmax" });
  const a = relu.apply(conv.apply(input)) as tf.SymbolicTensor;
  const output = dense.apply(flatten.apply(a)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const x = tf.randomNormal([5, 4, 4, 2], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1], "int32"), 2);
  const measured = await blockGradients(model, x, y, { blocks: ["b1_out"] });
  assertEquals(measured.blocks, ["b1_out"]);
  const [expected, loss] = tf.tidy(() => {
    const activation = relu.apply(conv.apply(x)) as tf.Tensor;
    const head = (t: tf.Tensor) =>
      tf.mean(tf.metrics.categoricalCrossentropy(y, dense.apply(flatten.apply(t)) as tf.Tensor));
    const g = tf.grad(head)(activation);
    return [tf.sqrt(tf.mean(tf.square(g))).dataSync()[0], head(activation).dataSync()[0]];
  });
  assertAlmostEquals(measured.sizes[0], expected, expected * 1e-5);
  assertAlmostEquals(measured.loss, loss, 1e-6);
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("blockGradients() rejects what it cannot measure, naming it", async () => {
  const model = resNet50({ inputShape: [37, 37, 3], classes: 3 });
  const [x, y] = batch(2, 3);
  const flat = tf.zeros([2, 5]);
  const y4 = tf.zeros([2, 4]);
  const y3 = tf.zeros([3, 3]);
  await assertRejects(() => blockGradients(model, flat, y), TypeError, "x of shape [2, 5]");
  const small = tf.zeros([2, 36, 37, 3]);
  await assertRejects(
    () => blockGradients(model, small, y),
    TypeError,
    "x of shape [2, 36, 37, 3]: the model takes [batch, 37, 37, 3]",
  );
  await assertRejects(
    () => blockGradients(model, x, y4),
    TypeError,
    'y of shape [2, 4]: model "ResNet50" outputs [batch, 3]',
  );
  await assertRejects(
    () => blockGradients(model, x, y3),
    TypeError,
    "expected one-hot labels [2, classes]",
  );
  await assertRejects(
    () => blockGradients(model, x, y, { batchNorm: "frozen" as "training" }),
    RangeError,
    'batch normalisation "frozen"',
  );
  await assertRejects(
    () => blockGradients(model, x, y, { blocks: ["res2a_out", "res9z_out"] }),
    RangeError,
    'no layer "res9z_out"',
  );
  const input = tf.input({ shape: [37, 37, 3] });
  const other = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 3 }).apply(
      tf.layers.flatten().apply(input),
    ) as tf.SymbolicTensor,
  });
  await assertRejects(() => blockGradients(other, x, y), TypeError, 'named like "res2a_out"');
  tf.dispose([x, y, flat, small, y3, y4]);
  model.dispose();
  other.dispose();
});

const bundleOf = (value: object) =>
  (value as Record<symbol, () => Record<string, unknown>>)[JUPYTER_DISPLAY]();

Deno.test("shortcutGradients() without normalisation: the gradient vanishes without shortcuts only", async () => {
  seedRandom(1);
  const [x, y] = batch(2, 2);
  const before = tf.memory().numTensors;
  const measured = await shortcutGradients(x, y, { batchNorm: "inference" });
  assertEquals(tf.memory().numTensors, before);
  const { withShortcuts, withoutShortcuts } = measured.firstToLast;
  assert(withoutShortcuts < 1e-8, `without shortcuts: first / last ${withoutShortcuts}`);
  assert(withShortcuts > 1e-2, `with shortcuts: first / last ${withShortcuts}`);
  assertEquals(measured.withShortcuts.length, 16);
  assertEquals(measured.batchNorm, "inference");
  tf.dispose([x, y]);
});

Deno.test("shortcutGradients() in training mode: the gradient grows more toward the input without shortcuts", async () => {
  seedRandom(1);
  const [x, y] = batch(4, 3);
  const measured = await shortcutGradients(x, y);
  const { withShortcuts, withoutShortcuts } = measured.firstToLast;
  assert(withoutShortcuts > withShortcuts, `${withoutShortcuts} vs ${withShortcuts}`);
  assertEquals(measured.batchNorm, "training");
  tf.dispose([x, y]);
});

Deno.test("shortcutGradients() displays both curves on a logarithmic axis, and a text table", async () => {
  seedRandom(2);
  const [x, y] = batch(2, 2);
  const measured = await shortcutGradients(x, y, { batchNorm: "inference" });
  const bundle = bundleOf(measured);
  const figure = bundle["application/vnd.plotly.v1+json"] as {
    data: { name: string; x: string[]; y: number[] }[];
    layout: { yaxis: { type: string } };
  };
  assertEquals(figure.data.map((t) => t.name), ["ResNet-50 (with shortcuts)", "without shortcuts"]);
  assertEquals(figure.data[0].x, measured.blocks);
  assertEquals(figure.data[1].y, measured.withoutShortcuts);
  assertEquals(figure.layout.yaxis.type, "log");
  assertEquals(measured.chart.figure, figure as unknown as typeof measured.chart.figure);
  const text = bundle["text/plain"] as string;
  assert(text.includes("batch normalisation: inference"), text);
  assert(text.split("\n").some((line) => line.startsWith("res5c ")), text);
  tf.dispose([x, y]);
});

Deno.test("shortcutGradients() rejects a bad batch or mode, naming it", async () => {
  const [x, y] = batch(2, 2);
  await assertRejects(() => shortcutGradients(y, y), TypeError, "x of shape [2, 2]");
  await assertRejects(
    () => shortcutGradients(x, y, { batchNorm: "off" as "training" }),
    RangeError,
    '"off"',
  );
  tf.dispose([x, y]);
});
