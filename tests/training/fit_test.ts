import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import {
  compileModel,
  disposeModel,
  evaluateModel,
  fitModel,
  type FitOptions,
  progressLine,
} from "@lib/training/fit.ts";
import { convertToOneHot } from "@lib/data/preprocessing.ts";
import { seedRandom } from "@lib/training/random.ts";
import { loadCheckpoint, saveCheckpoint } from "@lib/training/checkpoint/mod.ts";

await tf.setBackend("cpu");

// A small, learnable problem: 16x16 images whose class is which quadrant is bright (4 classes
// padded to the 6 outputs the baseline has).
function quadrantData(
  count: number,
  seed: number,
): { x: tf.Tensor4D; y: tf.Tensor2D; labels: number[] } {
  const labels = Array.from({ length: count }, (_, i) => (i + seed) % 4);
  const x = tf.tidy(() => {
    const noise = tf.randomUniform([count, 16, 16, 3], 0, 0.3, "float32", seed);
    const masks = labels.map((label) => {
      const r = label < 2 ? 0 : 8;
      const c = label % 2 === 0 ? 0 : 8;
      return tf.pad(tf.ones([8, 8, 3]), [[r, 8 - r], [c, 8 - c], [0, 0]]);
    });
    return tf.add(noise, tf.mul(tf.stack(masks), 0.7)) as tf.Tensor4D;
  });
  return { x, y: convertToOneHot(labels, 6), labels };
}

Deno.test("fitModel() trains the baseline: the loss goes down, the history has Keras's shape", async () => {
  const train = quadrantData(48, 0);
  const val = quadrantData(12, 1);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model, { learningRate: 0.01 });
  const lines: string[] = [];
  const epochs: number[] = [];
  const tensorCounts: number[] = [];
  const history = await fitModel(model, train.x, train.y, {
    epochs: 12,
    batchSize: 16,
    validationData: [val.x, val.y],
    log: (line) => lines.push(line),
    onEpochEnd: ({ epoch }) => {
      epochs.push(epoch);
      tensorCounts.push(tf.memory().numTensors);
    },
  });
  // The first epoch creates Adam's moment estimates; after that the count stays flat.
  assertEquals(new Set(tensorCounts).size, 1, `tensor counts per epoch: ${tensorCounts}`);
  const before = tf.memory().numTensors;
  assertEquals(before, tensorCounts[0], "no tensors left behind by fit");
  assertEquals(Object.keys(history).sort(), [
    "accuracy",
    "epoch",
    "loss",
    "val_accuracy",
    "val_loss",
  ]);
  for (const values of Object.values(history)) assertEquals(values.length, 12);
  assertEquals(history.epoch, epochs);
  assert(
    history.loss[11] < history.loss[0] * 0.8,
    `loss ${history.loss[0]} -> ${history.loss[11]}`,
  );
  assertEquals(lines.length, 12);
  assertStringIncludes(lines[0], "Epoch 1/12 - 3/3 steps - ");
  assertStringIncludes(lines[0], " - loss: ");
  assertStringIncludes(lines[0], " - val_accuracy: ");
  const evaluation = await evaluateModel(model, val.x, val.y);
  assertEquals(tf.memory().numTensors, before);
  assert(
    Math.abs(evaluation.loss - history.val_loss![11]) < 1e-4,
    "evaluate agrees with the last val_loss",
  );
  tf.dispose([train.x, train.y, val.x, val.y]);
  model.dispose();
});

Deno.test("fitModel() resumes: initialEpoch and a given history continue the count", async () => {
  const train = quadrantData(16, 2);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const first = await fitModel(model, train.x, train.y, { epochs: 2, batchSize: 8, log: null });
  const lines: string[] = [];
  const history = await fitModel(model, train.x, train.y, {
    epochs: 4,
    initialEpoch: 2,
    batchSize: 8,
    history: first,
    log: (line) => lines.push(line),
  });
  assertEquals(history.epoch, [1, 2, 3, 4]);
  assertEquals(history.loss.length, 4);
  assertEquals(history.val_loss, undefined);
  assertStringIncludes(lines[0], "Epoch 3/4 - 2/2 steps");
  tf.dispose([train.x, train.y]);
  model.dispose();
});

