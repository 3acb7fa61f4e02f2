import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import * as tf from "@lib/tf.ts";
import {
  type BlockFunction,
  checkConvolutionalBlock,
  checkIdentityBlock,
  checkModel,
  courseTestInput,
} from "@lib/models/self_check.ts";
import { convolutionalBlock, identityBlock } from "@lib/models/resnet.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { JUPYTER_DISPLAY } from "@lib/display/mod.ts";

await tf.setBackend("cpu");

// A learner's block, written with tf.layers as the course asks, with optional mistakes.
function learnerBlock(
  mistake?: "no final relu" | "no shortcut" | "ignores s" | "shortcut without bn",
): BlockFunction {
  return (x, f, [f1, f2, f3], options) => {
    const s = mistake === "ignores s" ? 1 : options.s ?? 1;
    const conv = (filters: number, k: number, stride: number, padding: "same" | "valid") =>
      tf.layers.conv2d({
        filters,
        kernelSize: k,
        strides: stride,
        padding,
        kernelInitializer: options.initializer,
      });
    const bn = () => tf.layers.batchNormalization({ axis: 3, momentum: 0.99, epsilon: 0.001 });
    const call = (layer: tf.layers.Layer, input: tf.Tensor | tf.Tensor[]) =>
      layer.apply(input, { training: options.training }) as tf.Tensor;
    const layers: tf.layers.Layer[] = [];
    const use = (
      layer: tf.layers.Layer,
      input: tf.Tensor | tf.Tensor[],
    ) => (layers.push(layer), call(layer, input));
    const out = tf.tidy(() => {
      let y = use(tf.layers.reLU(), use(bn(), use(conv(f1, 1, s, "valid"), x)));
      y = use(tf.layers.reLU(), use(bn(), use(conv(f2, f, 1, "same"), y)));
      y = use(bn(), use(conv(f3, 1, 1, "valid"), y));
      let shortcut: tf.Tensor = x;
      if (options.s !== undefined) {
        shortcut = use(conv(f3, 1, s, "valid"), x);
        if (mistake !== "shortcut without bn") shortcut = use(bn(), shortcut);
      }
      if (mistake !== "no shortcut") y = use(tf.layers.add(), [y, shortcut]);
      return mistake === "no final relu" ? y : use(tf.layers.reLU(), y);
    });
    layers.forEach((layer) => layer.dispose());
    return out;
  };
}

const text = (value: object) =>
  (value as unknown as Record<symbol, () => Record<string, string>>)
    [JUPYTER_DISPLAY]()["text/plain"];

Deno.test("checkIdentityBlock() passes the reference and a correct learner's block", async () => {
  for (const candidate of [identityBlock as BlockFunction, learnerBlock()]) {
    const check = await checkIdentityBlock(candidate);
    assertEquals(check.failures, []);
    assertEquals(text(check), "✔ identity block: all tests passed");
  }
});

Deno.test("checkIdentityBlock() names the difference of a block without its final ReLU or shortcut", async () => {
  const noRelu = await checkIdentityBlock(learnerBlock("no final relu"));
  assert(!noRelu.passed);
  assertStringIncludes(
    noRelu.failures[0],
    "with training=false the output differs at [0, 0, 0, 0]: got -1, expected 0",
  );
  const noShortcut = await checkIdentityBlock(learnerBlock("no shortcut"));
  assertStringIncludes(
    noShortcut.failures[0],
    "with training=false the output differs at [1, 0, 0, 0]",
  );
});

Deno.test("checkConvolutionalBlock() passes a correct block and catches a wrong stride or shortcut", async () => {
  assertEquals((await checkConvolutionalBlock(learnerBlock())).failures, []);
  const stride = await checkConvolutionalBlock(learnerBlock("ignores s"));
  assertStringIncludes(
    stride.failures[0],
    "the output shape is (3, 4, 4, 6), expected (3, 2, 2, 6)",
  );
  const bn = await checkConvolutionalBlock(learnerBlock("shortcut without bn"));
  // in inference mode a fresh batch normalisation is nearly the identity; training mode shows it
  assertStringIncludes(bn.failures[0], "with training=true the output differs");
  assertStringIncludes(text(bn), "✘ convolutional block:");
});

Deno.test("checkIdentityBlock() reports a block that throws, without throwing", async () => {
  const check = await checkIdentityBlock(() => {
    throw new Error("not implemented");
  });
  assertEquals(check.failures, [
    "with training=false your function threw: not implemented",
    "with training=true your function threw: not implemented",
  ]);
});

Deno.test("checkModel() compares layers and parameter counts", () => {
  const reference = convolutionalModel();
  assertEquals(checkModel(convolutionalModel(), reference).failures, []);
  const input = tf.input({ shape: [64, 64, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 4, padding: "same" }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 4, strides: 4, padding: "same" }).apply(
    x,
  ) as tf.SymbolicTensor;
  const wrong = tf.model({ inputs: input, outputs: x, name: "mine" });
  const check = checkModel(wrong, reference);
  assertEquals(
    check.failures,
    [
      "the model has 4 layers, expected 9",
      "layer 3 (max_pooling2d_MaxPooling2D1) is MaxPooling2D with output (None, 16, 16, 8), expected MaxPooling2D with output (None, 8, 8, 8)",
      "the model has 392 parameters, expected 1310",
      "the model has 392 trainable parameters, expected 1310",
    ].map((
      line,
      i,
    ) => (i === 1 ? line.replace("max_pooling2d_MaxPooling2D1", wrong.layers[3].name) : line)),
  );
  wrong.dispose();
  reference.dispose();
});

Deno.test("checkModel() builds a reference from a function and frees it", () => {
  const model = convolutionalModel();
  const before = tf.memory().numTensors;
  const check = checkModel(model, () => convolutionalModel());
  assert(check.passed, check.failures.join("; "));
  assertEquals(tf.memory().numTensors, before);
  const failed = checkModel(model, () => convolutionalModel([32, 32, 3]));
  assert(!failed.passed);
  assertEquals(tf.memory().numTensors, before);
  model.dispose();
});

Deno.test("the checks leave no tensors behind", async () => {
  const before = tf.memory().numTensors;
  await checkIdentityBlock(learnerBlock());
  await checkConvolutionalBlock(learnerBlock("ignores s"));
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("convolutionalBlock is its own reference", async () => {
  assert((await checkConvolutionalBlock(convolutionalBlock as BlockFunction)).passed);
});

Deno.test("courseTestInput() is the course's X: images of -1, 1 and 3, owned by the caller", () => {
  const before = tf.memory().numTensors;
  const x = courseTestInput();
  assertEquals(x.shape, [3, 4, 4, 3]);
  assertEquals(
    tf.tidy(() => tf.mean(x, [1, 2, 3]).arraySync()),
    [-1, 1, 3],
  );
  assertEquals(tf.tidy(() => tf.sum(tf.abs(x)).arraySync()), 48 * (1 + 1 + 3));
  x.dispose();
  assertEquals(tf.memory().numTensors, before);
});
