// Whole epochs of one notebook's training as the notebook runs them, in a process of its own, for
// tools/epoch_bench.ts: prints one JSON line with each epoch's seconds and their phases.
//
//   deno run -A tools/_epoch_run.ts --model=resnet50|baseline [--backend=onednn] [--epochs=3]
//                                   [--precision=float32|mixed_bfloat16]
//
// The run: seedRandom(1), the notebook's recipe (lib/training/recipe.ts: the model compiled as the
// notebook compiles it, its batch size, the batches seeded with 1) on the SIGNS files with the test
// set as validation data; for ResNet-50 also notebook 2's two checkpoints after each epoch (the
// best epoch's and the last's), into a temporary folder removed at the end. Phases of each epoch: the training steps (from the
// end of the previous epoch to the end of the last step, mini-batch gathering included), the
// validation (the rest of fitModel's epoch), the checkpoints (their callbacks' time; the files are
// written while the next epoch trains, and the wait for the last epoch's, after the epochs, is
// reported as finishSeconds). Gathering an epoch's mini-batches is also timed on its own before
// training ("data", part of the steps).
import * as tf from "../lib/tf.ts";
import { backendReport, useBackend } from "../lib/backends/mod.ts";
import { seedRandom } from "../lib/training/random.ts";
import {
  disposeModel,
  type EpochCallback,
  epochOrder,
  fitModel,
  gatherBatch,
} from "../lib/training/fit.ts";
import {
  BASELINE_RECIPE,
  recipeFitOptions,
  recipeModel,
  RESNET50_RECIPE,
} from "../lib/training/recipe.ts";
import { loadSignsDataset, NUM_CLASSES } from "../lib/data/signs_dataset.ts";
import { convertToOneHot, normalizeImages } from "../lib/data/preprocessing.ts";
import { option } from "./_args.ts";
import { modelFlops } from "./_flops.ts";

const model = option("model", "resnet50");
const backend = option("backend", "onednn");
const epochs = Number(option("epochs", "3"));
if (!["resnet50", "baseline"].includes(model)) throw new RangeError(`unknown model "${model}"`);
if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`bad --epochs "${epochs}"`);

seedRandom(1);
await useBackend(backend, { log: null, precision: option("precision", "float32") });
const data = await loadSignsDataset();
const [xTrain, xTest] = [data.xTrainOrig, data.xTestOrig].map(normalizeImages);
const [yTrain, yTest] = [data.yTrainOrig, data.yTestOrig].map((y) =>
  convertToOneHot(y, NUM_CLASSES)
);
const recipe = model === "resnet50" ? RESNET50_RECIPE : BASELINE_RECIPE;
const batchSize = recipe.batchSize;

// The gathering of one epoch's mini-batches, with fitModel's own functions.
const gatherStart = performance.now();
const order = epochOrder(xTrain.shape[0], { seed: 1, epoch: 1 });
for (let start = 0; start < order.length; start += batchSize) {
  const batch = gatherBatch(xTrain, yTrain, order.slice(start, start + batchSize));
  await batch.xs.data();
  tf.dispose([batch.xs, batch.ys]);
}
const dataSeconds = (performance.now() - gatherStart) / 1000;

const net = recipeModel(recipe);
const folder = await Deno.makeTempDir({ prefix: "signs-epoch-bench-" });
// A checkpoint callback, timed; its writes go on while the next epoch trains, and the last one is
// waited for when fitModel ends (timed apart, as finishSeconds).
const timed = (callback: EpochCallback): EpochCallback =>
  Object.assign(async (result: Parameters<EpochCallback>[0]) => {
    const start = performance.now();
    await callback(result);
    checkpointMs += performance.now() - start;
  }, { finish: callback.finish });
let checkpointMs = 0;
let finishSeconds = 0;
let lastStep = 0;
let epochStart = performance.now();
const phases = { epoch: [] as number[], steps: [] as number[], validation: [] as number[] };
const checkpoints: number[] = [];
const round = (ms: number) => Math.round(ms) / 1000;
// The process's peak resident memory (Linux's VmHWM), else the largest sampled at epoch ends.
function peakRssBytes(): number {
  try {
    const kb = /VmHWM:\s*(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  return Deno.memoryUsage().rss;
}
let peakRss = peakRssBytes();
// Each epoch's training loss: runs of the same seed and precision give the same ones.
let losses: number[] = [];
try {
  const options = recipeFitOptions(recipe, net, {
    epochs,
    seed: 1,
    log: null,
    validationData: [xTest, yTest],
    checkpointDir: model === "resnet50" ? `${folder}/run` : undefined,
    onBatchEnd: () => {
      lastStep = performance.now();
    },
  });
  const history = await fitModel(net, xTrain, yTrain, {
    ...options,
    onEpochEnd: [
      ...[options.onEpochEnd ?? []].flat().map(timed),
      () => {
        const end = performance.now();
        phases.epoch.push(round(end - epochStart));
        phases.steps.push(round(lastStep - epochStart));
        phases.validation.push(round(end - lastStep - checkpointMs));
        checkpoints.push(round(checkpointMs));
        peakRss = Math.max(peakRss, peakRssBytes());
        checkpointMs = 0;
        epochStart = performance.now();
      },
    ],
  });
  finishSeconds = (performance.now() - epochStart) / 1000;
  losses = history.loss.map((v) => Math.round(v * 1e4) / 1e4);
} finally {
  await Deno.remove(folder, { recursive: true });
}
console.log(JSON.stringify({
  model,
  backend,
  backendLine: backendReport().reason,
  epochs,
  batch: batchSize,
  phases: { ...phases, checkpoint: checkpoints },
  dataSeconds: round(dataSeconds * 1000),
  trainImages: xTrain.shape[0],
  flopsPerImage: modelFlops(net).trainingStep,
  finishSeconds: round(finishSeconds * 1000),
  peakRssMiB: Math.round(peakRss / 2 ** 20),
  losses,
}));
disposeModel(net);
tf.dispose([xTrain, xTest, yTrain, yTest]);
data.dispose();
