import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { exists } from "@lib/util/fs.ts";
import { useBackend } from "@lib/backends/mod.ts";
import * as tf from "@lib/tf.ts";
import {
  checkpointBestEpoch,
  checkpointEachEpoch,
  loadCheckpoint,
  loadCheckpointIfPresent,
  lowestLossEpoch,
  saveCheckpoint,
} from "@lib/training/checkpoint/mod.ts";
import type { TrainingHistory } from "@lib/training/fit.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { identityBlock } from "@lib/models/resnet.ts";
import { seedRandom } from "@lib/training/random.ts";
import { compileModel, disposeModel, fitModel } from "@lib/training/fit.ts";
import { crashingAt, diskFullHalfway, recordOf } from "./_crashes.ts";

await tf.setBackend("cpu");

const root = await Deno.makeTempDir({ prefix: "signs-checkpoint-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
let counter = 0;
const newDir = () => join(root, `run-${++counter}`);

function data(count: number) {
  const x = tf.randomUniform([count, 8, 8, 3], 0, 1, "float32", 4);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: count }, (_, i) => i % 6), "int32"), 6);
  return { x, y };
}

Deno.test("saveCheckpoint() and loadCheckpoint() round-trip: same predictions, same next step", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const { x, y } = data(12);
  const history = await fitModel(model, x, y, {
    epochs: 2,
    batchSize: 4,
    shuffle: false,
    log: null,
  });
  await saveCheckpoint(dir, model, { epoch: 2, history, seed: 5 });
  const loaded = await loadCheckpoint(dir);
  assertEquals([loaded.epoch, loaded.seed, loaded.backend], [2, 5, "cpu"]);
  assertEquals(loaded.history, history);
  const [a, b] = [model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor];
  assertEquals(Array.from(await a.data()), Array.from(await b.data()));
  // The optimizer state came back too: one more identical step gives identical weights.
  await model.trainOnBatch(x, y);
  await loaded.model.trainOnBatch(x, y);
  const [wa, wb] = [model.getWeights()[0], loaded.model.getWeights()[0]];
  assertEquals(Array.from(await wa.data()), Array.from(await wb.data()));
  tf.dispose([a, b, x, y]);
  disposeModel(model);
  disposeModel(loaded.model);
});

Deno.test("loadCheckpoint() reads back models with residual blocks (batch normalisation)", async () => {
  const dir = newDir();
  const input = tf.input({ shape: [4, 4, 3] });
  const model = tf.model({
    inputs: input,
    outputs: identityBlock(input, 2, [2, 2, 3], { training: true }),
  });
  await saveCheckpoint(dir, model, { epoch: 0, history: { epoch: [], loss: [], accuracy: [] } });
  const loaded = await loadCheckpoint(dir);
  assertEquals(
    loaded.model.layers.map((l) => l.getClassName()),
    model.layers.map((l) => l.getClassName()),
  );
  const bn = loaded.model.layers.find((l) => l.getClassName() === "BatchNormalization")!;
  assertEquals(bn.getConfig().training, true, "the fixed mode survives saving");
  model.dispose();
  loaded.model.dispose();
});

Deno.test("loadCheckpointIfPresent() resolves to null when nothing was saved; loadCheckpoint() says so", async () => {
  const dir = newDir();
  assertEquals(await loadCheckpointIfPresent(dir), null);
  await assertRejects(() => loadCheckpoint(dir), Deno.errors.NotFound, `"${dir}": no such folder`);
});

async function savedDir(): Promise<string> {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  await saveCheckpoint(dir, model, { epoch: 0, history: { epoch: [], loss: [], accuracy: [] } });
  model.dispose();
  return dir;
}