Deno.test("fitModel() and evaluateModel() reject bad arguments with clear errors", async () => {
  const model = convolutionalModel([16, 16, 3]);
  const x = tf.zeros([4, 16, 16, 3]);
  const y = tf.zeros([3, 6]);
  await assertRejects(() => fitModel(model, x, y, { epochs: 1 }), Error, "it is not compiled");
  await assertRejects(() => evaluateModel(model, x, y), Error, "it is not compiled");
  compileModel(model);
  await assertRejects(
    () => fitModel(model, x, y, { epochs: 1 }),
    RangeError,
    "has 4 images but 3 labels",
  );
  await assertRejects(() => fitModel(model, x, y, { epochs: 0 }), RangeError, "epochs = 0");
  await assertRejects(
    () => fitModel(model, x, y, { epochs: 2, batchSize: 0 }),
    RangeError,
    "batch size 0",
  );
  await assertRejects(
    () => fitModel(model, x, y, { epochs: 2, initialEpoch: 3 }),
    RangeError,
    "initial epoch 3",
  );
  tf.dispose([x, y]);
  model.dispose();
});

Deno.test("progressLine() reads like Keras's per-epoch line", () => {
  assertEquals(
    progressLine(3, 20, 34, 4.06, { loss: 0.81234, accuracy: 0.7, val_loss: 1, val_accuracy: 0.5 }),
    "Epoch 3/20 - 34/34 steps - 4.1s - loss: 0.8123 - accuracy: 0.7000 - val_loss: 1.0000 - val_accuracy: 0.5000",
  );
});

Deno.test("disposeModel() frees the weights and Adam's state", async () => {
  const before = tf.memory().numTensors;
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const train = quadrantData(8, 3);
  await fitModel(model, train.x, train.y, { epochs: 1, batchSize: 8, log: null });
  tf.dispose([train.x, train.y]);
  disposeModel(model);
  assertEquals(tf.memory().numTensors, before);
});

/**
 * Trains 4 epochs in one go, then 2 epochs saved after each epoch, and 2 more after `between`
 * (what a new session does before it resumes) and loading the checkpoint: both histories.
 */
async function wholeAndResumed(options: Partial<FitOptions>, between: () => void) {
  const { x, y } = quadrantData(20, 1);
  const common = { ...options, batchSize: 8, log: null };
  seedRandom(1);
  const whole = convolutionalModel([16, 16, 3]);
  compileModel(whole);
  const full = await fitModel(whole, x, y, { ...common, epochs: 4 });
  disposeModel(whole);

  seedRandom(1);
  const first = convolutionalModel([16, 16, 3]);
  compileModel(first);
  const dir = await Deno.makeTempDir({ prefix: "signs-resume-" });
  await fitModel(first, x, y, {
    ...common,
    epochs: 2,
    onEpochEnd: ({ epoch, history }) => saveCheckpoint(`${dir}/run`, first, { epoch, history }),
  });
  disposeModel(first);
  between();
  const saved = await loadCheckpoint(`${dir}/run`);
  const resumed = await fitModel(saved.model, x, y, {
    ...common,
    epochs: 4,
    initialEpoch: 2,
    history: saved.history,
  });
  disposeModel(saved.model);
  await Deno.remove(dir, { recursive: true });
  tf.dispose([x, y]);
  return { full, resumed };
}

for (const augment of [false, true]) {
  Deno.test(`fitModel() with a seed resumes exactly: 2 + 2 epochs give the 4-epoch history (augment: ${augment})`, async () => {
    // Random numbers drawn elsewhere between the two halves change nothing.
    const { full, resumed } = await wholeAndResumed({ seed: 9, augment }, () => {
      for (let i = 0; i < 5; i++) Math.random();
    });
    assertEquals(resumed.epoch, [1, 2, 3, 4]);
    assertEquals(resumed.loss, full.loss);
    assertEquals(resumed.accuracy, full.accuracy);
  });
}

Deno.test("a run seeded by seedRandom alone resumes exactly: the checkpoint keeps the generator's state", async () => {
  // A new session: seeded again and the model built again before the checkpoint is loaded.
  const { full, resumed } = await wholeAndResumed({}, () => {
    seedRandom(1);
    disposeModel(convolutionalModel([16, 16, 3]));
  });
  assertEquals(resumed.loss, full.loss);
  assertEquals(resumed.accuracy, full.accuracy);
});

Deno.test("fitModel() with another seed takes other batches", async () => {
  const { x, y } = quadrantData(20, 1);
  const run = async (seed: number) => {
    seedRandom(1);
    const model = convolutionalModel([16, 16, 3]);
    compileModel(model);
    const history = await fitModel(model, x, y, { epochs: 2, batchSize: 8, seed, log: null });
    disposeModel(model);
    return history.loss;
  };
  const [a, b, c] = [await run(3), await run(3), await run(4)];
  assertEquals(a, b);
  assert(a.some((v, i) => v !== c[i]));
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  await assertRejects(
    () => fitModel(model, x, y, { epochs: 1, seed: 0.5 }),
    RangeError,
    "Cannot train with seed 0.5",
  );
  disposeModel(model);
  tf.dispose([x, y]);
});

