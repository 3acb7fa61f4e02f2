/**
 * Saving and resuming training runs: a trained model, its optimizer state and its history go to a
 * folder on disk (no `tfjs-node` needed), after every epoch if asked, so that an interrupted run
 * continues where it stopped and a finished one can be loaded instead of trained again.
 *
 * A checkpoint folder holds `model.json` (topology, training configuration and weight manifest),
 * `weights.bin` (model and optimizer weights) and `checkpoint.json` (epoch, history, seed, the
 * state of `seedRandom`'s generator, backend, time, and the size and xxHash64 of the other two
 * files). It holds nothing else: saving refuses a folder with anything else in it. A checkpoint is written under a temporary name beside
 * its folder and renamed into place, and the one it replaces is kept under `.NAME.previous` until
 * then; the next save or load starts from whichever of the two is complete, so a process killed at
 * any moment of a save, or of two saves in a row, leaves the last good checkpoint. (The files are
 * not flushed to the disk: a power cut during a save is not covered.) Loading checks the record and
 * the checksums and names the file that fails them.
 *
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import xxhash from "xxhash-wasm";
import * as tf from "../tf.ts";
import { registerBatchNormalization } from "../layers/batch_norm.ts";
import { exists } from "../util/fs.ts";
import { keepSoftmaxLogits } from "./_softmax_logits.ts";
import { type RandomState, randomState, randomStateProblem, restoreRandomState } from "./random.ts";
import type { EpochCallback, EpochResult, TrainingHistory } from "./fit.ts";

/** What `checkpoint.json` records beside the model. */
export interface CheckpointInfo {
  /** Epochs completed. */
  epoch: number;
  /** The history up to that epoch. */
  history: TrainingHistory;
  /** The seed the run was started with, if known. */
  seed?: number;
  /**
   * Where the generator of `seedRandom` stood when it was saved (absent when `Math.random` was
   * not seeded): loading puts it back, so that a run without `fitModel`'s `seed` option, whose
   * batches are drawn from `Math.random`, resumes with the batches it would have drawn.
   */
  random?: RandomState;
  /** The backend that trained it. */
  backend: string;
  /** When it was written (ISO 8601). */
  savedAt: string;
  /**
   * Size and xxHash64 (hex) of `model.json` and `weights.bin`, checked on loading. Absent in
   * checkpoints written before checksums were recorded, which load unchecked.
   */
  files?: Record<string, FileDigest>;
}

/** Size and checksum of one file of a checkpoint. */
export interface FileDigest {
  /** Size in bytes. */
  bytes: number;
  /** xxHash64 of the contents, 16 hex digits. */
  xxh64: string;
}

/** A loaded checkpoint: the model (compiled, with its optimizer state) and its record. */
export interface Checkpoint extends CheckpointInfo {
  /** The model, ready to predict or to train on. The caller owns it. */
  model: tf.LayersModel;
}

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";
const INFO_FILE = "checkpoint.json";

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  trainingConfig?: tf.io.TrainingConfig;
  format?: string;
  generatedBy?: string;
}

const BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

const hasher = xxhash();

/** The size and xxHash64 of `bytes`, hashed in slices so that no copy of them is made. */
async function digestOf(bytes: Uint8Array): Promise<FileDigest> {
  const hash = (await hasher).create64();
  const slice = 1 << 22;
  for (let start = 0; start < bytes.length; start += slice) {
    hash.update(bytes.subarray(start, start + slice));
  }
  return { bytes: bytes.length, xxh64: hash.digest().toString(16).padStart(16, "0") };
}