Deno.test("loadCheckpoint() names a damaged or incomplete checkpoint", async () => {
  let dir = await savedDir();
  await Deno.writeTextFile(join(dir, "model.json"), "{ not json");
  await assertRejects(() => loadCheckpoint(dir), Error, "model.json does not match the checksum");
  // A checkpoint from before checksums were recorded is still read, and still checked.
  const info = JSON.parse(await Deno.readTextFile(join(dir, "checkpoint.json")));
  delete info.files;
  await Deno.writeTextFile(join(dir, "checkpoint.json"), JSON.stringify(info));
  await assertRejects(() => loadCheckpoint(dir), Error, "model.json is not valid JSON");
  dir = await savedDir();
  const weights = await Deno.readFile(join(dir, "weights.bin"));
  await Deno.writeFile(join(dir, "weights.bin"), weights.subarray(0, 100));
  await assertRejects(
    () => loadCheckpoint(dir),
    Error,
    `weights.bin has 100 bytes, the manifest in model.json expects ${weights.length}`,
  );
  dir = await savedDir();
  await Deno.remove(join(dir, "checkpoint.json"));
  await assertRejects(() => loadCheckpoint(dir), Error, "checkpoint.json is missing");
});

Deno.test("saveCheckpoint() that fails part-way keeps the last good checkpoint", async () => {
  const dir = await savedDir();
  const model = convolutionalModel([16, 16, 3]);
  // The disk fills up half-way through the weights.
  try {
    await assertRejects(
      () =>
        diskFullHalfway(() =>
          saveCheckpoint(dir, model, { epoch: 0, history: { epoch: [], loss: [], accuracy: [] } })
        ),
      Error,
      "disk full",
    );
  } finally {
    model.dispose();
  }
  const loaded = await loadCheckpoint(dir);
  assertEquals(
    loaded.model.countParams(),
    392 + 528 + (16 * 6 + 6),
    "the 8x8 baseline saved before",
  );
  loaded.model.dispose();
  const leftovers = [...Deno.readDirSync(root)].filter((e) => e.name.includes(".saving-"));
  assertEquals(leftovers, [], "no temporary folder left behind");
});

Deno.test("saveCheckpoint() rejects a history that does not match the epoch count", async () => {
  const model = convolutionalModel([8, 8, 3]);
  await assertRejects(
    () =>
      saveCheckpoint(newDir(), model, {
        epoch: 2,
        history: { epoch: [1], loss: [1], accuracy: [0] },
      }),
    RangeError,
    "the history has 1 epochs, expected 2",
  );
  model.dispose();
});

Deno.test("a run killed part-way resumes from its checkpoint and ends with the full history", async () => {
  const dir = newDir();
  const epochs = 6;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(import.meta.dirname!, "_train_child.ts"), dir, String(epochs)],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    lines.push(...decoder.decode(chunk).split("\n").filter(Boolean));
    if (lines.includes("saved epoch 2")) break;
  }
  child.kill("SIGKILL");
  await child.status;
  assert(!lines.includes("finished"), "the first run was stopped before the end");
  const partial = await loadCheckpoint(dir);
  assert(partial.epoch >= 2 && partial.epoch < epochs, `stopped after epoch ${partial.epoch}`);
  partial.model.dispose();

  const second = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(import.meta.dirname!, "_train_child.ts"), dir, String(epochs)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = decoder.decode(second.stdout);
  assert(second.success, decoder.decode(second.stderr));
  assertStringIncludes(output, `resumed at epoch ${partial.epoch}`);
  assertStringIncludes(output, "finished");
  const final = await loadCheckpoint(dir);
  assertEquals(final.epoch, epochs);
  assertEquals(final.history.epoch, [1, 2, 3, 4, 5, 6]);
  assertEquals(final.history.loss.length, epochs);
  assert(final.history.loss.every(Number.isFinite));
  final.model.dispose();
});

Deno.test("saveCheckpoint() leaves no tensor behind, however often it saves", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const { x, y } = data(8);
  const history = await fitModel(model, x, y, { epochs: 1, batchSize: 8, log: null });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await saveCheckpoint(dir, model, { epoch: 1, history });
  assertEquals(tf.memory().numTensors, before);
  assert(!Object.hasOwn(model.optimizer, "getWeights"), "the optimizer is left as it was");
  const saved = await loadCheckpoint(dir);
  assertEquals((saved.model.optimizer as unknown as { iterations: number }).iterations, 1);
  disposeModel(saved.model);
  tf.dispose([x, y]);
  disposeModel(model);
});