Deno.test("fitModel() refuses data holding NaN or infinite values, naming where the first is", async () => {
  const { x, y } = quadrantData(8, 2);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const values = x.arraySync();
  values[5][3][4][1] = NaN;
  values[6][0][0][0] = Infinity;
  const bad = tf.tensor4d(values);
  await assertRejects(
    () => fitModel(model, bad, y, { epochs: 1, log: null }),
    RangeError,
    "Cannot train: the training images hold 2 values that are not finite numbers (NaN or " +
      "infinite), the first in image 5",
  );
  await assertRejects(
    () => fitModel(model, x, y, { epochs: 1, log: null, validationData: [bad, y] }),
    RangeError,
    "the validation images hold 2 values",
  );
  tf.dispose([x, y, bad]);
  disposeModel(model);
});

Deno.test("fitModel() stops at an epoch whose loss is not finite, before its callbacks run (as Keras's TerminateOnNaN)", async () => {
  const { x, y } = quadrantData(16, 3);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const seen: number[] = [];
  const lines: string[] = [];
  const error = await assertRejects(
    () =>
      fitModel(model, x, y, {
        epochs: 5,
        batchSize: 8,
        log: (line) => lines.push(line),
        onEpochEnd: ({ epoch }) => {
          seen.push(epoch);
          // The weights go bad after epoch 2, as they do when training diverges.
          if (epoch === 2) {
            tf.tidy(() => {
              const [kernel, bias] = model.layers[1].getWeights();
              model.layers[1].setWeights([tf.fill(kernel.shape, NaN), bias]);
            });
          }
        },
      }),
    Error,
    "Training stopped in epoch 3: its training loss is NaN",
  );
  assertStringIncludes(error.message, "Nothing was saved for epoch 3");
  assertEquals(seen, [1, 2], "no callback (no checkpoint) after the bad epoch");
  assertEquals((error as { history?: { epoch: number[] } }).history?.epoch, [1, 2]);
  assertEquals(lines.length, 3);
  assertStringIncludes(lines[2], "stopped");
  tf.dispose([x, y]);
  disposeModel(model);
});

Deno.test("fitModel() reports each step to onBatchEnd: the epoch's running loss ends at its logged loss", async () => {
  const train = quadrantData(40, 0);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const seen: { epoch: number; step: number; steps: number; loss: number; accuracy: number }[] = [];
  const history = await fitModel(model, train.x, train.y, {
    epochs: 2,
    batchSize: 16,
    log: null,
    seed: 3,
    onBatchEnd: (p) => {
      assertEquals(p.epochs, 2);
      seen.push({ ...p });
    },
  });
  // 40 images in steps of 16: 3 steps per epoch, the last of 8 images.
  assertEquals(seen.map((p) => [p.epoch, p.step, p.steps]), [
    [1, 1, 3],
    [1, 2, 3],
    [1, 3, 3],
    [2, 1, 3],
    [2, 2, 3],
    [2, 3, 3],
  ]);
  for (const [i, epochEnd] of [seen[2], seen[5]].entries()) {
    assert(Math.abs(epochEnd.loss - history.loss[i]) < 1e-5, `${epochEnd.loss} ${history.loss[i]}`);
    assert(Math.abs(epochEnd.accuracy - history.accuracy[i]) < 1e-6);
  }
  tf.dispose([train.x, train.y]);
  disposeModel(model);
});

Deno.test("fitModel() refuses labels that are not one-hot before training, naming both shapes", async () => {
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const train = quadrantData(16, 4);
  const column = tf.tensor2d(train.labels, [16, 1]);
  const row = tf.tensor2d(train.labels, [1, 16]);
  const flat = tf.tensor1d(train.labels);
  const wide = tf.zeros([16, 4]);
  const before = tf.memory().numTensors;
  const epochs: number[] = [];
  const options = {
    epochs: 1,
    batchSize: 8,
    log: null,
    onEpochEnd: ({ epoch }: { epoch: number }) => {
      epochs.push(epoch);
    },
  };
  for (const [labels, shape] of [[column, "[16, 1]"], [row, "[1, 16]"], [flat, "[16]"]] as const) {
    const error = await assertRejects(
      () => fitModel(model, train.x, labels, options),
      TypeError,
      `the labels have shape ${shape}, expected [16, 6]`,
    );
    assertStringIncludes(error.message, "one-hot them first, with convertToOneHot(y, 6)");
    assertEquals(tf.memory().numTensors, before, `tensors left by labels of shape ${shape}`);
  }
  const error = await assertRejects(
    () => fitModel(model, train.x, wide, options),
    TypeError,
    "the labels have shape [16, 4], expected [16, 6]",
  );
  assert(!error.message.includes("convertToOneHot"), error.message);
  await assertRejects(
    () => fitModel(model, train.x, train.y, { ...options, validationData: [train.x, column] }),
    TypeError,
    "the validation labels have shape [16, 1], expected [16, 6]",
  );
  assertEquals(epochs, [], "no epoch trained");
  assertEquals(tf.memory().numTensors, before);
  tf.dispose([train.x, train.y, column, row, flat, wide]);
  model.dispose();
});