// An IOHandler that reads a checkpoint's model and weights from a folder, checking them against
// the digests in `expected` when given.
function folderHandler(
  dir: string,
  expected: Record<string, FileDigest> | undefined,
  name = dir,
): tf.io.IOHandler {
  const check = async (file: string, bytes: Uint8Array) => {
    const wanted = expected?.[file];
    if (!wanted) return;
    const actual = await digestOf(bytes);
    if (actual.bytes !== wanted.bytes || actual.xxh64 !== wanted.xxh64) {
      throw new Error(
        `Cannot load checkpoint "${name}": ${file} does not match the checksum that ` +
          `${INFO_FILE} records (${actual.bytes} bytes with xxHash64 ${actual.xxh64}, expected ` +
          `${wanted.bytes} bytes with ${wanted.xxh64}); the file was changed or damaged ` +
          `after it was saved`,
      );
    }
  };
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: ModelJson;
      try {
        const modelBytes = await Deno.readFile(join(dir, MODEL_FILE));
        await check(MODEL_FILE, modelBytes);
        json = JSON.parse(new TextDecoder().decode(modelBytes));
      } catch (error) {
        if ((error as Error).message.startsWith("Cannot load")) throw error;
        throw new Error(`Cannot load checkpoint "${name}": ${MODEL_FILE} is ${describe(error)}`);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest?.[0]?.weights)) {
        throw new Error(
          `Cannot load checkpoint "${name}": ${MODEL_FILE} has no model topology or weight manifest`,
        );
      }
      const weightSpecs = json.weightsManifest[0].weights;
      const expected = weightSpecs.reduce(
        (n, spec) => n + spec.shape.reduce((a, b) => a * b, 1) * (BYTES[spec.dtype] ?? 4),
        0,
      );
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(join(dir, WEIGHTS_FILE));
      } catch (error) {
        throw new Error(`Cannot load checkpoint "${name}": ${WEIGHTS_FILE} is ${describe(error)}`);
      }
      if (bytes.byteLength !== expected) {
        throw new Error(
          `Cannot load checkpoint "${name}": ${WEIGHTS_FILE} has ${bytes.byteLength} bytes, ` +
            `the manifest in ${MODEL_FILE} expects ${expected}`,
        );
      }
      await check(WEIGHTS_FILE, bytes);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: bytes.buffer.slice(
          bytes.byteOffset,
          bytes.byteOffset + bytes.byteLength,
        ) as ArrayBuffer,
        trainingConfig: json.trainingConfig,
        format: json.format,
        generatedBy: json.generatedBy,
      };
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "missing";
  if (error instanceof SyntaxError) return `not valid JSON (${error.message})`;
  return `unreadable (${(error as Error).message})`;
}

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveOptions {
  /** Epochs completed. */
  epoch: number;
  /** The history so far. */
  history: TrainingHistory;
  /** The run's seed, recorded for reference. */
  seed?: number;
}

/** A checkpoint's files as bytes, taken from a model at one moment, with their digests. */
interface Snapshot {
  /** `model.json`. */
  model: Uint8Array;
  /** `weights.bin`. */
  weights: Uint8Array;
  /** Size and xxHash64 of both. */
  files: Record<string, FileDigest>;
  /** The writes of this snapshot, until they are over (the weights buffer is reused after). */
  writes: Promise<unknown>[];
  /** Where a completed write put `weights.bin`, for later writes of the same snapshot to link. */
  weightsAt?: string;
}

// The protected method of tfjs-layers' LayersModel that model.save() takes the training
// configuration from (loss, metrics and optimizer settings).
interface WithTrainingConfig {
  getTrainingConfig(): tf.io.TrainingConfig;
}

// The wasm-heap backends (wasm, onednn) give a view of a tensor's values without copying them.
interface HeapBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

// Copies the values of `tensor` into `into` at `offset`, straight from the backend's memory where
// it offers a view (wasm, onednn), else through a copy; resolves to the number of bytes.
async function copyInto(tensor: tf.Tensor, into: Uint8Array, offset: number): Promise<number> {
  const backend = tf.engine().backend as Partial<HeapBackend>;
  const data = typeof backend.typedArrayFromHeap === "function"
    ? backend.typedArrayFromHeap(tensor as unknown as tf.TensorInfo)
    : await tensor.data();
  into.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  return data.byteLength;
}

// The last snapshot of each model, whose weights buffer the next one reuses once its writes are
// over: a fresh 283 MB buffer costs a quarter of a second in page faults alone.
const lastSnapshot = new WeakMap<tf.LayersModel, Snapshot>();

