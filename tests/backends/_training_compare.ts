// Two training steps of the same model on two backends, for comparing them.
import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { convolutionalBlock, identityBlock, resNet50 } from "@lib/models/resnet.ts";
import { compileModel, disposeModel } from "@lib/training/fit.ts";
import { seedRandom } from "@lib/training/random.ts";

// A residual network with every kind of layer ResNet-50 has, small enough for the cpu backend.
export function smallResNet(): tf.LayersModel {
  const input = tf.input({ shape: [24, 24, 3] });
  let x = tf.layers.zeroPadding2d({ padding: 3 }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 7, strides: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: 3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x) as tf.SymbolicTensor;
  x = convolutionalBlock(x, 3, [4, 4, 16], { s: 1 });
  x = identityBlock(x, 3, [4, 4, 16]);
  x = convolutionalBlock(x, 3, [8, 8, 32], { s: 2 });
  x = tf.layers.averagePooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 6, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

export interface Run {
  losses: number[];
  weights: Float32Array[];
}

/**
 * Two training steps of a fresh model on `backend`, from the same seed, inputs and labels. Plain
 * gradient descent, so that weight differences are gradient differences: Adam would turn the
 * rounding noise of a gradient that is mathematically zero (a convolution's bias in front of batch
 * normalisation) into a full step of either sign.
 */
export async function twoSteps(
  backend: string,
  build: () => tf.LayersModel,
  shape: number[],
): Promise<Run> {
  await tf.setBackend(backend);
  seedRandom(3);
  const model = build();
  const optimizer = tf.train.sgd(0.1);
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
  const x = tf.randomUniform(shape, 0, 1, "float32", 5);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: shape[0] }, (_, i) => i % 6), "int32"), 6);
  const losses: number[] = [];
  for (let i = 0; i < 2; i++) losses.push((await model.trainOnBatch(x, y)) as number);
  const weights = await Promise.all(
    model.getWeights().map((w) => w.data() as Promise<Float32Array>),
  );
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return { losses, weights };
}

/** Largest absolute difference relative to the largest expected value (see below). */
export function maxRelativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    norm = Math.max(norm, Math.abs(b[i]));
  }
  // near-zero weights (a bias whose gradient is zero) are compared absolutely, to 1e-6
  return diff / Math.max(norm, 1e-3);
}

/** The models whose training steps are compared with cpu: name, builder, input batch shape. */
export const TRAINING_CASES = [
  ["the baseline", () => convolutionalModel([64, 64, 3]), [4, 64, 64, 3]],
  ["a small residual network", smallResNet, [4, 24, 24, 3]],
] as const;

/** Two training steps on `backend` and on cpu give the same losses and weights. */
export async function assertTrainsLikeCpu(
  backend: string,
  build: () => tf.LayersModel,
  shape: readonly number[],
): Promise<void> {
  const expected = await twoSteps("cpu", build, [...shape]);
  const actual = await twoSteps(backend, build, [...shape]);
  expected.losses.forEach((loss, i) =>
    assert(
      Math.abs(actual.losses[i] - loss) < 1e-4 * Math.abs(loss),
      `loss ${i}: ${actual.losses[i]} vs ${loss}`,
    )
  );
  assertEquals(actual.weights.length, expected.weights.length);
  actual.weights.forEach((w, i) => {
    const error = maxRelativeError(w, expected.weights[i]);
    assert(error < 1e-3, `weight ${i}: relative error ${error}`);
  });
}

/**
 * ResNet-50 trains on `backend` (every kernel it needs exists): two steps on two images give
 * finite losses, and the second leaves as many tensors as the first.
 */
export async function assertResNet50Trains(backend: string): Promise<void> {
  await tf.setBackend(backend);
  const model = resNet50();
  compileModel(model);
  const x = tf.randomUniform([2, 64, 64, 3], 0, 1, "float32", 7);
  const y = tf.oneHot(tf.tensor1d([0, 5], "int32"), 6);
  const [first] = (await model.trainOnBatch(x, y)) as number[];
  const count = tf.memory().numTensors;
  const [second] = (await model.trainOnBatch(x, y)) as number[];
  assertEquals(tf.memory().numTensors, count, "tensor count flat across steps");
  assert(Number.isFinite(first) && Number.isFinite(second), `losses ${first}, ${second}`);
  tf.dispose([x, y]);
  disposeModel(model);
}
