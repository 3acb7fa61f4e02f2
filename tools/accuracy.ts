import { RESNET50_RECIPE } from "../lib/training/recipe.ts";
import { option } from "./_args.ts";
import { type Line, runJsonChild } from "./_child.ts";
// What a full run of notebook 2 ends with, over several seeds: a benchmark, not a test.
//
//   deno task accuracy [--seeds=1,2,3,4,5] [--recipes=course,augmented] [--epochs=20]
//                      [--initialization=independent|seed0] [--holdout=N] [--pytorch=no|only]
//
// Each run trains ResNet-50 at full length in a process of its own (tools/_accuracy_run.ts, with
// OMP_NUM_THREADS=2 so that every run takes the path the notebook takes on an idle 2-core
// machine) and prints one JSON line: the last epoch's and the kept epoch's test accuracy, the
// recalibrated inference-mode accuracy in batches and one image at a time, the learner's photo's
// class and probability, the loss history and its largest jump, seconds. Where PyTorch is
// installed, tools/accuracy_torch.py trains the course recipe on the same seeds and prints the same
// fields (runs alternate which goes first). Then one summary line per recipe and backend: median
// and minimum of each accuracy, and how often the photo came out as a 2.
//
// With --holdout=N every run trains on all but N training images and reports the accuracy on those
// instead of test figures: the way to compare recipes without looking at the test set.

const seeds = option("seeds", "1,2,3,4,5").split(",").map(Number);
const recipes = option("recipes", "course").split(",");
const epochs = option("epochs", String(RESNET50_RECIPE.epochs));
const initialization = option("initialization", "independent");
const holdout = option("holdout", "0");
const pytorch = option("pytorch", "yes");
const PHOTO_CLASS = 2; // the photo in ../shared/images shows two fingers

for (const value of [...seeds, Number(epochs), Number(holdout)]) {
  if (!Number.isInteger(value) || value < 0) {
    console.error(`accuracy: expected non-negative integers, got ${value}`);
    Deno.exit(2);
  }
}

async function runChild(command: string, args: string[]): Promise<Line | null> {
  try {
    return await runJsonChild(command, args);
  } catch (error) {
    console.error(`accuracy: ${(error as Error).message}`);
    return null;
  }
}

const torchAvailable = pytorch !== "no" && Number(holdout) === 0 &&
  (await new Deno.Command("/usr/bin/python3", {
    args: ["-c", "import torch, h5py, PIL"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }))).success;
if (pytorch !== "no" && Number(holdout) === 0 && !torchAvailable) {
  console.log(JSON.stringify({
    backend: "pytorch",
    available: false,
    reason:
      "needs /usr/bin/python3 with torch, h5py and PIL (python3-torch, python3-h5py, python3-pil)",
  }));
}

const results: Line[] = [];
const common = [`--epochs=${epochs}`, `--initialization=${initialization}`];
for (const [i, seed] of seeds.entries()) {
  const runs: (() => Promise<Line | null>)[] = [];
  if (pytorch !== "only") {
    for (const recipe of recipes) {
      runs.push(() =>
        runChild(Deno.execPath(), [
          "run",
          "-A",
          "tools/_accuracy_run.ts",
          `--seed=${seed}`,
          `--recipe=${recipe}`,
          `--holdout=${holdout}`,
          ...common,
        ])
      );
    }
  }
  if (torchAvailable) {
    const torchRun = () =>
      runChild("/usr/bin/python3", [
        "tools/accuracy_torch.py",
        `--seed=${seed}`,
        `--batch=${RESNET50_RECIPE.batchSize}`,
        ...common,
      ]);
    if (i % 2 === 0) runs.push(torchRun);
    else runs.unshift(torchRun);
  }
  for (const run of runs) {
    const line = await run();
    if (line) {
      results.push(line);
      console.log(JSON.stringify(line));
    }
  }
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const groups = Map.groupBy(results, (r) => `${r.recipe} ${r.backend}`);
for (const runs of groups.values()) {
  const summary: Line = {
    summary: true,
    recipe: runs[0].recipe,
    backend: runs[0].backend,
    initialization,
    runs: runs.length,
    seeds: runs.map((r) => r.seed),
  };
  for (const key of Object.keys(runs[0]).filter((k) => /Accuracy/.test(k))) {
    const values = runs.map((r) => r[key] as number);
    summary[`${key}Median`] = median(values);
    summary[`${key}Min`] = Math.min(...values);
  }
  if ("photoClass" in runs[0]) {
    summary.photoRight = `${
      runs.filter((r) => r.photoClass === PHOTO_CLASS).length
    }/${runs.length}`;
  }
  summary.largestLossJumpMedian = median(runs.map((r) => r.largestLossJump as number));
  summary.secondsMedian = median(runs.map((r) => r.seconds as number));
  console.log(JSON.stringify(summary));
}
