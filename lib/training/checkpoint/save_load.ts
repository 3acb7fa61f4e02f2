// Saving and loading a checkpoint folder.
import { join } from "node:path";
import * as tf from "../../tf.ts";
import { registerBatchNormalization } from "../../layers/batch_norm.ts";
import { exists } from "../../util/fs.ts";
import { keepSoftmaxLogits } from "../_softmax_logits.ts";
import { historyProblem } from "../fit.ts";
import { randomStateProblem, restoreRandomState } from "../random.ts";
import {
  type CheckpointInfo,
  checkRecord,
  describe,
  folderHandler,
  INFO_FILE,
  recordOf,
  type SaveOptions,
} from "./_format.ts";
import { sideFolders, writeCheckpoint } from "./_folder.ts";
import { snapshotOf } from "./_snapshot.ts";
import { settled } from "./_writes.ts";

/** A loaded checkpoint: the model (compiled, with its optimizer state) and its record. */
export interface Checkpoint extends CheckpointInfo {
  /** The model, ready to predict or to train on. The caller owns it. */
  model: tf.LayersModel;
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
