// Training speed per backend: one JSON line per (model, backend), so runs can be compared.
//
//   deno run -A tools/bench.ts [--backends=wasm,cpu] [--models=resnet50,baseline] [--steps=N]
//                              [--profile] [--pytorch=no] [--load=no|all]
//
// For each case: a warm-up step, then N timed training steps (trainOnBatch) on random data of
// the SIGNS shapes; images per second, the projected time of one epoch of 1080 images (and of 100
// epochs for the baseline, whose notebook trains that long), the peak resident memory, and the
// tensor count before and after the timed steps (equal when nothing leaks). ResNet-50 on the
// plain-JavaScript cpu backend is skipped unless asked for: one step takes minutes.
//
// Then the same steps again while one other CPU-bound process runs (a Deno busy loop that the
// bench starts after the quiet steps and stops after these), as on a learner's machine where
// something else is busy: the loaded epoch time and its ratio to the quiet one (a fair share of
// 2 cores is 2). --load=no leaves this out; the cpu backend, one plain-JavaScript thread whose
// steps take seconds, is left out unless --load=all.
//
// Where PyTorch is installed (/usr/bin/python3 with torch), tools/bench_torch.py times the same
// models with the same batch and step counts in the same run, and one more line per model and
// backend gives the ratio of the epoch times (ours / PyTorch's; below 1 is faster). --profile
// adds the kernels of one more training step, by total time, one line each, and the convolutions'
// time and GFLOP/s.
//
// First a line on the machine: the CPU, the instruction set oneDNN uses, and the peak GFLOP/s of
// float32 multiply-adds that a short loop (tools/_peak.c) reaches on every CPU; each case gives
// its training step's floating-point operations (counted from the layers, tools/_flops.ts), the
// GFLOP/s achieved and their fraction of that peak.
import * as tf from "../lib/tf.ts";
import { BACKEND_ORDER, useBackend } from "../lib/backends/mod.ts";
import { convolutionalModel } from "../lib/models/baseline.ts";
import { resNet50 } from "../lib/models/resnet.ts";
import { compileModel, disposeModel } from "../lib/training/fit.ts";
import { BASELINE_RECIPE, RESNET50_RECIPE } from "../lib/training/recipe.ts";
import { option } from "./_args.ts";
import { modelFlops } from "./_flops.ts";
import { cpuInfo, measuredPeak, onednnIsa } from "./_machine.ts";

const EPOCH_IMAGES = 1080;

const MODELS = {
  resnet50: { build: () => resNet50(), batch: RESNET50_RECIPE.batchSize, steps: 4 },
  baseline: {
    build: () => convolutionalModel([64, 64, 3]),
    batch: BASELINE_RECIPE.batchSize,
    steps: 17,
  },
} as const;
type ModelName = keyof typeof MODELS;

const backends = option("backends")?.split(",") ?? [...BACKEND_ORDER];
const models = (option("models")?.split(",") ?? Object.keys(MODELS)) as ModelName[];
const stepsOverride = option("steps") === undefined ? undefined : Number(option("steps"));
const profile = Deno.args.includes("--profile");
const withPytorch = option("pytorch") !== "no";
const load = option("load") ?? "yes";
if (!["yes", "no", "all"].includes(load)) {
  console.error(`bench: --load must be yes, no or all, got "${load}"`);
  Deno.exit(2);
}
if (stepsOverride !== undefined && !(Number.isInteger(stepsOverride) && stepsOverride > 0)) {
  console.error(`bench: --steps must be a positive integer, got "${option("steps")}"`);
  Deno.exit(2);
}

for (const model of models) {
  if (!(model in MODELS)) {
    console.error(`bench: unknown model "${model}" (known: ${Object.keys(MODELS).join(", ")})`);
    Deno.exit(2);
  }
}

/** The kernels that run the convolutions and their gradients. */
const CONVOLUTION_KERNELS = new Set([
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
]);

