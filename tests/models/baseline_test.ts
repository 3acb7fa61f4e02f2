import { assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";

await tf.setBackend("cpu");

Deno.test("convolutionalModel() has the Keras layer list, shapes and 1,310 parameters", () => {
  const before = tf.memory().numTensors;
  const model = convolutionalModel([64, 64, 3]);
  const rows = model.layers.map((layer) => {
    const c = layer.getConfig();
    return [
      layer.getClassName(),
      JSON.stringify(layer.outputShape),
      layer.countParams(),
      c.padding ?? null,
      JSON.stringify(c.kernelSize ?? c.poolSize ?? null),
      JSON.stringify(c.strides ?? null),
      c.activation ?? null,
    ];
  });
  assertEquals(rows, [
    ["InputLayer", "[null,64,64,3]", 0, null, "null", "null", null],
    ["Conv2D", "[null,64,64,8]", 392, "same", "[4,4]", "[1,1]", "linear"],
    ["ReLU", "[null,64,64,8]", 0, null, "null", "null", null],
    ["MaxPooling2D", "[null,8,8,8]", 0, "same", "[8,8]", "[8,8]", null],
    ["Conv2D", "[null,8,8,16]", 528, "same", "[2,2]", "[1,1]", "linear"],
    ["ReLU", "[null,8,8,16]", 0, null, "null", "null", null],
    ["MaxPooling2D", "[null,2,2,16]", 0, "same", "[4,4]", "[4,4]", null],
    ["Flatten", "[null,64]", 0, null, "null", "null", null],
    ["Dense", "[null,6]", 390, null, "null", "null", "softmax"],
  ]);
  assertEquals(model.countParams(), 1310);
  for (const layer of model.layers.filter((l) => ["Conv2D", "Dense"].includes(l.getClassName()))) {
    const init = layer.getConfig().kernelInitializer as {
      className: string;
      config: Record<string, unknown>;
    };
    assertEquals([init.className, init.config.distribution, init.config.mode], [
      "VarianceScaling",
      "uniform",
      "fanAvg",
    ]);
  }
  model.dispose();
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("convolutionalModel() gives a probability vector per image", async () => {
  const model = convolutionalModel();
  const x = tf.randomUniform([2, 64, 64, 3]);
  const y = model.predict(x) as tf.Tensor;
  assertEquals(y.shape, [2, 6]);
  for (const row of (await y.array()) as number[][]) {
    assertEquals(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-5, true);
  }
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("convolutionalModel() rejects a malformed input shape", () => {
  assertThrows(
    () => convolutionalModel([64, 64] as unknown as [number, number, number]),
    TypeError,
    "input shape [64, 64]",
  );
});

Deno.test("convolutionalModel() computes no input gradient for its first convolution", async () => {
  const model = convolutionalModel([16, 16, 3]);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
  const x = tf.randomUniform([2, 16, 16, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1], "int32"), 6);
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const names = info.kernels.map((k) => k.name);
  assertEquals(
    names.filter((n) => n === "Conv2DBackpropFilter").length,
    2,
    "both filters get gradients",
  );
  assertEquals(
    names.filter((n) => n === "Conv2DBackpropInput").length,
    1,
    "only the second layer's input",
  );
  tf.dispose([x, y]);
  model.dispose();
});
