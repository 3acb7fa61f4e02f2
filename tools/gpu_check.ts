// On a machine with a GPU: trains ResNet-50 for two epochs on each GPU backend it finds
// (`tensorflow` through @tensorflow/tfjs-node-gpu, `webgpu` on a hardware adapter) and compares the
// losses of the first steps with `onednn`'s from the same weights and mini-batches. One JSON line
// per GPU backend, with each epoch's whole seconds (validation included) and its training images
// per second; without any, one line saying so, and the exit status is 0. Results are read with
// `await data()` only (the webgpu backend cannot read GPU memory synchronously under Deno).
//
//   deno task gpu-check [--epochs=2] [--steps=5] [--backends=tensorflow,webgpu]
//                       [--software=yes] [--train-limit=N]
//
// Each backend runs in a process of its own (tools/gpu_check.ts --child=NAME). --backends names
// others to check the same way (on a machine without a GPU, `--backends=onednn` runs the whole
// comparison against itself). A software WebGPU adapter (llvmpipe) is skipped unless
// --software=yes; with --train-limit=64 --epochs=1 that tries the whole tool on one in minutes.
import * as tf from "../lib/tf.ts";
import { findWebgpuAdapter, useBackend } from "../lib/backends/mod.ts";
import { loadSignsDataset, NUM_CLASSES } from "../lib/data/signs_dataset.ts";
import { convertToOneHot, normalizeImages, takeFirst } from "../lib/data/preprocessing.ts";
import { disposeModel, evaluateModel, fitModel } from "../lib/training/fit.ts";
import { recipeFitOptions, recipeModel, RESNET50_RECIPE } from "../lib/training/recipe.ts";
import { seedRandom } from "../lib/training/random.ts";
import { option } from "./_args.ts";
import { type Line, runJsonChild } from "./_child.ts";

const GPU_BACKENDS = option("backends", "tensorflow,webgpu").split(",");
const SEED = 1;
const epochs = Number(option("epochs", "2"));
const steps = Number(option("steps", "5"));
const trainLimit = Number(option("train-limit", "1080"));
const software = option("software", "no") === "yes";
const childBackend = option("child");
for (
  const [name, value] of [["epochs", epochs], ["steps", steps], [
    "train-limit",
    trainLimit,
  ]] as const
) {
  // A child's --epochs=0 asks for the first steps only (the onednn reference).
  const least = name === "epochs" && childBackend !== undefined ? 0 : 1;
  if (!Number.isInteger(value) || value < least) {
    console.error(`gpu-check: --${name} must be a positive integer, got "${option(name)}"`);
    Deno.exit(2);
  }
}

// One backend: the running training loss of the first steps, each epoch's seconds and the test
// accuracy at the end; or why the backend is not available. `epochs` 0: the first steps only.
async function child(backend: string, epochCount: number): Promise<Line> {
  seedRandom(SEED);
  let adapter: string | undefined;
  try {
    if (backend === "webgpu") {
      const found = await findWebgpuAdapter();
      if (found.software && !software) {
        throw new Error(`only a software adapter (${found.description}); --software=yes uses it`);
      }
      adapter = found.description;
    }
    await useBackend(backend, { log: null });
  } catch (error) {
    return { backend, available: false, reason: (error as Error).message };
  }
  const data = await loadSignsDataset();
  const [xAll, xTest] = [data.xTrainOrig, data.xTestOrig].map(normalizeImages);
  const [yAll, yTest] = [data.yTrainOrig, data.yTestOrig].map((y) =>
    convertToOneHot(y, NUM_CLASSES)
  );
  const [xTrain, yTrain] = takeFirst([xAll, yAll], trainLimit);
  const images = xTrain.shape[0];
  const model = recipeModel(RESNET50_RECIPE);
  const firstLosses: number[] = [];
  const epochSeconds: number[] = [];
  const imagesPerSecond: number[] = [];
  // An epoch's training steps: from the end of the previous epoch to its last step.
  let epochStart = performance.now();
  await fitModel(
    model,
    xTrain,
    yTrain,
    recipeFitOptions(RESNET50_RECIPE, model, {
      epochs: Math.max(epochCount, 1),
      seed: SEED,
      log: null,
      validationData: epochCount > 0 ? [xTest, yTest] : undefined,
      onBatchEnd: (p) => {
        if (p.epoch === 1 && p.step <= steps) firstLosses.push(p.loss);
        if (epochCount === 0 && p.step === steps) model.stopTraining = true;
        if (p.step === p.steps) {
          const seconds = (performance.now() - epochStart) / 1000;
          imagesPerSecond.push(Number((images / seconds).toPrecision(3)));
        }
      },
      onEpochEnd: (r) => {
        epochSeconds.push(r.seconds);
        epochStart = performance.now();
      },
    }),
  );
  const line: Line = { backend, available: true, ...(adapter ? { adapter } : {}), firstLosses };
  if (epochCount > 0) {
    line.images = images;
    line.epochSeconds = epochSeconds;
    line.imagesPerSecond = imagesPerSecond;
    line.testAccuracy = (await evaluateModel(model, xTest, yTest)).accuracy;
  }
  disposeModel(model);
  tf.dispose([xAll, yAll, xTrain, xTest, yTrain, yTest]);
  data.dispose();
  return line;
}

async function runChild(backend: string, epochCount: number): Promise<Line> {
  try {
    return await runJsonChild(Deno.execPath(), [
      "run",
      "-A",
      import.meta.filename!,
      `--child=${backend}`,
      `--epochs=${epochCount}`,
      `--steps=${steps}`,
      `--train-limit=${trainLimit}`,
      `--software=${software ? "yes" : "no"}`,
    ]);
  } catch (error) {
    return { backend, available: false, reason: (error as Error).message };
  }
}

if (childBackend !== undefined) {
  console.log(JSON.stringify(await child(childBackend, epochs)));
  Deno.exit(0);
}

const found: Line[] = [];
const missing: string[] = [];
for (const backend of GPU_BACKENDS) {
  const line = await runChild(backend, epochs);
  if (line.available) found.push(line);
  else missing.push(`${backend}: ${line.reason}`);
}
if (found.length === 0) {
  console.log(`gpu-check: no GPU backend here (${missing.join("; ")})`);
  Deno.exit(0);
}
const reference = await runChild("onednn", 0);
for (const line of found) {
  const ours = line.firstLosses as number[];
  const theirs = (reference.firstLosses as number[] | undefined) ?? [];
  const diffs = ours.map((loss, i) => Math.abs(loss - (theirs[i] ?? NaN)));
  console.log(JSON.stringify({
    ...line,
    onednnFirstLosses: theirs,
    firstLossDiff: diffs[0] ?? null,
    maxLossDiff: diffs.length ? Math.max(...diffs) : null,
    // The first step's loss is the forward pass of the same weights on the same images.
    firstStepAgrees: diffs[0] !== undefined && diffs[0] < 1e-3,
  }));
}
