// One training run of the ResNet-50 recipe as notebook 2 runs it, in a process of its own, for
// tools/accuracy.ts: prints one JSON line with what the run ended with.
//
//   deno run -A tools/_accuracy_run.ts --seed=N [--recipe=course|augmented] [--epochs=20]
//                                      [--initialization=independent|seed0] [--holdout=N]
//
// The run: seedRandom(seed), then notebook 2's recipe (lib/training/recipe.ts) for the given
// epochs: ResNet-50 compiled as the notebook compiles it, batches of 32 seeded by the same seed,
// the test set as validation data, and the two checkpoints after each epoch, of which the epoch of
// lowest training loss is kept. Then: the last epoch's test accuracy (the course's figure), the kept
// model's, the kept model's after recalibrateBatchNorm in inference mode (in batches and one image
// at a time), and its prediction of the learner's photo.
//
// With --holdout=N the last N training images (of a fixed shuffle, the same for every seed) are
// held out: the model trains on the others and is validated on them, and the line reports the
// held-out accuracy instead of any test figure, for choosing settings without the test set.
import * as tf from "../lib/tf.ts";
import { backendReport, useBackend } from "../lib/backends/mod.ts";
import { setBatchNormMode } from "../lib/models/resnet.ts";
import { seedRandom, shuffledIndices } from "../lib/training/random.ts";
import seedrandom from "seedrandom";
import { disposeModel, evaluateModel, fitModel } from "../lib/training/fit.ts";
import { loadCheckpoint, lowestLossEpoch } from "../lib/training/checkpoint/mod.ts";
import {
  bestCheckpointDir,
  recipeFitOptions,
  recipeModel,
  RESNET50_RECIPE,
} from "../lib/training/recipe.ts";
import { recalibrateBatchNorm } from "../lib/training/recalibration.ts";
import { loadSignsDataset } from "../lib/data/signs_dataset.ts";
import { convertToOneHot, normalizeImages } from "../lib/data/preprocessing.ts";
import { accuracyOf, predictClasses, predictImage } from "../lib/training/evaluation.ts";
import { loadImageIfPresent } from "../lib/data/image_file.ts";
import { myImagePath } from "../lib/training/settings.ts";
import { option } from "./_args.ts";

const seed = Number(option("seed", "1"));
const recipe = option("recipe", "course");
const epochs = Number(option("epochs", "20"));
const initialization = option("initialization", "independent") as "independent" | "seed0";
const holdout = Number(option("holdout", "0"));
if (!["course", "augmented"].includes(recipe)) throw new RangeError(`unknown recipe "${recipe}"`);

const backend = await useBackend(undefined, { log: null });
seedRandom(seed);
const data = await loadSignsDataset();
const labels = Array.from(await data.yTrainOrig.data());
// The held-out images: the last `holdout` of a fixed permutation of the training set.
const order = holdout > 0 ? shuffledIndices(labels.length, seedrandom("holdout")) : [
  ...labels.keys(),
];
const fitIndex = order.slice(0, order.length - holdout);
const heldIndex = order.slice(order.length - holdout);
const [xAll, yAll] = [normalizeImages(data.xTrainOrig), convertToOneHot(data.yTrainOrig, 6)];
const xFit = tf.gather(xAll, fitIndex);
const yFit = tf.gather(yAll, fitIndex);
const [xCheck, yCheck, checkLabels] = holdout > 0
  ? [tf.gather(xAll, heldIndex), tf.gather(yAll, heldIndex), heldIndex.map((i) => labels[i])]
  : [
    normalizeImages(data.xTestOrig),
    convertToOneHot(data.yTestOrig, 6),
    Array.from(await data.yTestOrig.data()),
  ];

let model = recipeModel(RESNET50_RECIPE, { initialization });
const runDir = await Deno.makeTempDir({ prefix: "signs-accuracy-" });
const checkpointDir = `${runDir}/run`;
const started = performance.now();
const history = await fitModel(
  model,
  xFit,
  yFit,
  recipeFitOptions(RESNET50_RECIPE, model, {
    epochs,
    seed,
    validationData: [xCheck, yCheck],
    augment: recipe === "augmented",
    log: (line) => console.error(line),
    checkpointDir,
  }),
);
const seconds = (performance.now() - started) / 1000;
const last = await evaluateModel(model, xCheck, yCheck);
disposeModel(model);
const kept = await loadCheckpoint(bestCheckpointDir(checkpointDir));
model = kept.model;
await Deno.remove(runDir, { recursive: true });
const keptEvaluation = await evaluateModel(model, xCheck, yCheck);
setBatchNormMode(model, "inference");
const movingAverages = await evaluateModel(model, xCheck, yCheck);
setBatchNormMode(model, "phase");
await recalibrateBatchNorm(model, xFit);
setBatchNormMode(model, "inference");
const recalibrated = await evaluateModel(model, xCheck, yCheck);
const oneByOne = await predictClasses(model, xCheck, { batchSize: 1 });
const photo = await loadImageIfPresent(myImagePath());
const scaledPhoto = photo ? tf.tidy(() => tf.div(photo, 255)) as tf.Tensor3D : null;
const photoPrediction = scaledPhoto ? await predictImage(model, scaledPhoto) : null;

const jumps = history.loss.slice(1).map((loss, i) => loss - history.loss[i]);
const what = holdout > 0 ? "heldOut" : "test";
const round = (v: number) => Math.round(v * 10000) / 10000;
console.log(JSON.stringify({
  recipe,
  initialization,
  seed,
  backend,
  backendLine: backendReport().reason,
  epochs,
  trainImages: fitIndex.length,
  ...(holdout > 0 ? { heldOutImages: holdout } : {}),
  lastLoss: round(history.loss.at(-1)!),
  bestLossEpoch: lowestLossEpoch(history),
  keptEpoch: kept.epoch,
  largestLossJump: round(Math.max(0, ...jumps)),
  [`${what}AccuracyLast`]: round(last.accuracy),
  [`${what}AccuracyKept`]: round(keptEvaluation.accuracy),
  [`${what}AccuracyMovingAverages`]: round(movingAverages.accuracy),
  [`${what}AccuracyRecalibrated`]: round(recalibrated.accuracy),
  [`${what}AccuracyOneAtATime`]: round(accuracyOf(checkLabels, oneByOne.predicted)),
  ...(holdout > 0 ? {} : {
    photoClass: photoPrediction?.predicted ?? null,
    photoProbability: photoPrediction
      ? round(photoPrediction.probabilities[photoPrediction.predicted])
      : null,
  }),
  lossHistory: history.loss.map(round),
  seconds: Math.round(seconds),
}));
tf.dispose([xAll, yAll, xFit, yFit, xCheck, yCheck]);
photo?.dispose();
scaledPhoto?.dispose();
data.dispose();
disposeModel(model);