Deno.test("evaluateModel() refuses labels that are not one-hot, leaving nothing behind", async () => {
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const data = quadrantData(8, 5);
  const flat = tf.tensor1d(data.labels, "int32");
  const before = tf.memory().numTensors;
  await assertRejects(
    () => evaluateModel(model, data.x, flat),
    TypeError,
    "the labels have shape [8], expected [8, 6] (one-hot rows of the model's 6 classes); they " +
      "look like class numbers: one-hot them first, with convertToOneHot(y, 6)",
  );
  assertEquals(tf.memory().numTensors, before);
  tf.dispose([data.x, data.y, flat]);
  model.dispose();
});

Deno.test("compileModel() again on a trained model frees the previous optimizer's state", async () => {
  const model = convolutionalModel([16, 16, 3]);
  const train = quadrantData(8, 6);
  compileModel(model);
  await fitModel(model, train.x, train.y, { epochs: 1, batchSize: 8, log: null });
  const trained = tf.memory().numTensors;
  for (let run = 0; run < 2; run++) {
    compileModel(model, { learningRate: 0.002 });
    await fitModel(model, train.x, train.y, { epochs: 1, batchSize: 8, log: null });
    assertEquals(tf.memory().numTensors, trained, `tensors after compiling and fitting again`);
  }
  tf.dispose([train.x, train.y]);
  disposeModel(model);
});

Deno.test("fitModel() refuses a history that does not end at initialEpoch, before the first epoch", async () => {
  const train = quadrantData(8, 7);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const first = await fitModel(model, train.x, train.y, { epochs: 2, batchSize: 8, log: null });
  const kept = structuredClone(first);
  const trained: number[] = [];
  const onEpochEnd = ({ epoch }: { epoch: number }) => void trained.push(epoch);
  const options = { batchSize: 8, log: null, history: first, onEpochEnd };
  await assertRejects(
    () => fitModel(model, train.x, train.y, { ...options, epochs: 3 }),
    RangeError,
    "Cannot train from epoch 1: the history to continue is a history of epochs 1, 2, expected " +
      "none; to continue it, give initialEpoch: 2",
  );
  await assertRejects(
    () => fitModel(model, train.x, train.y, { ...options, epochs: 3, initialEpoch: 1 }),
    RangeError,
    "history of epochs 1, 2, expected 1 to 1",
  );
  assertEquals(trained, [], "no epoch trained");
  assertEquals(first, kept);
  tf.dispose([train.x, train.y]);
  disposeModel(model);
});

Deno.test("fitModel() refuses validation columns that do not match the validation data", async () => {
  const train = quadrantData(8, 8);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const base = { batchSize: 8, log: null };
  const plain = await fitModel(model, train.x, train.y, { ...base, epochs: 1 });
  const validated = await fitModel(model, train.x, train.y, {
    ...base,
    epochs: 1,
    validationData: [train.x, train.y],
  });
  const trained: number[] = [];
  const more = { ...base, epochs: 2, initialEpoch: 1, onEpochEnd: () => void trained.push(1) };
  await assertRejects(
    () =>
      fitModel(model, train.x, train.y, {
        ...more,
        history: plain,
        validationData: [train.x, train.y],
      }),
    RangeError,
    "Cannot train with validation data: the history to continue has no validation columns",
  );
  await assertRejects(
    () => fitModel(model, train.x, train.y, { ...more, history: validated }),
    RangeError,
    'Cannot train without validation data: the history to continue has the columns "val_loss", ' +
      '"val_accuracy"',
  );
  assertEquals(trained, []);
  tf.dispose([train.x, train.y]);
  disposeModel(model);
});

Deno.test("fitModel() leaves the history it continues as it was and resolves to a new one", async () => {
  const train = quadrantData(8, 9);
  const model = convolutionalModel([16, 16, 3]);
  compileModel(model);
  const first = await fitModel(model, train.x, train.y, { epochs: 1, batchSize: 8, log: null });
  const kept = structuredClone(first);
  const second = await fitModel(model, train.x, train.y, {
    epochs: 2,
    initialEpoch: 1,
    history: first,
    batchSize: 8,
    log: null,
  });
  assertEquals(first, kept);
  assertEquals(second.epoch, [1, 2]);
  assertEquals(second.loss[0], first.loss[0]);
  tf.dispose([train.x, train.y]);
  disposeModel(model);
});