Deno.test("checkpointEachEpoch() saves after every epoch of fitModel", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const { x, y } = data(8);
  const seen: number[] = [];
  const save = checkpointEachEpoch(dir, model);
  await fitModel(model, x, y, {
    epochs: 2,
    batchSize: 8,
    log: null,
    onEpochEnd: async (result) => {
      await save(result);
      seen.push(await loadCheckpoint(dir).then((c) => (c.model.dispose(), c.epoch)));
    },
  });
  assertEquals(seen, [1, 2]);
  tf.dispose([x, y]);
  disposeModel(model);
});

Deno.test("lowestLossEpoch() picks the first epoch of lowest finite training loss", () => {
  const history = (loss: number[]): TrainingHistory => ({
    epoch: loss.map((_, i) => i + 1),
    loss,
    accuracy: loss.map(() => 0.5),
  });
  assertEquals(lowestLossEpoch(history([1, 0.5, 0.7, 0.5, NaN])), 2);
  assertEquals(lowestLossEpoch(history([NaN, 2, Infinity])), 2);
  assertEquals(lowestLossEpoch(history([NaN])), null);
  assertEquals(lowestLossEpoch(history([])), null);
});

Deno.test("checkpointBestEpoch() keeps the epoch of lowest training loss and never reads validation metrics", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  const save = checkpointBestEpoch(dir, model, { seed: 3 });
  const losses = [1.2, 0.8, 0.9, 0.4, 0.6, NaN];
  const kept: (number | null)[] = [];
  const history: TrainingHistory = { epoch: [], loss: [], accuracy: [] };
  // The validation columns throw when read: the choice must not look at them.
  for (const name of ["val_loss", "val_accuracy"] as const) {
    Object.defineProperty(history, name, {
      get() {
        throw new Error(`${name} was read`);
      },
      enumerable: false,
    });
  }
  for (const [i, loss] of losses.entries()) {
    history.epoch.push(i + 1);
    history.loss.push(loss);
    history.accuracy.push(0.5);
    await save({ epoch: i + 1, logs: { loss }, seconds: 0, history });
    const saved = await loadCheckpointIfPresent(dir);
    kept.push(saved?.epoch ?? null);
    saved?.model.dispose();
  }
  assertEquals(kept, [1, 2, 2, 4, 4, 4]);
  const best = await loadCheckpoint(dir);
  assertEquals([best.epoch, best.seed, best.history.loss], [4, 3, [1.2, 0.8, 0.9, 0.4]]);
  best.model.dispose();
  model.dispose();
});

Deno.test("checkpointBestEpoch() in a resumed run keeps an epoch only if it beats the earlier ones", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  const save = checkpointBestEpoch(dir, model);
  const history: TrainingHistory = { epoch: [1, 2], loss: [0.5, 0.3], accuracy: [0.5, 0.6] };
  history.epoch.push(3);
  history.loss.push(0.4);
  history.accuracy.push(0.6);
  await save({ epoch: 3, logs: { loss: 0.4 }, seconds: 0, history });
  assertEquals(await loadCheckpointIfPresent(dir), null);
  history.epoch.push(4);
  history.loss.push(0.2);
  history.accuracy.push(0.7);
  await save({ epoch: 4, logs: { loss: 0.2 }, seconds: 0, history });
  const best = await loadCheckpoint(dir);
  assertEquals(best.epoch, 4);
  best.model.dispose();
  model.dispose();
});

