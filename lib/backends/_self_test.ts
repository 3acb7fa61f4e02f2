// A short check that a backend trains as the `cpu` backend does, run before the automatic choice
// takes a backend whose kernels this project does not test on every machine (`webgpu` on a GPU's
// driver). One training step of a small network with the layers both notebooks use (convolutions
// with bias and ReLU, batch normalisation on the batch's statistics, max and average pooling, a
// dense softmax layer, categorical cross-entropy, Adam) runs on both backends from the same
// weights and images; the loss before the step and after it must agree. A backend whose kernels
// compute something else (a driver's bug, a shader the driver compiles wrongly) fails it.
import * as tf from "../tf.ts";
import { FusedAdamOptimizer } from "../ops/adam.ts";

/** How far the self-test's losses may differ from `cpu`'s, relative to them. */
export const SELF_TEST_TOLERANCE = 1e-3;

const INPUT: [number, number, number, number] = [4, 12, 12, 3];

// Built with zeros and set from a formula: no random numbers drawn, so the learner's seeded
// generator is left where it was.
function buildModel(): tf.LayersModel {
  const zeros = { kernelInitializer: "zeros", biasInitializer: "zeros" } as const;
  const input = tf.input({ shape: INPUT.slice(1) });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", ...zeros })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: 3 }).apply(x, { training: true }) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 1, strides: 2, activation: "relu", ...zeros })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.averagePooling2d({ poolSize: 3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 6, activation: "softmax", ...zeros })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const weights = model.getWeights().map((w, i) => {
    const values = Float32Array.from({ length: w.size }, (_, j) => Math.sin(1 + 0.7 * j + i));
    // conv and dense kernels scaled as a Glorot draw would be; batch norm's gamma and moving
    // variance near 1
    const fan = w.shape.length > 1 ? w.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
    const scaled = values.map((v) => v / Math.sqrt(fan));
    return tf.tensor(i === 2 || i === 5 ? scaled.map((v) => 1 + 0.2 * v) : scaled, w.shape);
  });
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

// The losses of two training steps on the same batch: the second is the loss after the first
// step's update.
async function lossesOn(backend: string): Promise<[number, number]> {
  if (!(await tf.setBackend(backend))) throw new Error(`${backend} did not initialise`);
  const model = buildModel();
  const optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
  const count = INPUT.reduce((a, b) => a * b, 1);
  const [x, y] = tf.tidy(() => [
    tf.tensor4d(
      Float32Array.from({ length: count }, (_, i) => (Math.cos(0.37 * i) + 1) / 2),
      INPUT,
    ),
    tf.oneHot(tf.tensor1d([0, 2, 4, 5], "int32"), 6),
  ]);
  try {
    const before = (await model.trainOnBatch(x, y)) as number;
    const after = (await model.trainOnBatch(x, y)) as number;
    return [before, after];
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Runs the self-test for `backend` and leaves it active. Resolves to one line on success; throws
 * an `Error` naming the losses that disagree, or what failed.
 */
export async function selfTestTraining(backend: string): Promise<string> {
  let expected: [number, number], actual: [number, number];
  try {
    expected = await lossesOn("cpu");
    actual = await lossesOn(backend);
  } finally {
    await tf.setBackend(backend);
  }
  for (const [i, when] of ["before", "after"].entries()) {
    const [a, e] = [actual[i], expected[i]];
    if (!(Math.abs(a - e) <= SELF_TEST_TOLERANCE * Math.abs(e))) {
      throw new Error(
        `self-test failed: the loss ${when} one training step is ${a} on ${backend} and ${e} ` +
          "on cpu",
      );
    }
  }
  return "self-test passed (one training step as on cpu)";
}
