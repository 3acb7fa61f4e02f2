import { assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import {
  convertToOneHot,
  normalizeImages,
  splitShapes,
  takeFirst,
} from "@lib/data/preprocessing.ts";

await tf.setBackend("cpu");

Deno.test("convertToOneHot() turns a [1, m] label row into an [m, c] matrix", async () => {
  const y = tf.tensor2d([[1, 2, 3, 0, 2, 1]], [1, 6], "int32");
  const before = tf.memory().numTensors;
  const oneHot = convertToOneHot(y, 4);
  assertEquals(oneHot.shape, [6, 4]);
  assertEquals(oneHot.dtype, "float32");
  const rows = await oneHot.array();
  rows.forEach((row, i) => {
    assertEquals(row.reduce((a, b) => a + b), 1);
    assertEquals(row.indexOf(1), [1, 2, 3, 0, 2, 1][i]);
  });
  oneHot.dispose();
  assertEquals(tf.memory().numTensors, before);
  y.dispose();
});

Deno.test("convertToOneHot() gives the SIGNS shapes (1080, 6) and (120, 6)", () => {
  for (const m of [1080, 120]) {
    const oneHot = convertToOneHot(Array.from({ length: m }, (_, i) => i % 6), 6);
    assertEquals(oneHot.shape, [m, 6]);
    oneHot.dispose();
  }
});

Deno.test("convertToOneHot() rejects a label outside 0..c-1, a bad c and a bad shape", () => {
  assertThrows(
    () => convertToOneHot([0, 6], 6),
    RangeError,
    "label 6 at index 1: expected an integer in 0..5",
  );
  assertThrows(() => convertToOneHot([0, 1.5], 6), RangeError, "label 1.5 at index 1");
  assertThrows(() => convertToOneHot([0], 0), RangeError, "number of classes 0");
  const matrix = tf.zeros([2, 3]);
  assertThrows(() => convertToOneHot(matrix, 6), TypeError, "shape [2, 3]");
  matrix.dispose();
});

Deno.test("normalizeImages() divides by 255 into float32 and frees its intermediates", async () => {
  const x = tf.tensor4d([0, 255, 51, 102, 153, 204], [1, 1, 2, 3], "int32");
  const before = tf.memory().numTensors;
  const scaled = normalizeImages(x);
  assertEquals(tf.memory().numTensors, before + 1);
  assertEquals(scaled.dtype, "float32");
  assertEquals(scaled.shape, [1, 1, 2, 3]);
  const values = Array.from(await scaled.data());
  [0, 1, 0.2, 0.4, 0.6, 0.8].forEach((v, i) => assertEquals(Math.abs(values[i] - v) < 1e-7, true));
  tf.dispose([x, scaled]);
});

Deno.test("takeFirst() slices every tensor to n examples, or copies them all for null", async () => {
  const x = tf.tensor2d([[1], [2], [3]]);
  const y = tf.tensor1d([4, 5, 6]);
  const before = tf.memory().numTensors;
  const [xs, ys] = takeFirst([x, y], 2);
  assertEquals(await xs.array(), [[1], [2]]);
  assertEquals(Array.from(await ys.data()), [4, 5]);
  const [all] = takeFirst([x], null);
  assertEquals(all.shape, [3, 1]);
  const [more] = takeFirst([x], 10);
  assertEquals(more.shape, [3, 1]);
  assertEquals(tf.memory().numTensors, before + 4);
  tf.dispose([x, y, xs, ys, all, more]);
});

Deno.test("takeFirst() rejects a bad count and tensors of different lengths", () => {
  const x = tf.zeros([3, 1]);
  const y = tf.zeros([2, 1]);
  assertThrows(() => takeFirst([x], 0), RangeError, "the first 0 examples");
  assertThrows(() => takeFirst([x, y], 1), RangeError, "the tensors hold 3, 2 examples");
  tf.dispose([x, y]);
});

Deno.test("splitShapes() prints the course's lines and keeps no tensor", () => {
  const before = tf.memory().numTensors;
  const splits = {
    xTrain: tf.zeros([1080, 64, 64, 3]),
    yTrain: tf.zeros([1080, 6]),
    xTest: tf.zeros([120, 64, 64, 3]),
    yTest: tf.zeros([120, 6]),
  };
  assertEquals(
    splitShapes(splits),
    "number of training examples = 1080\nnumber of test examples = 120\n" +
      "X_train shape: (1080, 64, 64, 3)\nY_train shape: (1080, 6)\n" +
      "X_test shape: (120, 64, 64, 3)\nY_test shape: (120, 6)",
  );
  tf.dispose(Object.values(splits));
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("normalizeImages() refuses images normalised already, leaving nothing behind", () => {
  const pixels = tf.tensor4d([0, 51, 255, 102], [1, 2, 2, 1], "int32");
  const once = normalizeImages(pixels);
  const before = tf.memory().numTensors;
  assertThrows(
    () => normalizeImages(once),
    RangeError,
    "Cannot normalise images whose values are already within 0..1 (the largest is 1)",
  );
  assertEquals(tf.memory().numTensors, before);
  const black = tf.zeros([1, 2, 2, 1]);
  const floats = tf.cast(pixels, "float32");
  const [a, b] = [normalizeImages(black), normalizeImages(floats)];
  assertEquals(b.dataSync()[2], 1, "float pixels of 0..255 are divided as before");
  tf.dispose([pixels, once, black, floats, a, b]);
});