Deno.test("saveCheckpoint() refuses a folder that holds anything but a checkpoint, and leaves it as it was", async () => {
  const model = convolutionalModel([8, 8, 3]);
  const empty = { epoch: 0, history: { epoch: [], loss: [], accuracy: [] } };
  const dir = newDir();
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  await Deno.writeTextFile(join(dir, "notes.txt"), "mine");
  await Deno.writeTextFile(join(dir, "data", "images.bin"), "also mine");
  await assertRejects(
    () => saveCheckpoint(dir, model, empty),
    Error,
    `Cannot save checkpoint "${dir}": the folder holds "data", "notes.txt", which are not part`,
  );
  assertEquals(await Deno.readTextFile(join(dir, "notes.txt")), "mine");
  assertEquals(await Deno.readTextFile(join(dir, "data", "images.bin")), "also mine");
  // A folder of saved runs, one level too high, is refused too, and its runs are kept.
  const runs = newDir();
  await saveCheckpoint(join(runs, "run-a"), model, empty);
  await assertRejects(() => saveCheckpoint(runs, model, empty), Error, `holds "run-a"`);
  (await loadCheckpoint(join(runs, "run-a"))).model.dispose();
  // A file where the folder should be.
  const file = join(newDir() + ".txt");
  await Deno.writeTextFile(file, "a file");
  await assertRejects(() => saveCheckpoint(file, model, empty), Error, "is a file, not a folder");
  // An empty folder, and one holding a checkpoint, are fine.
  const fresh = newDir();
  await Deno.mkdir(fresh);
  await saveCheckpoint(fresh, model, empty);
  await saveCheckpoint(fresh, model, empty);
  assertEquals([...Deno.readDirSync(fresh)].map((e) => e.name).sort(), [
    "checkpoint.json",
    "model.json",
    "weights.bin",
  ]);
  model.dispose();
});

Deno.test("saveCheckpoint() refuses the current folder and the folders above it", async () => {
  const model = convolutionalModel([8, 8, 3]);
  const empty = { epoch: 0, history: { epoch: [], loss: [], accuracy: [] } };
  const here = newDir();
  await Deno.mkdir(join(here, "inner"), { recursive: true });
  const cwd = Deno.cwd();
  Deno.chdir(join(here, "inner"));
  try {
    for (const dir of [".", "..", join(here, "inner")]) {
      await assertRejects(
        () => saveCheckpoint(dir, model, empty),
        Error,
        `Cannot save checkpoint "${dir}": it is the current folder or holds it`,
      );
    }
  } finally {
    Deno.chdir(cwd);
  }
  model.dispose();
});

Deno.test("saveCheckpoint() keeps a good checkpoint through a crash at any step, and through two in a row", async () => {
  const model = convolutionalModel([8, 8, 3]);
  const epochOf = async (dir: string) => {
    const saved = await loadCheckpoint(dir);
    saved.model.dispose();
    return saved.epoch;
  };
  for (let first = 1; first <= 6; first++) {
    for (let second = 0; second <= 6; second++) {
      const dir = newDir();
      await saveCheckpoint(dir, model, recordOf(1));
      const crashed = await crashingAt(first, () => saveCheckpoint(dir, model, recordOf(2)));
      const afterFirst = await epochOf(dir);
      assert([1, 2].includes(afterFirst), `crash at step ${first}: epoch ${afterFirst}`);
      if (!crashed || second === 0) continue;
      await crashingAt(second, () => saveCheckpoint(dir, model, recordOf(3)));
      const afterSecond = await epochOf(dir);
      assert(
        afterSecond >= afterFirst,
        `crashes at steps ${first} and ${second}: epoch ${afterSecond}, had ${afterFirst}`,
      );
    }
  }
  model.dispose();
});

Deno.test("saveCheckpoint() removes what interrupted saves left behind", async () => {
  const dir = await savedDir();
  const name = dir.split("/").at(-1);
  // A save by a process that no longer runs, stopped part-way.
  const stale = join(root, `.${name}.saving-999999999-1700000000000`);
  await Deno.mkdir(stale);
  await Deno.writeFile(join(stale, "weights.bin"), new Uint8Array(1000));
  const model = convolutionalModel([8, 8, 3]);
  await saveCheckpoint(dir, model, { epoch: 0, history: { epoch: [], loss: [], accuracy: [] } });
  const left = [...Deno.readDirSync(root)].filter((e) => e.name.startsWith(`.${name}.`));
  assertEquals(left, []);
  model.dispose();
});

