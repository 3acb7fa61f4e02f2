/**
 * Saving and resuming training runs: a trained model, its optimizer state and its history go to a
 * folder on disk (no `tfjs-node` needed), after every epoch if asked, so that an interrupted run
 * continues where it stopped and a finished one can be loaded instead of trained again.
 *
 * A checkpoint folder holds `model.json` (topology, training configuration and weight manifest),
 * `weights.bin` (model and optimizer weights) and `checkpoint.json` (epoch, history, seed,
 * backend, time). It is written under a temporary name and renamed into place, so a crash during
 * a save leaves the previous checkpoint intact.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import * as tf from "./tf.ts";
import { registerBatchNormalization } from "./_batch_norm.ts";
import { exists } from "./_fs.ts";
import { keepSoftmaxLogits } from "./_softmax_logits.ts";
import type { EpochResult, TrainingHistory } from "./training.ts";

/** What `checkpoint.json` records beside the model. */
export interface CheckpointInfo {
  /** Epochs completed. */
  epoch: number;
  /** The history up to that epoch. */
  history: TrainingHistory;
  /** The seed the run was started with, if known. */
  seed?: number;
  /** The backend that trained it. */
  backend: string;
  /** When it was written (ISO 8601). */
  savedAt: string;
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

// An IOHandler that writes the artifacts TF.js gives it into a folder, and reads them back.
function folderHandler(dir: string): tf.io.IOHandler {
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
      await Deno.writeFile(join(dir, WEIGHTS_FILE), new Uint8Array(weights));
      await Deno.writeTextFile(join(dir, MODEL_FILE), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelPath = join(dir, MODEL_FILE);
      let json: ModelJson;
      try {
        json = JSON.parse(await Deno.readTextFile(modelPath));
      } catch (error) {
        throw new Error(`Cannot load checkpoint "${dir}": ${MODEL_FILE} is ${describe(error)}`);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest?.[0]?.weights)) {
        throw new Error(
          `Cannot load checkpoint "${dir}": ${MODEL_FILE} has no model topology or weight manifest`,
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
        throw new Error(`Cannot load checkpoint "${dir}": ${WEIGHTS_FILE} is ${describe(error)}`);
      }
      if (bytes.byteLength !== expected) {
        throw new Error(
          `Cannot load checkpoint "${dir}": ${WEIGHTS_FILE} has ${bytes.byteLength} bytes, ` +
            `the manifest in ${MODEL_FILE} expects ${expected}`,
        );
      }
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

/**
 * Saves a model (with its optimizer state, when compiled) and its training record into `dir`,
 * replacing what was there only once the new checkpoint is complete. The parent folder is created
 * if needed.
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
  await Deno.mkdir(dirname(dir), { recursive: true });
  const temporary = join(dirname(dir), `.${basename(dir)}.saving-${Deno.pid}-${Date.now()}`);
  const previous = join(dirname(dir), `.${basename(dir)}.previous`);
  await Deno.mkdir(temporary);
  try {
    await saveFreeingIterations(model, folderHandler(temporary));
    const info: CheckpointInfo = {
      epoch,
      history,
      seed: options.seed,
      backend: tf.getBackend(),
      savedAt: new Date().toISOString(),
    };
    await Deno.writeTextFile(join(temporary, INFO_FILE), JSON.stringify(info, null, 1));
    await Deno.remove(previous, { recursive: true }).catch(() => {});
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
 * optimizer state, and its record. Throws an `Error` naming the folder and what is wrong when it is
 * missing, incomplete or damaged. If a save was interrupted between its two renames, the previous
 * checkpoint is used.
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const previous = join(dirname(dir), `.${basename(dir)}.previous`);
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
  if (!Number.isInteger(info.epoch) || !Array.isArray(info.history?.epoch)) {
    throw new Error(`Cannot load checkpoint "${dir}": ${INFO_FILE} has no epoch count or history`);
  }
  registerBatchNormalization();
  const model = await tf.loadLayersModel(folderHandler(source));
  keepSoftmaxLogits(model);
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
