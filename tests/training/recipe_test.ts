import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import {
  BASELINE_RECIPE,
  bestCheckpointDir,
  recipeFitOptions,
  recipeModel,
  RESNET50_RECIPE,
} from "@lib/training/recipe.ts";
import {
  disposeModel,
  type EpochCallback,
  epochOrder,
  fitModel,
  gatherBatch,
} from "@lib/training/fit.ts";
import { loadCheckpoint } from "@lib/training/checkpoint/mod.ts";
import { epochRandom, shuffledIndices } from "@lib/training/random.ts";
import { parameterCounts } from "@lib/display/summary.ts";

await tf.setBackend("cpu");

Deno.test("the recipes are the course's: 20 epochs of 32 for ResNet-50, 100 of 64 for the baseline", () => {
  assertEquals(RESNET50_RECIPE, { model: "resnet50", epochs: 20, batchSize: 32 });
  assertEquals(BASELINE_RECIPE, { model: "baseline", epochs: 100, batchSize: 64 });
});

Deno.test("recipeModel() builds the baseline for SIGNS images, compiled", () => {
  const before = tf.memory().numTensors;
  const model = recipeModel(BASELINE_RECIPE);
  assertEquals(parameterCounts(model).total, 1310);
  assertEquals(model.inputs[0].shape, [null, 64, 64, 3]);
  assert(model.optimizer, "compiled");
  disposeModel(model);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("recipeFitOptions() takes the recipe's length unless given, and the seeded batches", () => {
  const model = recipeModel(BASELINE_RECIPE);
  const plain = recipeFitOptions(BASELINE_RECIPE, model, {});
  assertEquals([plain.epochs, plain.batchSize, plain.seed], [100, 64, undefined]);
  assertEquals([plain.initialEpoch, plain.history, plain.augment], [0, undefined, false]);
  assertEquals(plain.onEpochEnd, []);
  const quick = recipeFitOptions(BASELINE_RECIPE, model, { epochs: 3, batchSize: 8, seed: 4 });
  assertEquals([quick.epochs, quick.batchSize, quick.seed], [3, 8, 4]);
  disposeModel(model);
});

Deno.test("recipeFitOptions() resumes a saved run and adds the two checkpoints after the caller's callbacks", () => {
  const model = recipeModel(BASELINE_RECIPE);
  const history = { epoch: [1, 2], loss: [1, 0.9], accuracy: [0.2, 0.3] };
  const mine: EpochCallback = () => {};
  const options = recipeFitOptions(BASELINE_RECIPE, model, {
    seed: 1,
    checkpointDir: "unused",
    saved: { epoch: 2, history },
    onEpochEnd: mine,
  });
  assertEquals([options.initialEpoch, options.history], [2, history]);
  const callbacks = [options.onEpochEnd!].flat();
  assertEquals(callbacks.length, 3);
  assertEquals(callbacks[0], mine);
  assert(callbacks.slice(1).every((c) => typeof c.finish === "function"), "checkpoint callbacks");
  disposeModel(model);
});

Deno.test("recipeFitOptions() with a folder saves the last epoch there and the lowest-loss epoch beside it", async () => {
  const dir = await Deno.makeTempDir();
  const model = recipeModel(BASELINE_RECIPE);
  const x = tf.randomUniform([8, 64, 64, 3], 0, 1, "float32", 3);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 1], "int32"), 6);
  const checkpointDir = `${dir}/run`;
  const history = await fitModel(
    model,
    x,
    y,
    recipeFitOptions(BASELINE_RECIPE, model, { epochs: 2, seed: 1, log: null, checkpointDir }),
  );
  const last = await loadCheckpoint(checkpointDir);
  const best = await loadCheckpoint(bestCheckpointDir(checkpointDir));
  assertEquals(last.epoch, 2);
  assertEquals(best.epoch, history.loss[1] < history.loss[0] ? 2 : 1);
  [model, last.model, best.model].forEach(disposeModel);
  tf.dispose([x, y]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("epochOrder() is fitModel's order: the seeded shuffle of the epoch's numbers", () => {
  assertEquals(
    epochOrder(10, { seed: 3, epoch: 2 }),
    shuffledIndices(10, epochRandom(3, 2)),
  );
  assertEquals(epochOrder(10, { seed: 3, epoch: 2 }), epochOrder(10, { seed: 3, epoch: 2 }));
  assertEquals(epochOrder(10, { epoch: 1 }).toSorted((a, b) => a - b), [...Array(10).keys()]);
});

Deno.test("gatherBatch() takes the images and labels at the indices; the caller owns them", async () => {
  const x = tf.tensor4d([0, 1, 2, 3], [4, 1, 1, 1]);
  const y = tf.tensor2d([[1, 0], [0, 1], [1, 0], [0, 1]]);
  const before = tf.memory().numTensors;
  const { xs, ys } = gatherBatch(x, y, [3, 1]);
  assertEquals(Array.from(await xs.data()), [3, 1]);
  assertEquals(await ys.array(), [[0, 1], [0, 1]]);
  assertEquals(tf.memory().numTensors, before + 2);
  tf.dispose([x, y, xs, ys]);
});
