// Whole epochs as a learner waits for them, ours against PyTorch's: one JSON line per run and a
// summary line per model and backend.
//
//   deno task bench [--models=resnet50,baseline] [--backends=onednn] [--rounds=3]
//                   [--epochs=3] [--baseline-epochs=5] [--pytorch=no]
//
// Each run is a process of its own with nothing else of ours alive: tools/_epoch_run.ts trains
// the notebook's model on the SIGNS files with the test set as validation data (ResNet-50 also
// writes notebook 2's two checkpoints after each epoch), tools/epoch_bench_torch.py trains the
// same recipe in PyTorch (2 threads, channels_last, a test pass and a checkpoint after each
// epoch). Rounds alternate which runs first. The summary gives medians over every epoch but each
// run's first (which includes the warm-up, reported apart as firstEpochSeconds): the epoch's
// seconds and its phases (training steps, validation, checkpoint; gathering an epoch's
// mini-batches, timed apart, which is part of the steps; finishSeconds, the wait after the last
// epoch for its checkpoint, which the other epochs write while the next one trains), the ratio of
// our epoch to PyTorch's (below 1 is faster), and the largest peak resident memory of the runs. For the baseline,
// whose notebook trains 100 epochs, the projected 100 epochs as well.
//
// First a line on the machine: the CPU, the instruction set oneDNN uses, and the peak GFLOP/s of
// float32 multiply-adds that a short loop (tools/_peak.c) reaches; the summaries give the GFLOP/s
// of the training steps (the layers' floating-point operations, tools/_flops.ts, over the steps'
// seconds) and their fraction of that peak.
//
// Step-level figures and a per-kernel profile: `deno task bench:steps` (tools/bench.ts).
import { BASELINE_RECIPE, RESNET50_RECIPE } from "../lib/training/recipe.ts";
import { option } from "./_args.ts";
import { runJsonChild } from "./_child.ts";
import { cpuInfo, measuredPeak, onednnIsa } from "./_machine.ts";

const models = option("models", "resnet50,baseline").split(",");
const backends = option("backends", "onednn").split(",");
const rounds = Number(option("rounds", "3"));
const epochsOf: Record<string, number> = {
  resnet50: Number(option("epochs", "3")),
  baseline: Number(option("baseline-epochs", "5")),
};
const withPytorch = option("pytorch") !== "no";
for (const model of models) {
  if (!(model in epochsOf)) {
    console.error(`bench: unknown model "${model}" (known: resnet50, baseline)`);
    Deno.exit(2);
  }
}
for (const [name, value] of [["rounds", rounds], ...Object.entries(epochsOf)] as const) {
  if (!Number.isInteger(value) || value < (name === "rounds" ? 1 : 2)) {
    console.error(
      `bench: --${name === "rounds" ? name : "epochs"} must be an integer of at least ${
        name === "rounds" ? 1 : 2
      } (the first epoch is reported apart), got ${value}`,
    );
    Deno.exit(2);
  }
}

type Phases = Record<"epoch" | "steps" | "validation" | "checkpoint", number[]>;
interface Run {
  model: string;
  backend: string;
  phases: Phases;
  /** Images of an epoch, and the floating-point operations of a training step per image. */
  trainImages?: number;
  flopsPerImage?: number;
  dataSeconds?: number;
  finishSeconds?: number;
  peakRssMiB: number;
}

const run = async (command: string, args: string[]) =>
  await runJsonChild(command, args) as unknown as Run;

const ours = (model: string, backend: string) =>
  run(Deno.execPath(), [
    "run",
    "-A",
    new URL("./_epoch_run.ts", import.meta.url).pathname,
    `--model=${model}`,
    `--backend=${backend}`,
    `--epochs=${epochsOf[model]}`,
  ]);

async function pytorch(model: string): Promise<Run> {
  const folder = await Deno.makeTempDir({ prefix: "signs-epoch-bench-torch-" });
  try {
    return await run("/usr/bin/python3", [
      new URL("./epoch_bench_torch.py", import.meta.url).pathname,
      `--model=${model}`,
      `--epochs=${epochsOf[model]}`,
      `--batch=${(model === "resnet50" ? RESNET50_RECIPE : BASELINE_RECIPE).batchSize}`,
      "--threads=2",
      ...(model === "resnet50" ? [`--checkpoint=${folder}`] : []),
    ]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// The machine first, measured before any run: the peak is what the runs' GFLOP/s are a share of.
const peak = await measuredPeak();
console.log(JSON.stringify({ machine: true, cpu: cpuInfo(), onednnIsa: await onednnIsa(), peak }));

// Training work per epoch (from our run of the model: PyTorch's does the same operations).
const flopsPerEpoch = new Map<string, number>();

function summary(runs: Run[], model: string) {
  const after = (name: keyof Phases) => runs.flatMap((r) => r.phases[name].slice(1));
  const stepsSeconds = median(after("steps"));
  const work = flopsPerEpoch.get(model);
  const gflops = work === undefined ? undefined : work / stepsSeconds / 1e9;
  const line: Record<string, unknown> = {
    epochSeconds: r3(median(after("epoch"))),
    firstEpochSeconds: r3(median(runs.map((r) => r.phases.epoch[0]))),
    stepsSeconds: r3(stepsSeconds),
    ...(gflops !== undefined && {
      stepGflops: Math.round(gflops * 10) / 10,
      ...(peak && { fractionOfPeak: r3(gflops / peak.gflops) }),
    }),
    validationSeconds: r3(median(after("validation"))),
    checkpointSeconds: r3(median(after("checkpoint"))),
    epochsTimed: after("epoch").length,
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
  };
  for (const name of ["dataSeconds", "finishSeconds"] as const) {
    if (runs[0][name] !== undefined) line[name] = r3(median(runs.map((r) => r[name]!)));
  }
  return line;
}

const hasTorch = withPytorch &&
  (await new Deno.Command("/usr/bin/python3", { args: ["-c", "import torch, h5py"] }).output()
    .catch(() => ({ success: false }))).success;
for (const model of models) {
  const results = new Map<string, Run[]>();
  for (let round = 0; round < rounds; round++) {
    const jobs: [string, () => Promise<Run>][] = backends.map((b) => [b, () => ours(model, b)]);
    if (hasTorch) {
      const torchJob: [string, () => Promise<Run>] = ["pytorch", () => pytorch(model)];
      if (round % 2 === 0) jobs.push(torchJob);
      else jobs.unshift(torchJob);
    }
    for (const [name, job] of jobs) {
      const result = await job();
      console.log(JSON.stringify({ round: round + 1, ...result }));
      if (result.flopsPerImage && result.trainImages) {
        flopsPerEpoch.set(model, result.flopsPerImage * result.trainImages);
      }
      results.set(name, [...(results.get(name) ?? []), result]);
    }
  }
  const torchSummary = results.has("pytorch") ? summary(results.get("pytorch")!, model) : null;
  for (const [name, runs] of results) {
    const line: Record<string, unknown> = {
      model,
      backend: name,
      summary: true,
      ...summary(runs, model),
    };
    if (torchSummary && name !== "pytorch") {
      line.ratio = r3((line.epochSeconds as number) / (torchSummary.epochSeconds as number));
    }
    if (model === "baseline") {
      line.hundredEpochsSeconds = Math.round(
        (line.firstEpochSeconds as number) + 99 * (line.epochSeconds as number),
      );
    }
    console.log(JSON.stringify(line));
  }
  if (!hasTorch && withPytorch) {
    console.log(JSON.stringify({ model, backend: "pytorch", available: false }));
  }
}