/**
 * The files that `model.save(handler, { includeOptimizer: true })` would give, written as this
 * module writes them, but read straight into one buffer: the model's weights under their original
 * names, then the optimizer's (group "optimizer"). TF.js's own save copies the 283 MB of a
 * ResNet-50 and its Adam state four times over; this copies it once. TF.js's optimizers report
 * their iteration count as a new scalar each time their weights are read; it is freed here.
 */
async function snapshotOf(model: tf.LayersModel): Promise<Snapshot> {
  const named: { name: string; tensor: tf.Tensor; group?: tf.io.WeightGroup }[] = [];
  const values = model.getWeights();
  model.weights.forEach((w, i) => named.push({ name: w.originalName, tensor: values[i] }));
  const optimizer = model.optimizer;
  const optimizerWeights = optimizer ? await optimizer.getWeights() : [];
  try {
    for (const { name, tensor } of optimizerWeights) {
      named.push({ name, tensor, group: "optimizer" });
    }
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    let total = 0;
    for (const { name, tensor, group } of named) {
      if (!(tensor.dtype in BYTES)) {
        throw new TypeError(`Cannot save weight "${name}": its type ${tensor.dtype} is not saved`);
      }
      const dtype = tensor.dtype as tf.io.WeightsManifestEntry["dtype"];
      weightSpecs.push({ name, shape: tensor.shape, dtype, ...(group && { group }) });
      total += tensor.size * BYTES[tensor.dtype];
    }
    const last = lastSnapshot.get(model);
    if (last) await Promise.allSettled(last.writes);
    const weights = last?.weights.length === total ? last.weights : new Uint8Array(total);
    let offset = 0;
    for (const { tensor } of named) offset += await copyInto(tensor, weights, offset);
    const json: ModelJson = {
      modelTopology: model.toJSON(null, false) as object,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }],
      ...(optimizer &&
        { trainingConfig: (model as unknown as WithTrainingConfig).getTrainingConfig() }),
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    };
    const modelBytes = new TextEncoder().encode(JSON.stringify(json));
    const snapshot: Snapshot = {
      model: modelBytes,
      weights,
      files: { [MODEL_FILE]: await digestOf(modelBytes), [WEIGHTS_FILE]: await digestOf(weights) },
      writes: [],
    };
    lastSnapshot.set(model, snapshot);
    return snapshot;
  } finally {
    tf.dispose(optimizerWeights.filter((w) => w.name === "iter").map((w) => w.tensor));
  }
}

const OWN_FILES = new Set([MODEL_FILE, WEIGHTS_FILE, INFO_FILE]);

/** What `history` gets wrong for a checkpoint of `epoch` epochs, or `null` when it is right. */
function historyProblem(epoch: number, history: TrainingHistory): string | null {
  const epochs = history?.epoch;
  if (!Array.isArray(epochs)) return "no history";
  if (epochs.length !== epoch || epochs.some((e, i) => e !== i + 1)) {
    return `history of epochs ${epochs.join(", ") || "(none)"}, expected ${
      epoch === 0 ? "none" : `1 to ${epoch}`
    }`;
  }
  // Every column that is written (the enumerable ones), loss and accuracy at least.
  const columns = new Set(["loss", "accuracy", ...Object.keys(history)]);
  columns.delete("epoch");
  for (const column of columns) {
    const values = (history as unknown as Record<string, unknown>)[column];
    if (!Array.isArray(values) || values.length !== epoch) {
      return `history whose "${column}" has ${
        Array.isArray(values) ? values.length : "no"
      } values for ${epoch} epochs`;
    }
  }
  return null;
}

// The folders a save of `dir` uses beside it: the checkpoint it replaces, and its temporary ones.
function sideFolders(dir: string) {
  const prefix = `.${basename(dir)}.`;
  return {
    previous: join(dirname(dir), `${prefix}previous`),
    temporary: join(dirname(dir), `${prefix}saving-${Deno.pid}-${Date.now()}`),
    isTemporary: (name: string) => name.startsWith(`${prefix}saving-`),
  };
}

// Whether the process that made a temporary folder `.NAME.saving-PID-TIME` may still be saving.
async function saverAlive(name: string): Promise<boolean> {
  const pid = Number(/saving-(\d+)-\d+$/.exec(name)?.[1]);
  if (!Number.isInteger(pid) || pid === Deno.pid) return false;
  if (!(await exists("/proc/self"))) return false; // no way to tell: the folder is left over
  return await exists(`/proc/${pid}`);
}

