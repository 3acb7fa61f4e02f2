// Whole epochs as a learner waits for them, ours against PyTorch's: one JSON line per run and a
// summary line per model and backend.
//
//   deno task bench [--models=resnet50,baseline] [--backends=onednn] [--rounds=3]
//                   [--epochs=3] [--baseline-epochs=5] [--pytorch=no]
//   deno task bench --quick [--against=REV]
//
// A backend may name a precision after a colon: `--backends=onednn,onednn:mixed_bfloat16` times
// float32 and mixed bfloat16 side by side (useBackend's `precision`; where the CPU lacks bfloat16
// the run says so in its `backendLine` and runs float32).
//
// --quick answers "is this change faster?" in about five minutes: ResNet-50 on onednn, 2 rounds of
// 3 epochs, no PyTorch. --against=REV runs REV's code (checked out in a temporary work tree) in
// turn with this tree's, alternating which goes first, and prints each side's training seconds of
// an epoch (median, fastest, slowest) and their ratio (this tree / REV; below 1 is faster), and
// the ratio within each round and its median (`pairedRatio`), which a machine whose speed drifts
// from one round to the next disturbs less.
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
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BASELINE_RECIPE, RESNET50_RECIPE } from "../lib/training/recipe.ts";
import { option } from "./_args.ts";
import { runJsonChild } from "./_child.ts";
import { cpuInfo, measuredPeak, onednnIsa } from "./_machine.ts";

// --quick: "is this change faster?" in about five minutes: ResNet-50 on onednn only, 2 rounds of
// 3 epochs, no PyTorch; with --against=REV the runs alternate between this tree and REV's.
const quick = Deno.args.includes("--quick");
const against = option("against");
const models = option("models", quick ? "resnet50" : "resnet50,baseline").split(",");
const backends = option("backends", "onednn").split(",");
const rounds = Number(option("rounds", quick ? "2" : "3"));
const epochsOf: Record<string, number> = {
  resnet50: Number(option("epochs", "3")),
  baseline: Number(option("baseline-epochs", "5")),
};
const withPytorch = option("pytorch", quick || against ? "no" : "yes") !== "no";
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

const here = fileURLToPath(new URL("..", import.meta.url));

// Our run of `model` on `backend` (a name, with a precision after a colon where it has one), with
// the epoch runner and library of the tree at `root`.
const ours = (model: string, backend: string, root = here) => {
  const [name, precision] = backend.split(":");
  return run(Deno.execPath(), [
    "run",
    "-A",
    `--config=${join(root, "deno.json")}`,
    join(root, "tools", "_epoch_run.ts"),
    `--model=${model}`,
    `--backend=${name}`,
    ...(precision ? [`--precision=${precision}`] : []),
    `--epochs=${epochsOf[model]}`,
  ]);
};

// A work tree of `revision` beside this one, with this tree's SIGNS files, removed at the end.
async function otherTree(revision: string): Promise<{ root: string; commit: string }> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd: here, stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) {
      throw new Error(
        `bench: git ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
    return new TextDecoder().decode(out.stdout).trim();
  };
  const commit = await git("rev-parse", "--verify", `${revision}^{commit}`);
  const root = await Deno.makeTempDir({ prefix: "signs-bench-against-" });
  await git("worktree", "add", "--detach", root, commit);
  for (const file of ["train_signs.h5", "test_signs.h5"]) {
    await Deno.copyFile(join(here, "datasets", file), join(root, "datasets", file));
  }
  return { root, commit };
}

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

if (against !== undefined) {
  await compareTrees(against);
  Deno.exit(0);
}

// Alternates runs of this tree and of `revision`, and prints each side's training steps of an
// epoch (median, fastest and slowest over every epoch but each run's first), their ratio, each
// round's ratio and the median of those (`pairedRatio`).
async function compareTrees(revision: string): Promise<void> {
  const other = await otherTree(revision);
  try {
    for (const model of models) {
      for (const backend of backends) {
        const sides: Record<string, Run[]> = { here: [], [revision]: [] };
        for (let round = 0; round < rounds; round++) {
          const order: [string, string][] = [["here", here], [revision, other.root]];
          if (round % 2 === 1) order.reverse();
          for (const [name, root] of order) {
            const result = await ours(model, backend, root);
            console.log(JSON.stringify({ round: round + 1, side: name, ...result }));
            sides[name].push(result);
          }
        }
        const steps = (runs: Run[]) => runs.flatMap((r) => r.phases.steps.slice(1));
        const line: Record<string, unknown> = {
          model,
          backend,
          summary: true,
          against: other.commit,
        };
        for (const [name, runs] of Object.entries(sides)) {
          const values = steps(runs);
          line[name] = {
            stepsSeconds: r3(median(values)),
            fastest: r3(Math.min(...values)),
            slowest: r3(Math.max(...values)),
            epochsTimed: values.length,
          };
        }
        line.ratio = r3(median(steps(sides.here)) / median(steps(sides[revision])));
        // Each round's two runs are neighbours in time: their ratio leaves out the machine's
        // drift from one round to the next, which the medians over all rounds take in.
        const roundRatios = sides.here.map((run, round) =>
          median(steps([run])) / median(steps([sides[revision][round]]))
        );
        line.roundRatios = roundRatios.map(r3);
        line.pairedRatio = r3(median(roundRatios));
        console.log(JSON.stringify(line));
      }
    }
  } finally {
    await new Deno.Command("git", {
      args: ["worktree", "remove", "--force", other.root],
      cwd: here,
    }).output();
  }
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