Deno.test("loadCheckpoint() refuses weights whose bytes changed, naming the file", async () => {
  const dir = await savedDir();
  const weights = await Deno.readFile(join(dir, "weights.bin"));
  weights.fill(0xff, 40, 48); // NaN, same size
  await Deno.writeFile(join(dir, "weights.bin"), weights);
  await assertRejects(
    () => loadCheckpoint(dir),
    Error,
    `Cannot load checkpoint "${dir}": weights.bin does not match the checksum`,
  );
});

Deno.test("loadCheckpoint() refuses a record whose epoch and history disagree", async () => {
  const cases: [number, number[], string][] = [
    [3, [1, 2, 4], "history of epochs 1, 2, 4, expected 1 to 3"],
    [4, [1, 2, 2, 3, 4], "history of epochs 1, 2, 2, 3, 4, expected 1 to 4"],
  ];
  for (const [epoch, epochs, message] of cases) {
    const dir = await savedDir();
    const info = JSON.parse(await Deno.readTextFile(join(dir, "checkpoint.json")));
    info.epoch = epoch;
    info.history = { epoch: epochs, loss: epochs.map(() => 1), accuracy: epochs.map(() => 0) };
    await Deno.writeTextFile(join(dir, "checkpoint.json"), JSON.stringify(info));
    await assertRejects(
      () => loadCheckpoint(dir),
      Error,
      `checkpoint.json records epoch ${epoch} with a ${message}`,
    );
  }
  const dir = await savedDir();
  const info = JSON.parse(await Deno.readTextFile(join(dir, "checkpoint.json")));
  info.epoch = 2;
  info.history = { epoch: [1, 2], loss: [1], accuracy: [0, 0] };
  await Deno.writeTextFile(join(dir, "checkpoint.json"), JSON.stringify(info));
  await assertRejects(() => loadCheckpoint(dir), Error, `"loss" has 1 values for 2 epochs`);
});

Deno.test("saveCheckpoint() rejects a history whose epochs are not 1 to epoch", async () => {
  const model = convolutionalModel([8, 8, 3]);
  await assertRejects(
    () =>
      saveCheckpoint(newDir(), model, {
        epoch: 2,
        history: { epoch: [1, 3], loss: [1, 1], accuracy: [0, 0] },
      }),
    RangeError,
    "history of epochs 1, 3, expected 1 to 2",
  );
  model.dispose();
});

Deno.test("checkpoints record the state of seedRandom's generator and loading puts it back", async () => {
  seedRandom(5);
  const dir = await savedDir();
  const next = [Math.random(), Math.random()];
  for (let i = 0; i < 10; i++) Math.random();
  const loaded = await loadCheckpoint(dir);
  loaded.model.dispose();
  assertEquals([Math.random(), Math.random()], next);
  assertEquals(loaded.random?.S.length, 256);
  // Without a seeded generator nothing is recorded, and loading leaves Math.random alone.
  const unseeded = Math.random;
  Math.random = () => 0.5;
  try {
    const plain = await savedDir();
    const info = JSON.parse(await Deno.readTextFile(join(plain, "checkpoint.json")));
    assert(!("random" in info), "no generator state without seedRandom");
    (await loadCheckpoint(plain)).model.dispose();
    assertEquals(Math.random(), 0.5);
  } finally {
    Math.random = unseeded;
  }
});