/**
 * Refuses a `dir` that a checkpoint must not replace: the current folder or one holding it, a
 * file, or a folder with anything in it but a checkpoint's three files.
 */
async function checkTarget(dir: string): Promise<void> {
  const path = resolve(dir);
  const cwd = resolve(Deno.cwd());
  if (!relative(path, cwd).startsWith("..")) {
    throw new Error(
      `Cannot save checkpoint "${dir}": it is the current folder or holds it; give the run a ` +
        `folder of its own, such as "${join(dir, "run")}"`,
    );
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isDirectory) {
    throw new Error(`Cannot save checkpoint "${dir}": it is a file, not a folder`);
  }
  const others: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!OWN_FILES.has(entry.name) || !entry.isFile) others.push(entry.name);
  }
  if (others.length > 0) {
    const names = others.sort().slice(0, 5).map((n) => `"${n}"`).join(", ");
    throw new Error(
      `Cannot save checkpoint "${dir}": the folder holds ${names}${
        others.length > 5 ? ` and ${others.length - 5} more` : ""
      }, which are not part of a checkpoint, and saving would replace the folder. Give a new or ` +
        `empty folder, or one that holds only a checkpoint.`,
    );
  }
}

/**
 * Puts back the state a complete save leaves: if a save stopped between moving the old checkpoint
 * aside and moving the new one in, the old one goes back; a checkpoint moved aside whose
 * replacement is complete is removed, and so are the temporary folders of saves whose process
 * has ended.
 */
async function recover(dir: string): Promise<void> {
  const { previous, isTemporary } = sideFolders(dir);
  if (await exists(previous)) {
    if (await exists(dir)) await Deno.remove(previous, { recursive: true });
    else await Deno.rename(previous, dir);
  }
  for await (const entry of Deno.readDir(dirname(dir))) {
    if (isTemporary(entry.name) && !(await saverAlive(entry.name))) {
      await Deno.remove(join(dirname(dir), entry.name), { recursive: true });
    }
  }
}

/** The record a save writes into `checkpoint.json`, taken when the snapshot is. */
function recordOf(options: SaveOptions, files: Record<string, FileDigest>): string {
  const random = randomState();
  const info: CheckpointInfo = {
    epoch: options.epoch,
    history: options.history,
    seed: options.seed,
    ...(random === null ? {} : { random }),
    backend: tf.getBackend(),
    savedAt: new Date().toISOString(),
    files,
  };
  return JSON.stringify(info, null, 1);
}

// Refuses an epoch and history that do not make a checkpoint.
function checkRecord(dir: string, { epoch, history }: SaveOptions): void {
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new RangeError(
      `Cannot save checkpoint "${dir}": epoch ${epoch} is not a non-negative integer`,
    );
  }
  if (history.epoch.length !== epoch) {
    throw new RangeError(
      `Cannot save checkpoint "${dir}": the history has ${history.epoch.length} epochs, expected ${epoch}`,
    );
  }
  const problem = historyProblem(epoch, history);
  if (problem) throw new RangeError(`Cannot save checkpoint "${dir}": a ${problem}`);
}

// Writes a snapshot and its record into `dir`: into a temporary folder beside it first, then
// renamed into place, the checkpoint it replaces moved aside until then. A snapshot already
// written elsewhere is linked rather than written again where the file system allows (its files
// are never changed in place, so two folders can share them).
function writeCheckpoint(dir: string, snapshot: Snapshot, record: string): Promise<void> {
  const earlier = [...snapshot.writes];
  const write = (async () => {
    await Promise.allSettled(earlier);
    await Deno.mkdir(dirname(dir), { recursive: true });
    await recover(dir);
    await checkTarget(dir);
    const { previous, temporary } = sideFolders(dir);
    await Deno.mkdir(temporary);
    try {
      const weightsFile = join(temporary, WEIGHTS_FILE);
      const linked = snapshot.weightsAt !== undefined &&
        await Deno.link(snapshot.weightsAt, weightsFile).then(() => true, () => false);
      if (!linked) await Deno.writeFile(weightsFile, snapshot.weights);
      await Deno.writeFile(join(temporary, MODEL_FILE), snapshot.model);
      await Deno.writeTextFile(join(temporary, INFO_FILE), record);
      if (await exists(dir)) await Deno.rename(dir, previous);
      await Deno.rename(temporary, dir);
      await Deno.remove(previous, { recursive: true }).catch(() => {});
    } catch (error) {
      await Deno.remove(temporary, { recursive: true }).catch(() => {});
      throw error;
    }
    snapshot.weightsAt = join(dir, WEIGHTS_FILE);
  })();
  snapshot.writes.push(write);
  return write;
}

