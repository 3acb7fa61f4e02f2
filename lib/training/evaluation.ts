/**
 * Understanding a classifier's mistakes: its predictions on a data set, the confusion matrix,
 * per-class accuracy, and the misclassified examples.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { type ChartView, heatmap } from "../display/plot.ts";
import { imageBytes, type ImageGrid, showImages } from "../display/image.ts";
import { shapeText } from "../util/format.ts";

/** A model's predictions on a data set. */
export interface Predictions {
  /** The most probable class of each example. */
  predicted: number[];
  /** The class probabilities of each example. */
  probabilities: number[][];
}

/**
 * Runs `model` on `x` (in batches) and returns each example's most probable class and its
 * probability vector. Frees the tensors it creates.
 */
export async function predictClasses(
  model: tf.LayersModel,
  x: tf.Tensor,
  options: { batchSize?: number } = {},
): Promise<Predictions> {
  const output = model.predict(x, { batchSize: options.batchSize ?? 32 }) as tf.Tensor2D;
  const probabilities = (await output.array()) as number[][];
  output.dispose();
  return { predicted: probabilities.map((p) => p.indexOf(Math.max(...p))), probabilities };
}

/** A model's prediction for one image. */
export interface ImagePrediction {
  /** The most probable class. */
  predicted: number;
  /** The class probabilities. */
  probabilities: number[];
}

/**
 * Predicts the class of one image, scaled as the training images are (values 0..1): a
 * [height, width, channels] tensor, or a batch of one. Frees the tensors it creates; the image
 * stays the caller's. Refuses (`RangeError`) an image whose values go above 1, a photo's 0..255
 * pixels not yet divided by 255: the model would answer, and the answer would mean nothing.
 */
export async function predictImage(
  model: tf.LayersModel,
  image: tf.Tensor3D | tf.Tensor4D,
): Promise<ImagePrediction> {
  if (image.rank !== 3 && !(image.rank === 4 && image.shape[0] === 1)) {
    throw new TypeError(
      `Cannot predict one image from a tensor of shape ${shapeText(image.shape)}: ` +
        "expected [height, width, channels] or [1, height, width, channels]",
    );
  }
  const largest = tf.tidy(() => tf.max(image));
  const top = (await largest.data())[0];
  largest.dispose();
  if (top > 1.001) {
    throw new RangeError(
      `Cannot predict from an image whose values reach ${top}: the model was trained on ` +
        `values 0..1, and on 0..255 pixels its prediction means nothing; divide the image by ` +
        `255 first (tf.div(image, 255)), as normalizeImages does for the data set`,
    );
  }
  const output = tf.tidy(() =>
    model.predict(image.rank === 3 ? tf.expandDims(image, 0) : image) as tf.Tensor
  );
  const probabilities = Array.from(await output.data());
  output.dispose();
  return { predicted: probabilities.indexOf(Math.max(...probabilities)), probabilities };
}

/**
 * The course's line for a prediction's probabilities, to 4 decimals:
 * `Class prediction vector [p(0), p(1), p(2), p(3), p(4), p(5)] = [0.0012, …]`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(
 *   classPredictionVector([0.25, 0.75]),
 *   "Class prediction vector [p(0), p(1)] = [0.2500, 0.7500]",
 * );
 * ```
 */
export function classPredictionVector(probabilities: readonly number[]): string {
  const names = probabilities.map((_, i) => `p(${i})`).join(", ");
  return `Class prediction vector [${names}] = [${
    probabilities.map((p) => p.toFixed(4)).join(", ")
  }]`;
}

/** The fraction of `predicted` classes equal to `labels`. */
export function accuracyOf(labels: readonly number[], predicted: readonly number[]): number {
  if (labels.length !== predicted.length || labels.length === 0) {
    throw new RangeError(
      `Cannot compare ${labels.length} labels with ${predicted.length} predictions`,
    );
  }
  return labels.filter((label, i) => label === predicted[i]).length / labels.length;
}

function checkLabels(what: string, values: number[], classes: number): void {
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= classes);
  if (bad >= 0) {
    throw new RangeError(
      `Cannot count ${what} ${values[bad]} at index ${bad}: expected a class in 0..${classes - 1}`,
    );
  }
}

/**
 * The confusion matrix: `matrix[t][p]` counts the examples of true class `t` predicted as `p`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(confusionMatrix([0, 0, 1, 1], [0, 1, 1, 1], 2), [[1, 1], [0, 2]]);
 * ```
 */
export function confusionMatrix(labels: number[], predicted: number[], classes = 6): number[][] {
  if (labels.length !== predicted.length) {
    throw new RangeError(
      `Cannot compare ${labels.length} labels with ${predicted.length} predictions`,
    );
  }
  checkLabels("label", labels, classes);
  checkLabels("prediction", predicted, classes);
  const matrix = Array.from({ length: classes }, () => new Array(classes).fill(0));
  labels.forEach((t, i) => matrix[t][predicted[i]]++);
  return matrix;
}

/** The accuracy of each class (its diagonal count over its row), `NaN` for a class with no examples. */
export function perClassAccuracy(matrix: number[][]): number[] {
  return matrix.map((row, t) => row[t] / row.reduce((a, b) => a + b, 0));
}

/** One misclassified example. */
export interface Mistake {
  /** Its index in the data set. */
  index: number;
  /** Its true class. */
  label: number;
  /** The predicted class. */
  predicted: number;
  /** The probability the model gave to its prediction. */
  probability: number;
}

/** The examples whose prediction differs from their label, most confident mistakes first. */
export function misclassified(labels: number[], predictions: Predictions): Mistake[] {
  if (labels.length !== predictions.predicted.length) {
    throw new RangeError(
      `Cannot compare ${labels.length} labels with ${predictions.predicted.length} predictions`,
    );
  }
  return labels.flatMap((label, index) => {
    const predicted = predictions.predicted[index];
    return predicted === label
      ? []
      : [{ index, label, predicted, probability: predictions.probabilities[index][predicted] }];
  }).sort((a, b) => b.probability - a.probability);
}

/** The confusion matrix as a heat map: true classes down, predicted classes across. */
export function confusionMatrixChart(matrix: number[][], title = "Confusion matrix"): ChartView {
  const names = matrix.map((_, i) => String(i));
  return heatmap({ z: matrix, x: names, y: names, title, xLabel: "predicted", yLabel: "true" });
}

/**
 * Pictures of misclassified images (from `images`, [n, 64, 64, 3]) captioned with the true and
 * predicted class and the prediction's probability; at most `max` of them (default 24).
 */
export function mistakeGallery(
  images: tf.Tensor4D,
  mistakes: Mistake[],
  options: { max?: number; columns?: number } = {},
): ImageGrid {
  const shown = mistakes.slice(0, options.max ?? 24);
  if (shown.length === 0) return showImages([], { title: "No misclassified images" });
  const bad = shown.find((m) => m.index < 0 || m.index >= images.shape[0]);
  if (bad) {
    throw new RangeError(
      `Cannot show image ${bad.index}: the tensor holds ${images.shape[0]} images`,
    );
  }
  // Image by image from the batch (not a gathered copy): a backend that cannot read results
  // synchronously can still read the batch (see imageBytes).
  const picked = shown.map((m) => imageBytes(images, m.index));
  return showImages(picked, {
    captions: shown.map((m) =>
      `#${m.index}: ${m.label} → ${m.predicted} (p=${m.probability.toFixed(2)})`
    ),
    columns: options.columns ?? 8,
    title: `${mistakes.length} misclassified (true → predicted)` +
      (shown.length < mistakes.length ? `, the first ${shown.length} shown` : ""),
  });
}