Deno.test("loadCheckpoint() refuses a damaged generator state, naming the file", async () => {
  seedRandom(5);
  const dir = await savedDir();
  const info = JSON.parse(await Deno.readTextFile(join(dir, "checkpoint.json")));
  info.random.S[3] = info.random.S[4];
  await Deno.writeTextFile(join(dir, "checkpoint.json"), JSON.stringify(info));
  await assertRejects(
    () => loadCheckpoint(dir),
    Error,
    `Cannot load checkpoint "${dir}": checkpoint.json records a random generator state that is damaged (its S must hold each of the numbers 0..255 once)`,
  );
});

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`a checkpoint's files are what TF.js's own model.save() gives, optimizer included (${backend})`, async () => {
    await useBackend(backend, { log: null });
    try {
      const dir = newDir();
      const model = convolutionalModel([8, 8, 3]);
      compileModel(model);
      const { x, y } = data(8);
      await fitModel(model, x, y, { epochs: 1, batchSize: 4, log: null });
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save({
        save: (a) => {
          artifacts = a;
          return Promise.resolve({
            modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
          });
        },
      }, { includeOptimizer: true });
      await saveCheckpoint(dir, model, {
        epoch: 0,
        history: { epoch: [], loss: [], accuracy: [] },
      });
      const json = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
      assertEquals(json.modelTopology, artifacts!.modelTopology);
      assertEquals(json.trainingConfig, artifacts!.trainingConfig);
      assertEquals(json.format, artifacts!.format);
      assertEquals(json.generatedBy, artifacts!.generatedBy);
      assertEquals(json.weightsManifest[0].weights, artifacts!.weightSpecs);
      assert(
        artifacts!.weightSpecs!.some((s) => s.group === "optimizer"),
        "Adam's state is part of it",
      );
      const bytes = await Deno.readFile(join(dir, "weights.bin"));
      assertEquals(bytes, new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts!.weightData!)));
      tf.dispose([x, y]);
      disposeModel(model);
    } finally {
      await tf.setBackend("cpu");
    }
  });
}

// Holds every Deno.writeFile until `release()` is called.
function holdingWrites() {
  const { writeFile } = Deno;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  Object.assign(Deno, {
    writeFile: async (...args: Parameters<typeof writeFile>) => {
      held++;
      await gate;
      return writeFile(...args);
    },
  });
  return {
    get held() {
      return held;
    },
    release: () => {
      Object.assign(Deno, { writeFile });
      release();
    },
  };
}

const epochResult = (epoch: number) => ({
  epoch,
  logs: { loss: 1, accuracy: 0 },
  seconds: 1,
  history: {
    epoch: Array.from({ length: epoch }, (_, i) => i + 1),
    loss: Array(epoch).fill(1),
    accuracy: Array(epoch).fill(0),
  },
});

Deno.test("checkpointEachEpoch() returns before the disk is written, recording the epoch as it ended", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const save = checkpointEachEpoch(dir, model, { seed: 3 });
  const writes = holdingWrites();
  const result = epochResult(1);
  try {
    await save(result);
    for (let wait = 0; writes.held === 0 && wait < 1000; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assertEquals(writes.held, 1, "the weights are being written after the callback returned");
    assertEquals(await exists(dir), false, "nothing is in place yet");
    // The next epoch goes on meanwhile: its history grows.
    result.history.epoch.push(2);
    result.history.loss.push(0.5);
    result.history.accuracy.push(1);
  } finally {
    writes.release();
  }
  await save.finish!();
  const saved = await loadCheckpoint(dir);
  assertEquals([saved.epoch, saved.history.epoch, saved.seed], [1, [1], 3]);
  saved.model.dispose();
  disposeModel(model);
});

Deno.test("loadCheckpoint() and saveCheckpoint() wait for a checkpoint still being written there", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const save = checkpointEachEpoch(dir, model);
  const writes = holdingWrites();
  try {
    await save(epochResult(1));
  } finally {
    setTimeout(writes.release, 50);
  }
  const loaded = await loadCheckpoint(dir);
  assertEquals(loaded.epoch, 1);
  loaded.model.dispose();
  await save(epochResult(2));
  await saveCheckpoint(dir, model, epochResult(3));
  const last = await loadCheckpoint(dir);
  assertEquals(last.epoch, 3, "the later save is the one in place");
  last.model.dispose();
  await save.finish!();
  disposeModel(model);
});

