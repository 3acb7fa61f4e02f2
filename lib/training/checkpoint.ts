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
import { registerBatchNormalization } from "./_batch_norm_layer.ts";
import { exists } from "../util/_fs.ts";
import { keepSoftmaxLogits } from "./_softmax_logits.ts";
import { type RandomState, randomState, randomStateProblem, restoreRandomState } from "./random.ts";
import type { EpochResult, TrainingHistory } from "./fit.ts";

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

// An IOHandler that writes the artifacts TF.js gives it into a folder, recording the digests of
// what it wrote in `written`, and reads them back, checking them against `expected` when given.
function folderHandler(
  dir: string,
  digests: { written?: Record<string, FileDigest>; expected?: Record<string, FileDigest> } = {},
  name = dir,
): tf.io.IOHandler {
  const check = async (file: string, bytes: Uint8Array) => {
    const expected = digests.expected?.[file];
    if (!expected) return;
    const actual = await digestOf(bytes);
    if (actual.bytes !== expected.bytes || actual.xxh64 !== expected.xxh64) {
      throw new Error(
        `Cannot load checkpoint "${name}": ${file} does not match the checksum that ` +
          `${INFO_FILE} records (${actual.bytes} bytes with xxHash64 ${actual.xxh64}, expected ` +
          `${expected.bytes} bytes with ${expected.xxh64}); the file was changed or damaged ` +
          `after it was saved`,
      );
    }
  };
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = artifacts.weightData === undefined
        ? new ArrayBuffer(0)
        : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        trainingConfig: artifacts.trainingConfig,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
      };
      const weightBytes = new Uint8Array(weights);
      const modelBytes = new TextEncoder().encode(JSON.stringify(json));
      await Deno.writeFile(join(dir, WEIGHTS_FILE), weightBytes);
      await Deno.writeFile(join(dir, MODEL_FILE), modelBytes);
      if (digests.written) {
        digests.written[MODEL_FILE] = await digestOf(modelBytes);
        digests.written[WEIGHTS_FILE] = await digestOf(weightBytes);
      }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    },
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

/**
 * `model.save()` with the optimizer. TF.js's optimizers report their iteration count as a new
 * scalar tensor each time their weights are read, and `model.save()` never frees it: one tensor
 * lost per checkpoint. The scalars made during this save are freed once it is written.
 */
async function saveFreeingIterations(model: tf.LayersModel, handler: tf.io.IOHandler) {
  const optimizer = model.optimizer;
  if (!optimizer) return void (await model.save(handler));
  const made: tf.Tensor[] = [];
  const getWeights = optimizer.getWeights;
  const own = Object.hasOwn(optimizer, "getWeights");
  optimizer.getWeights = async function (this: tf.Optimizer) {
    const weights = await getWeights.call(this);
    made.push(...weights.filter((w) => w.name === "iter").map((w) => w.tensor));
    return weights;
  };
  try {
    await model.save(handler, { includeOptimizer: true });
  } finally {
    if (own) optimizer.getWeights = getWeights;
    else Reflect.deleteProperty(optimizer, "getWeights");
    tf.dispose(made);
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
  const { epoch, history } = options;
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
  await Deno.mkdir(dirname(dir), { recursive: true });
  await recover(dir);
  await checkTarget(dir);
  const { previous, temporary } = sideFolders(dir);
  await Deno.mkdir(temporary);
  try {
    const files: Record<string, FileDigest> = {};
    await saveFreeingIterations(model, folderHandler(temporary, { written: files }));
    const random = randomState();
    const info: CheckpointInfo = {
      epoch,
      history,
      seed: options.seed,
      ...(random === null ? {} : { random }),
      backend: tf.getBackend(),
      savedAt: new Date().toISOString(),
      files,
    };
    await Deno.writeTextFile(join(temporary, INFO_FILE), JSON.stringify(info, null, 1));
    if (await exists(dir)) await Deno.rename(dir, previous);
    await Deno.rename(temporary, dir);
    await Deno.remove(previous, { recursive: true }).catch(() => {});
  } catch (error) {
    await Deno.remove(temporary, { recursive: true }).catch(() => {});
    throw error;
  }
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
  const model = await tf.loadLayersModel(folderHandler(source, { expected: info.files }, dir));
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

/**
 * An `onEpochEnd` callback for `fitModel` that keeps the epoch of lowest training loss, as Keras's
 * `ModelCheckpoint(monitor="loss", save_best_only=True)`: after each epoch whose mean training
 * loss is lower than every earlier epoch's, the model is saved into `dir`. It judges by the
 * training loss only, never by the validation data (which the notebooks take from the test set).
 * Resumed runs carry on: the history decides, so an epoch is kept only if it beats the epochs
 * before the interruption too.
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
): (result: EpochResult) => Promise<void> {
  return async ({ epoch, history }) => {
    if (lowestLossEpoch(history) !== epoch) return;
    await saveCheckpoint(dir, model, { epoch, history, seed: options.seed });
  };
}

/**
 * An `onEpochEnd` callback for `fitModel` that saves a checkpoint of `model` into `dir` after
 * every epoch.
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
): (result: EpochResult) => Promise<void> {
  return ({ epoch, history }) => saveCheckpoint(dir, model, { epoch, history, seed: options.seed });
}