// Saves still being written by the epoch callbacks, by resolved folder.
const writing = new Map<string, Promise<void>>();

// Waits until no save is being written into `dir` (its failure is reported to whoever started it).
async function settled(dir: string): Promise<void> {
  await writing.get(resolve(dir))?.catch(() => {});
}

/**
 * Saves a model (with its optimizer state, when compiled) and its training record into `dir`,
 * replacing the checkpoint there only once the new one is complete. The parent folder is created
 * if needed. Refuses (with an `Error` naming them) a folder that holds anything but a checkpoint,
 * the current folder, and a history that is not of epochs 1 to `epoch`.
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  options: SaveOptions,
): Promise<void> {
  checkRecord(dir, options);
  await settled(dir);
  const snapshot = await snapshotOf(model);
  await writeCheckpoint(dir, snapshot, recordOf(options, snapshot.files));
}

/**
 * Loads a checkpoint written by {@linkcode saveCheckpoint}: the model, compiled with its saved
 * optimizer state, and its record. Throws an `Error` naming the folder, the file and what is wrong
 * when it is missing, incomplete or damaged: a record whose epoch and history disagree, a file
 * whose size or checksum is not the recorded one. If a save was interrupted between its two
 * renames, the previous checkpoint is used. Where the checkpoint recorded the state of the
 * generator of `seedRandom`, `Math.random` is put back there (see `CheckpointInfo.random`).
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  await settled(dir);
  const { previous } = sideFolders(dir);
  const source = !(await exists(dir)) && (await exists(previous)) ? previous : dir;
  if (!(await exists(source))) {
    throw new Deno.errors.NotFound(
      `Cannot load checkpoint "${dir}": no such folder (nothing saved yet)`,
    );
  }
  let info: CheckpointInfo;
  try {
    info = JSON.parse(await Deno.readTextFile(join(source, INFO_FILE)));
  } catch (error) {
    throw new Error(`Cannot load checkpoint "${dir}": ${INFO_FILE} is ${describe(error)}`);
  }
  if (!Number.isInteger(info?.epoch) || !Array.isArray(info.history?.epoch)) {
    throw new Error(`Cannot load checkpoint "${dir}": ${INFO_FILE} has no epoch count or history`);
  }
  const problem = historyProblem(info.epoch, info.history);
  if (problem) {
    throw new Error(
      `Cannot load checkpoint "${dir}": ${INFO_FILE} records epoch ${info.epoch} with a ${problem}`,
    );
  }
  const randomProblem = info.random === undefined ? null : randomStateProblem(info.random);
  if (randomProblem) {
    throw new Error(
      `Cannot load checkpoint "${dir}": ${INFO_FILE} records a random generator state that is ` +
        `damaged (${randomProblem})`,
    );
  }
  registerBatchNormalization();
  const model = await tf.loadLayersModel(folderHandler(source, info.files, dir));
  keepSoftmaxLogits(model);
  if (info.random) restoreRandomState(info.random);
  return { ...info, model };
}

/**
 * Like {@linkcode loadCheckpoint}, but resolves to `null` when nothing has been saved at `dir`
 * (other problems still throw), so a notebook can offer "load instead of training".
 */