Deno.test("the best epoch's and the last epoch's checkpoints of one epoch read the weights once and write them once", async () => {
  const [best, each] = [newDir(), newDir()];
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const getWeights = model.getWeights.bind(model);
  let reads = 0;
  model.getWeights = (trainableOnly?: boolean) => (reads++, getWeights(trainableOnly));
  const callbacks = [checkpointBestEpoch(best, model), checkpointEachEpoch(each, model)];
  const result = epochResult(1);
  for (const callback of callbacks) await callback(result);
  await Promise.all(callbacks.map((c) => c.finish!()));
  assertEquals(reads, 1);
  const [a, b] = [
    await Deno.readFile(join(best, "weights.bin")),
    await Deno.readFile(join(each, "weights.bin")),
  ];
  assertEquals(a, b);
  const inodes = [
    Deno.statSync(join(best, "weights.bin")).ino,
    Deno.statSync(join(each, "weights.bin")).ino,
  ];
  assertEquals(inodes[0], inodes[1], "the second is a link to the first, not a second copy");
  disposeModel(model);
});

Deno.test("fitModel() returns once its checkpoints are written, and reports one that failed", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const { x, y } = data(8);
  await fitModel(model, x, y, {
    epochs: 2,
    batchSize: 4,
    log: null,
    onEpochEnd: checkpointEachEpoch(dir, model),
  });
  const saved = await loadCheckpoint(dir);
  assertEquals(saved.epoch, 2, "the last epoch's checkpoint is in place when fitModel returns");
  saved.model.dispose();

  const { writeFile } = Deno;
  Object.assign(Deno, {
    writeFile: (...args: Parameters<typeof writeFile>) =>
      String(args[0]).endsWith("weights.bin")
        ? Promise.reject(new Error("disk full"))
        : writeFile(...args),
  });
  try {
    await assertRejects(
      () =>
        fitModel(model, x, y, {
          epochs: 3,
          initialEpoch: 2,
          history: saved.history,
          batchSize: 4,
          log: null,
          onEpochEnd: checkpointEachEpoch(dir, model),
        }),
      Error,
      "disk full",
    );
  } finally {
    Object.assign(Deno, { writeFile });
  }
  const kept = await loadCheckpoint(dir);
  assertEquals(kept.epoch, 2, "the good checkpoint stays");
  kept.model.dispose();
  tf.dispose([x, y]);
  disposeModel(model);
});

Deno.test("checkpointEachEpoch() refuses a resumed run without its history before the first epoch", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const { x, y } = data(8);
  const trained: number[] = [];
  await assertRejects(
    () =>
      fitModel(model, x, y, {
        epochs: 3,
        initialEpoch: 2,
        batchSize: 8,
        log: null,
        onEpochEnd: [({ epoch }) => void trained.push(epoch), checkpointEachEpoch(dir, model)],
      }),
    RangeError,
    `Cannot save checkpoints into "${dir}" from epoch 3: the run's history is a history of ` +
      "epochs (none), expected 1 to 2",
  );
  assertEquals(trained, []);
  assertEquals(await exists(dir), false);
  tf.dispose([x, y]);
  disposeModel(model);
});

Deno.test("fitModel() stops in the epoch whose checkpoint fails to be written, the history on the error", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const { x, y } = data(32);
  const ended: number[] = [];
  const before = tf.memory().numTensors;
  const { writeFile } = Deno;
  Object.assign(Deno, {
    writeFile: (...args: Parameters<typeof writeFile>) =>
      String(args[0]).endsWith("weights.bin")
        ? Promise.reject(new Error("Read-only file system (os error 30)"))
        : writeFile(...args),
  });
  let error: Error;
  try {
    error = await assertRejects(
      () =>
        fitModel(model, x, y, {
          epochs: 4,
          batchSize: 2,
          log: null,
          // Each step leaves the disk time to answer, as a real model's steps do.
          onBatchEnd: () => new Promise((resolve) => setTimeout(resolve, 5)),
          onEpochEnd: [({ epoch }) => void ended.push(epoch), checkpointEachEpoch(dir, model)],
        }),
      Error,
      "Read-only file system",
    );
  } finally {
    Object.assign(Deno, { writeFile });
  }
  assertEquals(ended, [1], "training stopped in the epoch during which the save failed");
  const history = (error as { history?: TrainingHistory }).history;
  assertEquals(history?.epoch, [1]);
  assertEquals(history?.loss.length, 1);
  assert(tf.memory().numTensors - before <= 2 * model.weights.length + 1, "no batch left behind");
  tf.dispose([x, y]);
  disposeModel(model);
});

