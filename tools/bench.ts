// Training speed per backend: one JSON line per (model, backend), so runs can be compared.
//
//   deno run -A tools/bench.ts [--backends=wasm,cpu] [--models=resnet50,baseline] [--steps=N]
//
// For each case: a warm-up step, then N timed training steps (trainOnBatch) on random data of
// the SIGNS shapes; images per second, the projected time of one epoch of 1080 images (and of 100
// epochs for the baseline, whose notebook trains that long), the peak resident memory, and the
// tensor count before and after the timed steps (equal when nothing leaks). ResNet-50 on the
// plain-JavaScript cpu backend is skipped unless asked for: one step takes minutes.
import * as tf from "../lib/tf.ts";
import { BACKEND_ORDER, useBackend } from "../lib/backend.ts";
import { convolutionalModel } from "../lib/baseline.ts";
import { resNet50 } from "../lib/resnet.ts";
import { compileModel, disposeModel } from "../lib/training.ts";

const EPOCH_IMAGES = 1080;

function option(name: string): string | undefined {
  return Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const MODELS = {
  resnet50: { build: () => resNet50(), batch: 32, steps: 4 },
  baseline: { build: () => convolutionalModel([64, 64, 3]), batch: 64, steps: 17 },
} as const;
type ModelName = keyof typeof MODELS;

const backends = option("backends")?.split(",") ?? [...BACKEND_ORDER];
const models = (option("models")?.split(",") ?? Object.keys(MODELS)) as ModelName[];
const stepsOverride = option("steps") === undefined ? undefined : Number(option("steps"));

for (const model of models) {
  if (!(model in MODELS)) {
    console.error(`bench: unknown model "${model}" (known: ${Object.keys(MODELS).join(", ")})`);
    Deno.exit(2);
  }
}

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
    let peak = Deno.memoryUsage().rss;
    const warmStart = performance.now();
    await model.trainOnBatch(x, y);
    const warmUp = (performance.now() - warmStart) / 1000;
    const tensorsBefore = tf.memory().numTensors;
    const start = performance.now();
    for (let i = 0; i < steps; i++) {
      await model.trainOnBatch(x, y);
      peak = Math.max(peak, Deno.memoryUsage().rss);
    }
    const secondsPerStep = (performance.now() - start) / 1000 / steps;
    const tensorsAfter = tf.memory().numTensors;
    const epochSeconds = Math.ceil(EPOCH_IMAGES / spec.batch) * secondsPerStep;
    console.log(JSON.stringify({
      model: name,
      backend,
      batch: spec.batch,
      steps,
      warmUpSeconds: +warmUp.toFixed(2),
      secondsPerStep: +secondsPerStep.toFixed(3),
      imagesPerSecond: +(spec.batch / secondsPerStep).toFixed(1),
      epochSeconds: +epochSeconds.toFixed(1),
      ...(name === "baseline" ? { hundredEpochsSeconds: +(100 * epochSeconds).toFixed(1) } : {}),
      peakRssMiB: Math.round(peak / 2 ** 20),
      tensorsBefore,
      tensorsAfter,
      date: new Date().toISOString(),
    }));
    tf.dispose([x, y]);
    disposeModel(model);
  }
}
