// Epoch callbacks that save checkpoints while training goes on.
import { resolve } from "node:path";
import * as tf from "../../tf.ts";
import {
  type EpochCallback,
  type EpochResult,
  historyProblem,
  type RunStart,
  type TrainingHistory,
} from "../fit.ts";
import { checkRecord, recordOf } from "./_format.ts";
import { lockFolder, savingPlace, unlockFolder, writeCheckpoint } from "./_folder.ts";
import { lastSnapshot, snapshotAfter } from "./_snapshot.ts";
import { settled, writing } from "./_writes.ts";

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
 * An epoch callback that saves `model` into `dir` after the epochs `when` picks, without making
 * training wait for the disk: the weights are copied out when the epoch ends, and written while
 * the next epoch trains. A save waits for the previous one into the same folder, whose failure it
 * reports; `fitModel` awaits the last one (`finish`) before it returns, and loading or saving
 * that folder waits for it too. A write that fails stops `fitModel`'s training at once (`start`
 * receives the means), and fitModel throws its error with the history so far. The folder is
 * checked and locked before the first epoch (see `saveCheckpoint`), its lock given back by
 * `finish`.
 */
function savingAfter(
  dir: string,
  model: tf.LayersModel,
  seed: number | undefined,
  when: (result: EpochResult) => boolean,
): EpochCallback {
  const key = resolve(dir);
  let pending: Promise<void> | null = null;
  // Ends the run that this callback saves, when a write fails (set by fitModel's start).
  let stop: ((error: unknown) => void) | null = null;
  // Where the checkpoints go (the folder a link leads to), once its lock is taken.
  let place: string | null = null;
  const lockedPlace = async () => {
    if (place === null) {
      const found = await savingPlace(dir);
      await lockFolder(found, dir);
      place = found;
    }
    return place;
  };
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
      if (place !== null) await unlockFolder(place);
      place = null;
    }
  };
  const callback = async (result: EpochResult) => {
    if (!when(result)) return;
    const options = { epoch: result.epoch, history: result.history, seed };
    checkRecord(dir, options);
    await previousWrite();
    await settled(dir);
    const target = await lockedPlace();
    const snapshot = await snapshotAfter(result, model);
    const write = writeCheckpoint(target, snapshot, recordOf(options, snapshot.files));
    pending = write;
    writing.set(key, write);
    write.catch((error) => stop?.(error)).finally(() => {
      if (writing.get(key) === write) writing.delete(key);
    });
  };
  // Before the first epoch: each checkpoint records the history from epoch 1, so the run must
  // start from one (a new run, or a resumed one given its checkpoint's history).
  const start = async ({ initialEpoch, history, stop: stopRun }: RunStart) => {
    const problem = historyProblem(initialEpoch, history);
    if (problem) {
      throw new RangeError(
        `Cannot save checkpoints into "${dir}" from epoch ${initialEpoch + 1}: the run's ` +
          `history is a ${problem}; to resume, give fitModel the history of the checkpoint it ` +
          `resumes from`,
      );
    }
    stop = stopRun;
    await lockedPlace();
  };
  return Object.assign(callback, { finish, start });
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