export async function loadCheckpointIfPresent(dir: string): Promise<Checkpoint | null> {
  try {
    return await loadCheckpoint(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * The epoch (counted from 1) with the lowest training loss of `history`, the first of equals, or
 * `null` when no epoch has a finite loss. Validation metrics are never looked at.
 */
export function lowestLossEpoch(history: TrainingHistory): number | null {
  let best: number | null = null;
  history.loss.forEach((loss, i) => {
    if (Number.isFinite(loss) && (best === null || loss < history.loss[best - 1])) best = i + 1;
  });
  return best === null ? null : history.epoch[best - 1];
}

// Snapshots taken after an epoch, shared by the callbacks of that epoch (the best epoch's and the
// last epoch's checkpoints are the same model).
const snapshots = new WeakMap<
  EpochResult,
  { model: tf.LayersModel; snapshot: Promise<Snapshot> }
>();

function snapshotAfter(result: EpochResult, model: tf.LayersModel): Promise<Snapshot> {
  const shared = snapshots.get(result);
  if (shared?.model === model) return shared.snapshot;
  const snapshot = snapshotOf(model);
  snapshots.set(result, { model, snapshot });
  return snapshot;
}

/**
 * An epoch callback that saves `model` into `dir` after the epochs `when` picks, without making
 * training wait for the disk: the weights are copied out when the epoch ends, and written while
 * the next epoch trains. A save waits for the previous one into the same folder, whose failure it
 * reports; `fitModel` awaits the last one (`finish`) before it returns, and loading or saving
 * that folder waits for it too.
 */
function savingAfter(
  dir: string,
  model: tf.LayersModel,
  seed: number | undefined,
  when: (result: EpochResult) => boolean,
): EpochCallback {
  const key = resolve(dir);
  let pending: Promise<void> | null = null;
  const previousWrite = async () => {
    const last = pending;
    pending = null;
    await last;
  };
  // Once training is over: the last write, and the model's reusable buffer is let go.
  const finish = async () => {
    try {
      await previousWrite();
    } finally {
      lastSnapshot.delete(model);
    }
  };
  const callback = async (result: EpochResult) => {
    if (!when(result)) return;
    const options = { epoch: result.epoch, history: result.history, seed };
    checkRecord(dir, options);
    await previousWrite();
    await settled(dir);
    const snapshot = await snapshotAfter(result, model);
    const write = writeCheckpoint(dir, snapshot, recordOf(options, snapshot.files));
    pending = write;
    writing.set(key, write);
    write.catch(() => {}).finally(() => {
      if (writing.get(key) === write) writing.delete(key);
    });
  };
  return Object.assign(callback, { finish });
}

/**
 * An `onEpochEnd` callback for `fitModel` that keeps the epoch of lowest training loss, as Keras's
 * `ModelCheckpoint(monitor="loss", save_best_only=True)`: after each epoch whose mean training
 * loss is lower than every earlier epoch's, the model is saved into `dir`. It judges by the
 * training loss only, never by the validation data (which the notebooks take from the test set).
 * Resumed runs carry on: the history decides, so an epoch is kept only if it beats the epochs
 * before the interruption too. The checkpoint is written while the next epoch trains; `fitModel`
 * returns once it is complete.
 *
 * @example
 * ```ts ignore
 * await fitModel(model, x, y, {
 *   epochs: 20,
 *   onEpochEnd: [checkpointBestEpoch("runs/resnet-best", model), checkpointEachEpoch("runs/resnet", model)],
 * });
 * const kept = await loadCheckpoint("runs/resnet-best");
 * ```
 */
export function checkpointBestEpoch(
  dir: string,
  model: tf.LayersModel,
  options: { seed?: number } = {},
): EpochCallback {
  return savingAfter(
    dir,
    model,
    options.seed,
    ({ epoch, history }) => lowestLossEpoch(history) === epoch,
  );
}

/**
 * An `onEpochEnd` callback for `fitModel` that saves a checkpoint of `model` into `dir` after
 * every epoch, written while the next epoch trains (`fitModel` returns once the last is complete).
 *
 * @example
 * ```ts ignore
 * await fitModel(model, x, y, { epochs: 20, onEpochEnd: checkpointEachEpoch("runs/resnet", model) });
 * ```
 */
export function checkpointEachEpoch(
  dir: string,
  model: tf.LayersModel,
  options: { seed?: number } = {},
): EpochCallback {
  return savingAfter(dir, model, options.seed, () => true);
}