Deno.test("saveCheckpoint() refuses a folder another process is saving into, naming it, and takes over a stale lock", async () => {
  const dir = newDir();
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const history = { epoch: [], loss: [], accuracy: [] };
  const lock = join(dir, "..", `.${dir.split("/").at(-1)}.lock`);
  const other = new Deno.Command("sleep", { args: ["60"] }).spawn();
  try {
    await Deno.writeTextFile(lock, `${other.pid}\n`);
    await assertRejects(
      () => saveCheckpoint(dir, model, { epoch: 0, history }),
      Error,
      `Cannot save checkpoint "${dir}": process ${other.pid} is saving into this folder`,
    );
    await assertRejects(
      () =>
        fitModel(model, tf.zeros([2, 8, 8, 3]), tf.zeros([2, 6]), {
          epochs: 1,
          log: null,
          onEpochEnd: checkpointEachEpoch(dir, model),
        }),
      Error,
      `process ${other.pid} is saving into this folder`,
    );
    await assertRejects(
      () => loadCheckpointIfPresent(dir),
      Error,
      `Cannot load checkpoint "${dir}": process ${other.pid} is saving into it`,
    );
  } finally {
    other.kill();
    await other.status;
  }
  await saveCheckpoint(dir, model, { epoch: 0, history });
  assertEquals(await exists(lock), false, "the lock is given back after the save");
  (await loadCheckpoint(dir)).model.dispose();
  disposeModel(model);
});

Deno.test("saveCheckpoint() saves through a symbolic link, leaving the link in place", async () => {
  const target = newDir();
  const link = newDir();
  await Deno.mkdir(target);
  await Deno.symlink(target, link);
  const model = convolutionalModel([8, 8, 3]);
  for (const epoch of [0, 0]) {
    await saveCheckpoint(link, model, { epoch, history: { epoch: [], loss: [], accuracy: [] } });
  }
  assert((await Deno.lstat(link)).isSymlink, "the link is still a link");
  assert(await exists(join(target, "checkpoint.json")), "the files are where the link leads");
  const loaded = await loadCheckpoint(link);
  assertEquals(loaded.epoch, 0);
  loaded.model.dispose();
  model.dispose();
});

Deno.test("saveCheckpoint() and loadCheckpoint() refuse a folder under a file and a name too long", async () => {
  const file = join(newDir(), "notes.txt");
  await Deno.mkdir(join(file, ".."), { recursive: true });
  await Deno.writeTextFile(file, "mine");
  const model = convolutionalModel([8, 8, 3]);
  const options = { epoch: 0, history: { epoch: [], loss: [], accuracy: [] } };
  const under = join(file, "run");
  await assertRejects(
    () => saveCheckpoint(under, model, options),
    Error,
    `Cannot save checkpoint "${under}": "${file}" is a file, not a folder`,
  );
  await assertRejects(
    () => loadCheckpointIfPresent(under),
    Error,
    `Cannot load checkpoint "${under}": "${file}" is a file, not a folder`,
  );
  await assertRejects(
    () => loadCheckpointIfPresent(file),
    Error,
    `Cannot load checkpoint "${file}": it is a file, not a checkpoint folder`,
  );
  assertEquals(await Deno.readTextFile(file), "mine");
  const long = join(newDir(), "r".repeat(240));
  await assertRejects(
    () => saveCheckpoint(long, model, options),
    RangeError,
    `Cannot save checkpoint "${long}": its name is 240 bytes long`,
  );
  model.dispose();
});
