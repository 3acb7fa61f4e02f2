/**
 * Batch normalisation's population statistics, recomputed after training.
 *
 * In inference mode a batch-normalisation layer normalises with its moving averages, which follow
 * the statistics of the last few hundred mini-batches, and of whatever else ran in training mode
 * (an evaluation of the course's blocks, whose batch normalisation always uses batch statistics,
 * updates them too). After a loss spike or a fast change in the last epochs they describe a network
 * that no longer exists, and a model that predicts batches well can predict single images badly.
 * {@linkcode recalibrateBatchNorm} replaces them with the exact mean and variance of each layer's
 * inputs over a data set, with the network run as it was trained ("precise BN").
 *
 * @module
 */
import * as tf from "../tf.ts";
import { batchNormLayers } from "../layers/batch_norm.ts";
import { shapeText } from "../util/format.ts";

/** Options of {@linkcode recalibrateBatchNorm}. */
export interface RecalibrationOptions {
  /**
   * Mini-batch size of the pass: the layers before each batch normalisation normalise with the
   * statistics of batches of this size, as in training. Default 32.
   */
  batchSize?: number;
}

/** What {@linkcode recalibrateBatchNorm} did. */
export interface Recalibration {
  /** Batch-normalisation layers whose moving mean and variance were replaced. */
  layers: number;
  /** Images the statistics were computed over. */
  images: number;
}

// Running per-channel count, mean and sum of squared deviations, combined batch by batch in
// float64 (Chan et al.'s parallel update), so that no precision is lost over many images.
class ChannelMoments {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  constructor(channels: number) {
    this.mean = new Float64Array(channels);
    this.m2 = new Float64Array(channels);
  }
  add(count: number, mean: ArrayLike<number>, variance: ArrayLike<number>): void {
    const total = this.count + count;
    for (let c = 0; c < this.mean.length; c++) {
      const delta = mean[c] - this.mean[c];
      this.mean[c] += (delta * count) / total;
      this.m2[c] += variance[c] * count + (delta * delta * this.count * count) / total;
    }
    this.count = total;
  }
  variance(): Float32Array {
    return Float32Array.from(this.m2, (m2) => m2 / this.count);
  }
}

/**
 * Replaces the moving mean and variance of every batch-normalisation layer of `model` with the
 * population statistics of its inputs over `x`: the network is run over `x` in mini-batches with
 * every batch normalisation in training mode (batch statistics, as during `fit`), each layer's
 * inputs are gathered per channel over all images and positions, and their exact mean and
 * (biased) variance become the layer's moving averages. Run it after training, with the training
 * images; then `setBatchNormMode(model, "inference")` predicts single images as well as batches.
 *
 * Only the moving averages change: the layers' modes are restored, no trainable weight moves. The
 * function creates no tensors that outlive it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * import { identityBlock } from "../models/resnet.ts";
 * const input = tf.input({ shape: [4, 4, 3] });
 * const model = tf.model({ inputs: input, outputs: identityBlock(input, 2, [2, 2, 3]) });
 * const x = tf.randomUniform([6, 4, 4, 3]);
 * const done = await recalibrateBatchNorm(model, x, { batchSize: 3 });
 * assertEquals(done, { layers: 3, images: 6 });
 * tf.dispose(x);
 * model.dispose();
 * ```
 */
export async function recalibrateBatchNorm(
  model: tf.LayersModel,
  x: tf.Tensor,
  options: RecalibrationOptions = {},
): Promise<Recalibration> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 2) {
    throw new RangeError(
      `Cannot recalibrate batch normalisation with batch size ${batchSize}: expected an integer of at least 2`,
    );
  }
  const images = x.shape[0];
  if (!(images > 0)) {
    throw new RangeError(
      `Cannot recalibrate batch normalisation on ${images} images (shape ${shapeText(x.shape)})`,
    );
  }
  const layers = batchNormLayers(model);
  if (layers.length === 0) return { layers: 0, images };
  // A model over the same layers whose outputs are the inputs of the batch normalisations.
  const inputs = layers.map((layer) => layer.input as tf.SymbolicTensor);
  const probe = tf.model({ inputs: model.inputs, outputs: inputs });
  const modes = layers.map((layer) => layer.fixedTraining);
  // Copies: getWeights() hands out the variables' own tensors.
  const weights = layers.map((layer) => layer.getWeights().map((w) => w.clone()));
  const moments = inputs.map((input) => new ChannelMoments(input.shape.at(-1) as number));
  try {
    for (const layer of layers) layer.fixedTraining = true;
    for (let start = 0; start < images; start += batchSize) {
      const count = Math.min(batchSize, images - start);
      const batch = tf.tidy(() => {
        const seen = [probe.predict(tf.slice(x, start, count)) as tf.Tensor | tf.Tensor[]].flat();
        return seen.map((input) => {
          const axes = input.shape.slice(0, -1).map((_, i) => i);
          const { mean, variance } = tf.moments(input, axes);
          return [mean, variance];
        });
      });
      const values = await Promise.all(batch.flat().map((t) => t.data()));
      tf.dispose(batch);
      moments.forEach((m, i) => {
        m.add(positions(inputs[i].shape, count), values[2 * i], values[2 * i + 1]);
      });
    }
  } finally {
    layers.forEach((layer, i) => {
      layer.fixedTraining = modes[i];
      // The pass itself moved the moving averages: put them back, in case of an error.
      layer.setWeights(weights[i]);
    });
  }
  layers.forEach((layer, i) => {
    const [gamma, beta] = weights[i];
    const mean = tf.tensor1d(Float32Array.from(moments[i].mean));
    const variance = tf.tensor1d(moments[i].variance());
    layer.setWeights([gamma, beta, mean, variance]);
    tf.dispose([mean, variance]);
  });
  tf.dispose(weights.flat());
  return { layers: layers.length, images };
}

// The number of values per channel that a batch of `count` images gives a layer's input.
function positions(shape: (number | null)[], count: number): number {
  return shape.slice(1, -1).reduce((n: number, d) => n * (d as number), count);
}