/** The kernels of one training step by total time, with the step's wall time. */
async function profileStep(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor) {
  const start = performance.now();
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const wallMs = performance.now() - start;
  const byKernel = new Map<string, { calls: number; ms: number }>();
  for (const kernel of info.kernels) {
    // Op scopes (names ending in __op) wrap kernels that are listed themselves.
    if (kernel.name.endsWith("__op")) continue;
    const entry = byKernel.get(kernel.name) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += typeof kernel.kernelTimeMs === "number" ? kernel.kernelTimeMs : 0;
    byKernel.set(kernel.name, entry);
  }
  const kernelMs = [...byKernel.values()].reduce((sum, k) => sum + k.ms, 0);
  return { wallMs, kernelMs, kernels: [...byKernel].sort((a, b) => b[1].ms - a[1].ms) };
}

/** The mean seconds of `steps` training steps, and the peak resident memory after any of them. */
async function timeSteps(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number) {
  let peakRss = 0;
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    await model.trainOnBatch(x, y);
    peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  }
  return { secondsPerStep: (performance.now() - start) / 1000 / steps, peakRss };
}

/** Runs `f` while another process keeps one core busy; stops that process after. */
async function underLoad<T>(f: () => Promise<T>): Promise<T> {
  const competitor = new Deno.Command(Deno.execPath(), {
    args: ["eval", "for (;;) {}"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await new Promise((resolve) => setTimeout(resolve, 500)); // until it runs
    return await f();
  } finally {
    competitor.kill("SIGKILL");
    await competitor.status;
  }
}

// The machine first, measured before any step: the peak is what the GFLOP/s are a share of.
const peak = await measuredPeak();
console.log(JSON.stringify({ machine: true, cpu: cpuInfo(), onednnIsa: await onednnIsa(), peak }));
const share = (
  gflops: number,
) => (peak ? { fractionOfPeak: +(gflops / peak.gflops).toFixed(3) } : {});

// epoch seconds by model and backend, for the ratios
const epochTimes = new Map<string, Map<string, number>>();
const explicitBackends = option("backends") !== undefined;
for (const backend of backends) {
  try {
    await useBackend(backend, { log: null });
  } catch (error) {
    console.log(JSON.stringify({ backend, available: false, reason: (error as Error).message }));
    continue;
  }
  for (const name of models) {
    if (name === "resnet50" && backend === "cpu" && !explicitBackends) {
      console.log(
        JSON.stringify({
          model: name,
          backend,
          skipped: "minutes per step; ask with --backends=cpu",
        }),
      );
      continue;
    }
    const spec = MODELS[name];
    const steps = stepsOverride ?? spec.steps;
    const model = spec.build();
    compileModel(model);
    const x = tf.randomUniform([spec.batch, 64, 64, 3]);
    const y = tf.oneHot(
      tf.tensor1d(Array.from({ length: spec.batch }, (_, i) => i % 6), "int32"),
      6,
    );
    const rssBefore = Deno.memoryUsage().rss;
    const warmStart = performance.now();
    await model.trainOnBatch(x, y);
    const warmUp = (performance.now() - warmStart) / 1000;
    const tensorsBefore = tf.memory().numTensors;
    const quiet = await timeSteps(model, x, y, steps);
    const quietStep = quiet.secondsPerStep;
    const peak = Math.max(rssBefore, quiet.peakRss);
    const tensorsAfter = tf.memory().numTensors;
    const stepsPerEpoch = Math.ceil(EPOCH_IMAGES / spec.batch);
    const epochSeconds = stepsPerEpoch * quietStep;
    const flops = modelFlops(model);
    const stepGflops = (flops.trainingStep * spec.batch) / quietStep / 1e9;
    const loadedStep = load === "all" || (load === "yes" && backend !== "cpu")
      ? (await underLoad(() => timeSteps(model, x, y, steps))).secondsPerStep
      : undefined;
    if (!epochTimes.has(name)) epochTimes.set(name, new Map());
    epochTimes.get(name)!.set(backend, epochSeconds);
    console.log(JSON.stringify({
      model: name,
      backend,
      batch: spec.batch,
      steps,
      warmUpSeconds: +warmUp.toFixed(2),
      secondsPerStep: +quietStep.toFixed(3),
      imagesPerSecond: +(spec.batch / quietStep).toFixed(1),
      gflopPerStep: +((flops.trainingStep * spec.batch) / 1e9).toFixed(2),
      stepGflops: +stepGflops.toFixed(1),
      ...share(stepGflops),
      epochSeconds: +epochSeconds.toFixed(1),
      ...(name === "baseline" ? { hundredEpochsSeconds: +(100 * epochSeconds).toFixed(1) } : {}),
      ...(loadedStep === undefined ? {} : {
        loadedEpochSeconds: +(stepsPerEpoch * loadedStep).toFixed(1),
        loadRatio: +(loadedStep / quietStep).toFixed(2),
      }),
      peakRssMiB: Math.round(peak / 2 ** 20),
      tensorsBefore,
      tensorsAfter,
      date: new Date().toISOString(),
    }));
    if (profile) {
      const p = await profileStep(model, x, y);
      const convolutionMs = p.kernels
        .filter(([kernel]) => CONVOLUTION_KERNELS.has(kernel))
        .reduce((sum, [, { ms }]) => sum + ms, 0);
      const convolutionGflops = (flops.convolutionTrainingStep * spec.batch) / convolutionMs / 1e6;
      console.log(JSON.stringify({
        profile: name,
        backend,
        wallMs: +p.wallMs.toFixed(1),
        kernelMs: +p.kernelMs.toFixed(1),
        kernels: p.kernels.length,
        convolutionMs: +convolutionMs.toFixed(1),
        convolutionGflops: +convolutionGflops.toFixed(1),
        ...share(convolutionGflops),
      }));
      for (const [kernel, { calls, ms }] of p.kernels) {
        if (ms < p.kernelMs / 500) continue;
        console.log(JSON.stringify({
          profile: name,
          backend,
          kernel,
          calls,
          ms: +ms.toFixed(2),
          percent: +((100 * ms) / p.kernelMs).toFixed(1),
        }));
      }
    }
    tf.dispose([x, y]);
    disposeModel(model);
  }
}

/** Runs tools/bench_torch.py for one model: its JSON lines, or one line saying why it could not run. */
async function pytorchLines(model: ModelName, steps: number): Promise<Record<string, unknown>[]> {
  const script = new URL("./bench_torch.py", import.meta.url).pathname;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("/usr/bin/python3", {
      args: [script, `--models=${model}`, `--steps=${steps}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    return [{ backend: "pytorch", available: false, reason: `/usr/bin/python3: ${error}` }];
  }
  const lines = new TextDecoder().decode(output.stdout).split("\n").filter((l) => l.trim());
  if (!output.success) {
    const reason = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
    return [{ backend: "pytorch", available: false, reason: `bench_torch.py failed: ${reason}` }];
  }
  return lines.map((line) => JSON.parse(line));
}

if (withPytorch) {
  for (const model of models) {
    const ours = epochTimes.get(model);
    if (!ours) continue;
    const steps = stepsOverride ?? MODELS[model].steps;
    const lines = await pytorchLines(model, steps);
    for (const line of lines) console.log(JSON.stringify(line));
    const line = lines.find((l) => l.model === model);
    if (!line) break; // not installed: said once
    // the unrounded figure where there is one
    const torch = typeof line.hundredEpochsSeconds === "number"
      ? line.hundredEpochsSeconds / 100
      : line.epochSeconds as number;
    for (const [backend, seconds] of ours) {
      console.log(JSON.stringify({
        model,
        compare: `${backend}/pytorch`,
        epochSeconds: +seconds.toFixed(2),
        pytorchEpochSeconds: +torch.toFixed(2),
        ratio: +(seconds / torch).toFixed(2),
      }));
    }
  }
}
