// Saving and loading a checkpoint folder.
import * as tf from "../../tf.ts";
import { registerBatchNormalization } from "../../layers/batch_norm.ts";
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
import {
  checkpointFiles,
  fileAbove,
  lockFolder,
  otherSaver,
  placeOf,
  savingPlace,
  unlockFolder,
  writeCheckpoint,
} from "./_folder.ts";
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
 * the current folder, a folder under a file, a name too long for the hidden folders a save keeps
 * beside it, a folder another process is saving into (whose lock file `.NAME.lock` beside the
 * folder names it; a lock left by a process that has ended is taken over), and a history that is
 * not of epochs 1 to `epoch`. A symbolic link is saved through: the checkpoint replaces the
 * folder it leads to, and the link stays. A mount point, which cannot be replaced, is saved into:
 * its checkpoint files are replaced one by one from a complete copy kept inside it
 * (`.checkpoint.next`), its lock is `.checkpoint.lock` inside it, and whatever else it holds
 * (`lost+found`, your files) is left alone.
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  options: SaveOptions,
): Promise<void> {
  checkRecord(dir, options);
  await settled(dir);
  const place = await savingPlace(dir);
  await lockFolder(place, dir);
  try {
    const snapshot = await snapshotOf(model);
    await writeCheckpoint(place, snapshot, recordOf(options, snapshot.files));
  } finally {
    await unlockFolder(place);
  }
}

/**
 * Loads a checkpoint written by {@linkcode saveCheckpoint}: the model, compiled with its saved
 * optimizer state, and its record. Throws an `Error` naming the folder, the file and what is wrong
 * when it is missing, incomplete or damaged: a record whose epoch and history disagree, a file
 * whose size or checksum is not the recorded one. A save interrupted part-way is read past
 * without changing anything: the previous checkpoint is used if the new one was not yet complete,
 * else the new one. Where the checkpoint recorded the state of the
 * generator of `seedRandom`, `Math.random` is put back there (see `CheckpointInfo.random`).
 * Refuses a folder that another running process is saving into, and a path under a file.
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  await settled(dir);
  const file = await fileAbove(dir);
  if (file !== null) {
    throw new Error(`Cannot load checkpoint "${dir}": "${file}" is a file, not a folder`);
  }
  if ((await Deno.stat(dir).catch(() => null))?.isFile) {
    throw new Error(`Cannot load checkpoint "${dir}": it is a file, not a checkpoint folder`);
  }
  const saver = await otherSaver(await placeOf(dir).catch(() => dir));
  if (saver !== null) {
    throw new Error(
      `Cannot load checkpoint "${dir}": process ${saver} is saving into it; wait until it ` +
        `ends, or give this run a folder of its own`,
    );
  }
  const files = await checkpointFiles(dir);
  if (files === null) {
    throw new Deno.errors.NotFound(
      `Cannot load checkpoint "${dir}": no such folder (nothing saved yet)`,
    );
  }
  let info: CheckpointInfo;
  try {
    info = JSON.parse(await Deno.readTextFile(files[INFO_FILE]));
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
  const model = await tf.loadLayersModel(folderHandler(files, info.files, dir));
  keepSoftmaxLogits(model);
  if (info.random) restoreRandomState(info.random);
  return { ...info, model };
}

/**
 * Like {@linkcode loadCheckpoint}, but resolves to `null` when nothing has been saved at `dir`
 * (other problems still throw, a path under a file or a folder another process is saving into
 * among them), so a notebook can offer "load instead of training".
 */
export async function loadCheckpointIfPresent(dir: string): Promise<Checkpoint | null> {
  try {
    return await loadCheckpoint(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
