import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { compileModel, disposeModel, evaluateModel, fitModel } from "@lib/training/fit.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { seedRandom } from "@lib/training/random.ts";
import { assertResNet50Trains, assertTrainsLikeCpu, TRAINING_CASES } from "../_training_compare.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

for (const [name, build, shape] of TRAINING_CASES) {
  Deno.test(
    `two training steps of ${name} give the same losses and weights on webgpu and cpu`,
    () => assertTrainsLikeCpu("webgpu", build, shape),
  );
}

// Three steps as the notebooks train: compileModel's Adam and the cross-entropy of the logits.
async function threeSteps(
  backend: string,
  build: () => tf.LayersModel,
  shape: readonly number[],
): Promise<{ losses: number[]; leaked: number }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  seedRandom(3);
  const model = build();
  compileModel(model);
  const x = tf.randomUniform([...shape], 0, 1, "float32", 5);
  const y = tf.tidy(() =>
    tf.oneHot(tf.tensor1d(Array.from({ length: shape[0] }, (_, i) => i % 6), "int32"), 6)
  );
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) losses.push(((await model.trainOnBatch(x, y)) as number[])[0]);
  tf.dispose([x, y]);
  disposeModel(model);
  return { losses, leaked: tf.memory().numTensors - before };
}

for (const [name, build, shape] of TRAINING_CASES) {
  Deno.test(`three training steps of ${name} as compileModel compiles it give the same losses on webgpu and cpu, and leave no tensors`, async () => {
    const expected = await threeSteps("cpu", build, shape);
    const actual = await threeSteps("webgpu", build, shape);
    assertEquals(actual.leaked, 0, "tensors leaked");
    expected.losses.forEach((loss, i) => {
      const error = Math.abs(actual.losses[i] - loss) / Math.abs(loss);
      assert(error < 1e-5, `loss ${i}: ${actual.losses[i]} vs ${loss} (relative error ${error})`);
    });
  });
}

Deno.test(
  "ResNet-50 trains on webgpu: every kernel exists, the loss is finite, no tensors leak",
  () => assertResNet50Trains("webgpu"),
);

Deno.test("fitModel() and evaluateModel() run on webgpu, whose GPU memory is read only asynchronously", async () => {
  await tf.setBackend("webgpu");
  const before = tf.memory().numTensors;
  seedRandom(3);
  const model = convolutionalModel([64, 64, 3]);
  compileModel(model);
  const x = tf.randomUniform([24, 64, 64, 3], 0, 1, "float32", 5);
  const y = tf.tidy(() =>
    tf.oneHot(tf.tensor1d(Array.from({ length: 24 }, (_, i) => i % 6), "int32"), 6)
  );
  const history = await fitModel(model, x, y, {
    epochs: 2,
    batchSize: 8,
    seed: 1,
    log: null,
    validationData: [x, y],
  });
  assertEquals(history.loss.length, 2);
  const { accuracy } = await evaluateModel(model, x, y);
  assert(accuracy >= 0 && accuracy <= 1, `accuracy ${accuracy}`);
  tf.dispose([x, y]);
  disposeModel(model);
  assertEquals(tf.memory().numTensors, before, "no tensors leaked");
});
