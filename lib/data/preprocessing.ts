/**
 * Preparing SIGNS tensors for a model: pixel values scaled to 0..1, labels one-hot encoded.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { formatShape, shapeText } from "../util/format.ts";

/**
 * One-hot encodes class labels, as the course's `convert_to_one_hot(Y, C).T`: a label row of shape
 * [1, m] (or a vector [m], or a plain array) becomes an [m, c] float32 matrix with a 1 in the column
 * of each label. Throws a `RangeError` naming the first label outside 0..c-1. The caller owns the
 * result.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const oneHot = convertToOneHot([1, 2, 3, 0, 2, 1], 4);
 * assertEquals(oneHot.shape, [6, 4]);
 * assertEquals(await oneHot.array(), [
 *   [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0],
 * ]);
 * oneHot.dispose();
 * ```
 */
export function convertToOneHot(y: tf.Tensor | ArrayLike<number>, c: number): tf.Tensor2D {
  if (!Number.isInteger(c) || c < 1) {
    throw new RangeError(`Cannot one-hot encode: number of classes ${c} is not a positive integer`);
  }
  let labels: ArrayLike<number>;
  if (y instanceof tf.Tensor) {
    if (y.rank > 2 || (y.rank === 2 && y.shape[0] !== 1 && y.shape[1] !== 1)) {
      throw new TypeError(
        `Cannot one-hot encode a tensor of shape ${
          shapeText(y.shape)
        }: expected [1, m], [m, 1] or [m]`,
      );
    }
    labels = y.dataSync();
  } else {
    labels = y;
  }
  const values = Int32Array.from(labels);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= c) {
      throw new RangeError(
        `Cannot one-hot encode label ${label} at index ${i}: expected an integer in 0..${c - 1}`,
      );
    }
  }
  return tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(values, "int32"), c), "float32") as tf.Tensor2D
  );
}

/**
 * Scales pixel values from 0..255 to 0..1 (the course's `X_train_orig / 255.`), as float32.
 * The caller owns the result. Refuses (`RangeError`) float images whose values are all within
 * 0..1 and not all 0: images normalised already, which a second division would crush to
 * 0..0.004. (Pixels of a real 0..255 image that never exceed 1 would be a black frame.)
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const x = tf.tensor4d([0, 51, 255, 102], [1, 2, 2, 1], "int32");
 * const scaled = normalizeImages(x);
 * const rounded = Array.from(await scaled.data(), (v) => Math.round(v * 1000) / 1000);
 * assertEquals(rounded, [0, 0.2, 1, 0.4]);
 * tf.dispose([x, scaled]);
 * ```
 */
export function normalizeImages<T extends tf.Tensor>(x: T): T {
  if (x.dtype === "float32" && x.size > 0) {
    const largest = tf.tidy(() => tf.max(x));
    const top = largest.dataSync()[0];
    largest.dispose();
    if (top > 0 && top <= 1) {
      throw new RangeError(
        `Cannot normalise images whose values are already within 0..1 (the largest is ${top}): ` +
          `they look normalised already, and dividing by 255 again would leave them near 0; ` +
          `normalizeImages takes the 0..255 pixels (data.xTrainOrig)`,
      );
    }
  }
  return tf.tidy(() => tf.div(tf.cast(x, "float32"), 255) as T);
}

/**
 * The first `n` examples of each tensor (sliced along the first axis), for training on a subset;
 * `null` keeps them all. Always returns new tensors, which the caller owns. Throws a `RangeError`
 * when `n` is not a positive integer or the tensors hold different numbers of examples.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const x = tf.zeros([10, 4]);
 * const y = tf.zeros([10, 6]);
 * const [xSmall, ySmall] = takeFirst([x, y], 3);
 * assertEquals([xSmall.shape, ySmall.shape], [[3, 4], [3, 6]]);
 * tf.dispose([x, y, xSmall, ySmall]);
 * ```
 */
export function takeFirst<T extends tf.Tensor[]>(tensors: [...T], n: number | null): T {
  const counts = tensors.map((t) => t.shape[0]);
  if (new Set(counts).size > 1) {
    throw new RangeError(
      `Cannot take the first examples: the tensors hold ${counts.join(", ")} examples`,
    );
  }
  if (n !== null && (!Number.isInteger(n) || n < 1)) {
    throw new RangeError(`Cannot take the first ${n} examples: expected a positive integer`);
  }
  return tensors.map((t) => n === null || n >= t.shape[0] ? t.clone() : tf.slice(t, 0, n)) as T;
}

/** The four arrays the course prints the shapes of after loading and preprocessing. */
export interface Splits {
  /** Training images. */
  xTrain: tf.Tensor;
  /** Training labels, one-hot. */
  yTrain: tf.Tensor;
  /** Test images. */
  xTest: tf.Tensor;
  /** Test labels, one-hot. */
  yTest: tf.Tensor;
}

/**
 * The lines the course prints after preprocessing: the number of training and test examples and
 * the four shapes, in Python's notation.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const [xTrain, yTrain, xTest, yTest] = [[4, 2, 2, 3], [4, 6], [1, 2, 2, 3], [1, 6]].map((s) =>
 *   tf.zeros(s)
 * );
 * assertEquals(splitShapes({ xTrain, yTrain, xTest, yTest }).split("\n"), [
 *   "number of training examples = 4",
 *   "number of test examples = 1",
 *   "X_train shape: (4, 2, 2, 3)",
 *   "Y_train shape: (4, 6)",
 *   "X_test shape: (1, 2, 2, 3)",
 *   "Y_test shape: (1, 6)",
 * ]);
 * tf.dispose([xTrain, yTrain, xTest, yTest]);
 * ```
 */
export function splitShapes(splits: Splits): string {
  const { xTrain, yTrain, xTest, yTest } = splits;
  return [
    `number of training examples = ${xTrain.shape[0]}`,
    `number of test examples = ${xTest.shape[0]}`,
    `X_train shape: ${formatShape(xTrain.shape)}`,
    `Y_train shape: ${formatShape(yTrain.shape)}`,
    `X_test shape: ${formatShape(xTest.shape)}`,
    `Y_test shape: ${formatShape(yTest.shape)}`,
  ].join("\n");
}
