import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import {
  accuracyOf,
  classPredictionVector,
  confusionMatrix,
  confusionMatrixChart,
  misclassified,
  mistakeGallery,
  perClassAccuracy,
  predictClasses,
  predictImage,
} from "@lib/training/evaluation.ts";

await tf.setBackend("cpu");

Deno.test("confusionMatrix() counts [true][predicted] and perClassAccuracy() reads its rows", () => {
  const matrix = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 2, 1, 0, 2], 3);
  assertEquals(matrix, [[2, 0, 1], [1, 1, 0], [0, 0, 1]]);
  assertEquals(perClassAccuracy(matrix), [2 / 3, 0.5, 1]);
  assert(
    Number.isNaN(perClassAccuracy([[0, 0], [0, 1]])[0]),
    "a class without examples has no accuracy",
  );
});

Deno.test("confusionMatrix() rejects mismatched lengths and classes out of range", () => {
  assertThrows(() => confusionMatrix([0, 1], [0], 2), RangeError, "2 labels with 1 predictions");
  assertThrows(() => confusionMatrix([0, 7], [0, 1], 6), RangeError, "label 7 at index 1");
  assertThrows(() => confusionMatrix([0, 1], [0, -1], 6), RangeError, "prediction -1 at index 1");
});

Deno.test("misclassified() lists the wrong predictions, most confident first", () => {
  const mistakes = misclassified([0, 1, 2, 1], {
    predicted: [0, 2, 0, 1],
    probabilities: [[0.9, 0.1, 0], [0.1, 0.3, 0.6], [0.8, 0.1, 0.1], [0, 1, 0]],
  });
  assertEquals(mistakes, [
    { index: 2, label: 2, predicted: 0, probability: 0.8 },
    { index: 1, label: 1, predicted: 2, probability: 0.6 },
  ]);
});

Deno.test("predictClasses() takes the most probable class of each example, without leaks", async () => {
  const input = tf.input({ shape: [2] });
  const output = tf.layers.softmax().apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const x = tf.tensor2d([[1, 3], [5, 0]]);
  const before = tf.memory().numTensors;
  const predictions = await predictClasses(model, x);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(predictions.predicted, [1, 0]);
  assert(Math.abs(predictions.probabilities[0][1] - 1 / (1 + Math.exp(-2))) < 1e-6);
  x.dispose();
  model.dispose();
});

Deno.test("confusionMatrixChart() and mistakeGallery() show the matrix and captioned mistakes", () => {
  const chart = confusionMatrixChart([[3, 1], [0, 4]]);
  assertEquals(chart.figure.data[0].z, [[3, 1], [0, 4]]);
  const images = tf.zeros([3, 4, 4, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const grid = mistakeGallery(images, [{ index: 2, label: 1, predicted: 0, probability: 0.75 }]);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(grid.images.map((v) => v.caption), ["#2: 1 → 0 (p=0.75)"]);
  assertThrows(
    () => mistakeGallery(images, [{ index: 5, label: 1, predicted: 0, probability: 1 }]),
    RangeError,
    "image 5",
  );
  const many = [0, 1, 2].map((index) => ({ index, label: 1, predicted: 0, probability: 0.5 }));
  const text = (grid: object) =>
    (grid as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]()[
      "text/plain"
    ];
  assertEquals(text(mistakeGallery(images, many)), "3 images: 3 misclassified (true → predicted)");
  const some = mistakeGallery(images, many, { max: 2 });
  assertEquals(some.images.length, 2);
  assertEquals(text(some), "2 images: 3 misclassified (true → predicted), the first 2 shown");
  images.dispose();
});

Deno.test("predictImage() predicts one image, with or without its batch axis, without leaks", async () => {
  const input = tf.input({ shape: [1, 1, 2] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.softmax().apply(flat) as tf.SymbolicTensor,
  });
  const image = tf.tensor3d([[[0.1, 0.3]]]);
  const batch = tf.expandDims(image, 0) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const one = await predictImage(model, image);
  assertEquals(await predictImage(model, batch), one);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(one.predicted, 1);
  assert(Math.abs(one.probabilities[1] - 1 / (1 + Math.exp(-0.2))) < 1e-6);
  const two = tf.concat([batch, batch]) as tf.Tensor4D;
  await assertRejects(() => predictImage(model, two), TypeError, "shape [2, 1, 1, 2]");
  tf.dispose([image, batch, two]);
  model.dispose();
});

Deno.test("predictImage() refuses a 0..255 image not divided by 255, leaving nothing behind", async () => {
  const input = tf.input({ shape: [1, 1, 2] });
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.flatten().apply(input) as tf.SymbolicTensor,
  });
  const photo = tf.tensor3d([[[12, 200]]], undefined, "int32");
  const before = tf.memory().numTensors;
  await assertRejects(
    () => predictImage(model, photo),
    RangeError,
    "Cannot predict from an image whose values reach 200: the model was trained on values 0..1",
  );
  assertEquals(tf.memory().numTensors, before);
  photo.dispose();
  model.dispose();
});

Deno.test("classPredictionVector() prints the course's line; accuracyOf() compares classes", () => {
  assertEquals(
    classPredictionVector([0.1, 0.2, 0.7]),
    "Class prediction vector [p(0), p(1), p(2)] = [0.1000, 0.2000, 0.7000]",
  );
  assertEquals(accuracyOf([0, 1, 2, 3], [0, 1, 1, 3]), 0.75);
  assertThrows(() => accuracyOf([0, 1], [0]), RangeError, "2 labels with 1 predictions");
  assertThrows(() => accuracyOf([], []), RangeError, "0 labels");
});
