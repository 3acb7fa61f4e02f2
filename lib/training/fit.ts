/**
 * Compiling, training and evaluating a classifier the way the course's Keras code does:
 * Adam, categorical cross-entropy, accuracy, `fit` with a Keras-shaped history and one progress
 * line per epoch.
 *
 * @module
 */
import * as tf from "../tf.ts";
import * as tfData from "@tensorflow/tfjs-data";
import { type Augmentation, augmentImages } from "./augmentation.ts";
import { epochRandom, shuffledIndices } from "./random.ts";
import { FusedAdamOptimizer } from "../ops/adam.ts";
import { keepSoftmaxLogits } from "./_softmax_logits.ts";
import { shapeText } from "../util/format.ts";

/** Keras's Adam defaults (TF.js's epsilon differs: 1e-8). */
export const KERAS_ADAM = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

/** Options of {@linkcode compileModel}. */
export interface CompileOptions {
  /** Adam's learning rate. Default 0.001. */
  learningRate?: number;
}

/**
 * Compiles `model` for classification with one-hot labels, as
 * `model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])`:
 * Adam with Keras's defaults (learning rate 0.001, beta 0.9 / 0.999, epsilon 1e-7). As in Keras,
 * the cross-entropy of a softmax Dense output is computed from its logits: no 1e-7 clipping, and a
 * gradient of exactly p - y for every example, however wrong. Free the model with
 * {@linkcode disposeModel}, which also frees the optimizer's state. Compiling a model again (a
 * notebook cell run twice) frees the previous optimizer's state and starts Adam afresh.
 */
export function compileModel(model: tf.LayersModel, options: CompileOptions = {}): void {
  const learningRate = options.learningRate ?? KERAS_ADAM.learningRate;
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new RangeError(`Cannot compile: learning rate ${learningRate} is not a positive number`);
  }
  // TF.js's compile() lets go of an optimizer it was given without freeing its moment estimates.
  const previous = model.optimizer;
  model.compile({
    // TF.js's Adam; on wasm and onednn its update runs as one kernel per variable.
    optimizer: new FusedAdamOptimizer(
      learningRate,
      KERAS_ADAM.beta1,
      KERAS_ADAM.beta2,
      KERAS_ADAM.epsilon,
    ),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  keepSoftmaxLogits(model);
  previous?.dispose();
}

/**
 * Frees a model's weights and the optimizer state that {@linkcode compileModel} created (Adam's
 * moment estimates, which `model.dispose()` leaves alone because TF.js did not create them).
 */
export function disposeModel(model: tf.LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
}

/**
 * The per-epoch record of a training run, keyed as Keras's `history.history` is: one value per
 * epoch in each array; `val_loss` and `val_accuracy` only with validation data.
 */
export interface TrainingHistory {
  /** Epoch numbers, counted from 1. */
  epoch: number[];
  /** Mean training loss of each epoch. */
  loss: number[];
  /** Training accuracy of each epoch. */
  accuracy: number[];
  /** Loss on the validation data after each epoch. */
  val_loss?: number[];
  /** Accuracy on the validation data after each epoch. */
  val_accuracy?: number[];
}

/** What {@linkcode FitOptions.onEpochEnd} receives after each epoch. */
export interface EpochResult {
  /** The epoch just finished, counted from 1. */
  epoch: number;
  /** Its metrics, under Keras's names (`loss`, `accuracy`, `val_loss`, `val_accuracy`). */
  logs: Record<string, number>;
  /** Seconds the epoch took, validation included. */
  seconds: number;
  /** The history so far, this epoch included. */
  history: TrainingHistory;
}

/**
 * A function called after each epoch. It may leave work running after it returns (a checkpoint
 * still being written, say) and carry a `finish` that waits for that work: `fitModel` awaits
 * every callback's `finish` before it returns, also when training stops with an error.
 */
export type EpochCallback = ((result: EpochResult) => void | Promise<void>) & {
  finish?: () => Promise<void>;
  /**
   * Called by `fitModel` before the first epoch with where the run starts: throws where the
   * callback could not do its work (a checkpoint that needs the history of every epoch from the
   * first, say), so that the problem shows before any training rather than an epoch late. It may
   * keep `stop` to end the run when work it left running fails.
   */
  start?: (run: RunStart) => void | Promise<void>;
};

/** Where a run of {@linkcode fitModel} starts, as its callbacks' `start` sees it. */
export interface RunStart {
  /** Epochs already done. */
  initialEpoch: number;
  /** The history the run continues (empty for a new run); not to be changed. */
  history: TrainingHistory;
  /**
   * Ends training after the step in progress, with `error` (the first one given), which
   * `fitModel` then throws; the epoch in progress is not recorded and its callbacks do not run.
   */
  stop: (error: unknown) => void;
}

/** What {@linkcode FitOptions.onBatchEnd} receives after each training step. */
export interface BatchProgress {
  /** The epoch being trained, counted from 1. */
  epoch: number;
  /** The last epoch of the run. */
  epochs: number;
  /** Steps done in this epoch, counted from 1. */
  step: number;
  /** Steps in an epoch. */
  steps: number;
  /** Mean training loss of the epoch's steps so far, weighted by their images (as Keras's bar). */
  loss: number;
  /** Training accuracy of the epoch's images so far. */
  accuracy: number;
}

/** Options of {@linkcode fitModel}. */
export interface FitOptions {
  /** Number of epochs to train to (counted from 1, so with `initialEpoch` it is the last epoch). */
  epochs: number;
  /** Mini-batch size. Default 32, as Keras. */
  batchSize?: number;
  /** Data to evaluate after each epoch, as Keras's `validation_data`. */
  validationData?: [tf.Tensor, tf.Tensor];
  /**
   * Shuffle the training data before each epoch. Default true, as Keras. Each epoch's order is
   * drawn afresh from `Math.random` (or from `seed`), never from the previous epoch's, so that
   * with the generator's state restored (checkpoints of `seedRandom` runs record it) a resumed
   * run shuffles as the uninterrupted one did.
   */
  shuffle?: boolean;
  /** Epochs already done (to resume a run): training starts at epoch `initialEpoch + 1`. */
  initialEpoch?: number;
  /**
   * A history to continue: the record of epochs 1 to `initialEpoch` (a checkpoint's), with the
   * validation columns exactly when `validationData` is given. The history `fitModel` resolves to
   * is a new object holding its epochs and the new ones; the one given is left as it is.
   */
  history?: TrainingHistory;
  /** Where progress lines go; `null` for none. Default `console.log`. */
  log?: ((line: string) => void) | null;
  /** Called after each epoch (in order, when several), awaited before the next one starts. */
  onEpochEnd?: EpochCallback | EpochCallback[];
  /**
   * Called after each training step with the epoch's progress, awaited before the next step.
   * Reading the step's loss waits for it to be computed, which costs nothing on the CPU backends.
   */
  onBatchEnd?: (progress: BatchProgress) => void | Promise<void>;
  /**
   * Augment the training images: every mini-batch is drawn, then changed at random by
   * `augmentImages` with these settings (`true`: the defaults), so each epoch sees new variants.
   * Labels and validation data are left as they are. Default: no augmentation.
   */
  augment?: Augmentation | boolean;
  /**
   * Draws each epoch's order of the mini-batches (and its augmentation) from a generator seeded
   * with this seed and the epoch's number, instead of `Math.random`: a run stopped after any epoch
   * and resumed with `initialEpoch` sees the batches the uninterrupted run saw, and nothing else
   * that draws random numbers (building another model, picking an image) changes them.
   */
  seed?: number;
}

interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  augmentation: Augmentation | null;
  /** The epoch being trained, counted from 1. */
  epoch: () => number;
  /** The random numbers of an epoch. */
  randomFor: (epoch: number) => () => number;
}

/**
 * One mini-batch of the training data: the images and labels at `indices`, the images augmented
 * with `random`'s numbers when `augmentation` is given. The caller owns the tensors.
 */
export function gatherBatch(
  x: tf.Tensor,
  y: tf.Tensor,
  indices: number[],
  augmentation: Augmentation | null = null,
  random: () => number = Math.random,
): { xs: tf.Tensor; ys: tf.Tensor } {
  return tf.tidy(() => {
    const picked = tf.tensor1d(indices, "int32");
    const images = tf.gather(x, picked) as tf.Tensor4D;
    return {
      xs: augmentation ? augmentImages(images, augmentation, random) : images,
      ys: tf.gather(y, picked),
    };
  });
}

/**
 * The order of an epoch's training images as {@linkcode fitModel} draws it: shuffled with the
 * numbers of `epochRandom(seed, epoch)` when a seed is given, else with `Math.random`.
 */
export function epochOrder(count: number, options: { seed?: number; epoch: number }): number[] {
  const random = options.seed === undefined
    ? Math.random
    : epochRandom(options.seed, options.epoch);
  return shuffledIndices(count, random);
}

// The training data as a data set of mini-batches, shuffled (and augmented) anew each epoch with
// the random numbers of that epoch.
function batchesOf(x: tf.Tensor, y: tf.Tensor, options: BatchOptions) {
  const { batchSize, shuffle, augmentation } = options;
  const count = x.shape[0];
  return tfData.generator(function* () {
    const random = options.randomFor(options.epoch());
    const order = shuffle
      ? shuffledIndices(count, random)
      : Array.from({ length: count }, (_, i) => i);
    for (let start = 0; start < count; start += batchSize) {
      yield gatherBatch(x, y, order.slice(start, start + batchSize), augmentation, random);
    }
  });
}

const KERAS_NAMES: Record<string, string> = {
  acc: "accuracy",
  accuracy: "accuracy",
  loss: "loss",
  val_acc: "val_accuracy",
  val_accuracy: "val_accuracy",
  val_loss: "val_loss",
};

function kerasLogs(logs: tf.Logs | undefined): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, value] of Object.entries(logs ?? {})) {
    result[KERAS_NAMES[name] ?? name] = value as number;
  }
  return result;
}

/** Formats one Keras-like progress line, e.g. `Epoch 3/20 - 34/34 steps - 4.1s - loss: 0.8123 - accuracy: 0.7010`. */
export function progressLine(
  epoch: number,
  epochs: number,
  steps: number,
  seconds: number,
  logs: Record<string, number>,
): string {
  const metrics = ["loss", "accuracy", "val_loss", "val_accuracy"]
    .filter((name) => logs[name] !== undefined)
    .map((name) => `${name}: ${logs[name].toFixed(4)}`);
  return [
    `Epoch ${epoch}/${epochs}`,
    `${steps}/${steps} steps`,
    `${seconds.toFixed(1)}s`,
    ...metrics,
  ]
    .join(" - ");
}

/**
 * What `history` gets wrong as the record of epochs 1 to `epoch` (a checkpoint's, or the run that
 * `fitModel` continues from `initialEpoch`), or `null` when it is right.
 */
export function historyProblem(epoch: number, history: TrainingHistory): string | null {
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

// The history a run starts from: a copy of the one it continues, checked against `initialEpoch`
// and the validation data, or an empty one.
function startingHistory(plan: RunPlan, options: FitOptions): TrainingHistory {
  const given = options.history;
  const withValidation = options.validationData !== undefined;
  if (given === undefined) return emptyHistory(withValidation);
  const problem = historyProblem(plan.initialEpoch, given);
  if (problem) {
    const epochs = Array.isArray(given?.epoch) ? given.epoch.length : 0;
    const hint = epochs > 0 && historyProblem(epochs, given) === null
      ? `; to continue it, give initialEpoch: ${epochs}`
      : "";
    throw new RangeError(
      `Cannot train from epoch ${plan.initialEpoch + 1}: the history to continue is a ` +
        `${problem}${hint}`,
    );
  }
  const columns = ["val_loss", "val_accuracy"].filter((name) => name in given);
  if (plan.initialEpoch > 0 && withValidation && columns.length < 2) {
    throw new RangeError(
      `Cannot train with validation data: the history to continue has ${
        columns.length === 0 ? "no validation columns" : `only "${columns[0]}"`
      } (its epochs were trained without validation data); continue without validationData, ` +
        `or start a new history`,
    );
  }
  if (!withValidation && columns.length > 0) {
    throw new RangeError(
      `Cannot train without validation data: the history to continue has the columns ` +
        `${
          columns.map((c) => `"${c}"`).join(", ")
        }; give the validationData of the run it continues`,
    );
  }
  const copy = emptyHistory(withValidation);
  for (const [name, values] of Object.entries(given)) {
    if (Array.isArray(values)) (copy as unknown as Record<string, number[]>)[name] = [...values];
  }
  return copy;
}

/** An empty history, with the validation columns when `withValidation` is set. */
function emptyHistory(withValidation: boolean): TrainingHistory {
  return withValidation
    ? { epoch: [], loss: [], accuracy: [], val_loss: [], val_accuracy: [] }
    : { epoch: [], loss: [], accuracy: [] };
}

/**
 * Thrown by {@linkcode fitModel} when an epoch's training loss is NaN or infinite: training stops
 * there (as with Keras's `TerminateOnNaN`), before that epoch's callbacks, so no checkpoint holds
 * the broken weights. `history` is the history up to the last good epoch.
 */
export class NonFiniteLossError extends Error {
  override name = "NonFiniteLossError";
  constructor(
    /** The epoch whose loss was not finite. */
    readonly epoch: number,
    /** That loss. */
    readonly loss: number,
    /** The history of the epochs before it. */
    readonly history: TrainingHistory,
  ) {
    super(
      `Training stopped in epoch ${epoch}: its training loss is ${loss}, so the weights are no ` +
        `longer usable. Nothing was saved for epoch ${epoch}; checkpoints hold epoch ${
          epoch - 1
        } at most. A lower learning rate usually avoids it.`,
    );
  }
}

// Refuses float images holding NaN or infinite values: they make the loss NaN at the first step.
// Read asynchronously: the webgpu backend cannot read GPU memory synchronously under Deno.
async function checkFinite(what: string, x: tf.Tensor): Promise<void> {
  if (x.dtype !== "float32") return;
  const [count, first] = tf.tidy(() => {
    const bad = tf.logicalNot(tf.isFinite(x));
    const perImage = tf.any(tf.reshape(bad, [x.shape[0], -1]), 1);
    return [tf.sum(tf.cast(bad, "int32")), tf.argMax(tf.cast(perImage, "int32"))];
  });
  const [[n], [index]] = await Promise.all([count.data(), first.data()]);
  tf.dispose([count, first]);
  if (n > 0) {
    throw new RangeError(
      `Cannot train: the ${what} hold ${n} value${
        n === 1 ? " that is not a finite number" : "s that are not finite numbers"
      } (NaN or infinite), the first in image ${index}`,
    );
  }
}

/**
 * Refuses labels that are not one row of class probabilities per image, of the width of the
 * model's output (`[m, classes]`): Keras's categorical cross-entropy takes no other shape, and
 * TF.js would broadcast a `[m, 1]` column against the `[m, classes]` output and train on
 * nonsense. Where the labels look like class numbers (`[m]`, `[m, 1]` or `[1, m]` of integers in
 * `0..classes-1`), the message says how to one-hot them.
 */
function checkLabels(
  doing: string,
  what: string,
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
): void {
  const output = model.outputs.length === 1 ? model.outputs[0].shape : null;
  const classes = output?.length === 2 ? output[1] : null;
  if (classes === null) return;
  if (y.rank === 2 && y.shape[1] === classes) return;
  const expected = shapeText([x.shape[0], classes]);
  const column = y.rank === 1 || (y.rank === 2 && (y.shape[0] === 1 || y.shape[1] === 1));
  const hint = column && y.size > 0 && classNumbers(y, classes)
    ? `; they look like class numbers: one-hot them first, with convertToOneHot(y, ${classes})`
    : "";
  throw new TypeError(
    `${doing}: ${what} have shape ${shapeText(y.shape)}, expected ${expected} (one-hot ` +
      `rows of the model's ${classes} classes)${hint}`,
  );
}

// Whether every value of `y` is an integer in 0..classes-1.
function classNumbers(y: tf.Tensor, classes: number): boolean {
  const all = tf.tidy(() => {
    const values = tf.cast(y, "float32");
    const whole = tf.equal(values, tf.round(values));
    const inRange = tf.logicalAnd(tf.greaterEqual(values, 0), tf.less(values, classes));
    return tf.all(tf.logicalAnd(whole, inRange));
  });
  const result = all.dataSync()[0] === 1;
  all.dispose();
  return result;
}

function checkPair(what: string, x: tf.Tensor, y: tf.Tensor): void {
  if (x.shape[0] !== y.shape[0]) {
    throw new RangeError(
      `Cannot train: ${what} has ${x.shape[0]} images but ${y.shape[0]} labels ` +
        `(shapes ${shapeText(x.shape)} and ${shapeText(y.shape)})`,
    );
  }
}

// The run's settings, checked: what fitModel refuses before any training starts.
interface RunPlan {
  epochs: number;
  batchSize: number;
  initialEpoch: number;
  seed: number | undefined;
  /** Training steps in an epoch. */
  steps: number;
}

function checkedPlan(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: FitOptions,
): RunPlan {
  const { epochs, validationData, seed } = options;
  const batchSize = options.batchSize ?? 32;
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new RangeError(`Cannot train: epochs = ${epochs}, expected a positive integer`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Cannot train: batch size ${batchSize}, expected a positive integer`);
  }
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > epochs) {
    throw new RangeError(`Cannot train: initial epoch ${initialEpoch} is outside 0..${epochs}`);
  }
  if (!model.optimizer) {
    throw new Error(
      `Cannot train model "${model.name}": it is not compiled (call compileModel first)`,
    );
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new RangeError(`Cannot train with seed ${seed}: expected an integer`);
  }
  checkLabels("Cannot train", "the labels", model, x, y);
  checkPair("the training data", x, y);
  if (validationData) {
    checkLabels(
      "Cannot train",
      "the validation labels",
      model,
      validationData[0],
      validationData[1],
    );
    checkPair("the validation data", validationData[0], validationData[1]);
  }
  return { epochs, batchSize, initialEpoch, seed, steps: Math.ceil(x.shape[0] / batchSize) };
}

// What TF.js's fit loop calls around each epoch and step: the epoch's running sums for the
// progress of its steps, and at its end the history, the progress line and the epoch callbacks,
// or a stop where the loss is not finite.
class EpochWatch {
  /** The epoch being trained, counted from 1. */
  epoch: number;
  /** Set when an epoch's loss was not finite: training stopped there. */
  stopped: NonFiniteLossError | null = null;
  /** Set when a callback's work failed while training went on: training stopped then. */
  failure: { error: unknown } | null = null;
  /** The caller's epoch callbacks, in order. */
  readonly epochCallbacks: EpochCallback[];
  private started = performance.now();
  // The epoch's sums so far, weighted by the images of each step.
  private done = { step: 0, images: 0, loss: 0, correct: 0 };

  constructor(
    private readonly model: tf.LayersModel,
    private readonly plan: RunPlan,
    private readonly history: TrainingHistory,
    private readonly options: FitOptions,
  ) {
    this.epoch = plan.initialEpoch + 1;
    this.epochCallbacks = [options.onEpochEnd ?? []].flat();
  }

  /** TF.js's callbacks: the step callback only when the caller asked for steps. */
  callbacks(): tf.CustomCallbackArgs {
    return {
      onEpochBegin: (epochIndex) => this.beginEpoch(epochIndex),
      ...(this.options.onBatchEnd && {
        onBatchEnd: (_batch: number, logs?: tf.Logs) => this.endStep(logs),
      }),
      onEpochEnd: (epochIndex, logs) => this.endEpoch(epochIndex, logs),
    };
  }

  /** Stops training after the step in progress, with `error`. */
  stop(error: unknown): void {
    this.failure ??= { error };
    this.model.stopTraining = true;
  }

  private beginEpoch(epochIndex: number): Promise<void> {
    this.started = performance.now();
    this.epoch = epochIndex + 1;
    this.done = { step: 0, images: 0, loss: 0, correct: 0 };
    return Promise.resolve();
  }

  private async endStep(rawLogs?: tf.Logs): Promise<void> {
    const logs = kerasLogs(rawLogs);
    const size = logs.size ?? this.plan.batchSize;
    const done = this.done = {
      step: this.done.step + 1,
      images: this.done.images + size,
      loss: this.done.loss + logs.loss * size,
      correct: this.done.correct + logs.accuracy * size,
    };
    await this.options.onBatchEnd!({
      epoch: this.epoch,
      epochs: this.plan.epochs,
      step: done.step,
      steps: this.plan.steps,
      loss: done.loss / done.images,
      accuracy: done.correct / done.images,
    });
  }

  private async endEpoch(epochIndex: number, rawLogs?: tf.Logs): Promise<void> {
    if (this.failure) return; // an epoch cut short: not recorded
    const { epochs, steps } = this.plan;
    const log = this.options.log === undefined ? console.log : this.options.log;
    const seconds = (performance.now() - this.started) / 1000;
    const logs = kerasLogs(rawLogs);
    const epoch = epochIndex + 1;
    if (!Number.isFinite(logs.loss)) {
      this.model.stopTraining = true;
      this.stopped = new NonFiniteLossError(epoch, logs.loss, this.history);
      log?.(`${progressLine(epoch, epochs, steps, seconds, logs)} - stopped: loss not finite`);
      return;
    }
    const history = this.history;
    history.epoch.push(epoch);
    for (const name of ["loss", "accuracy", "val_loss", "val_accuracy"] as const) {
      if (logs[name] !== undefined) (history[name] ??= []).push(logs[name]);
    }
    log?.(progressLine(epoch, epochs, steps, seconds, logs));
    const result = { epoch, logs, seconds, history };
    for (const callback of this.epochCallbacks) await callback(result);
  }
}

/**
 * Trains a compiled model, as Keras's `model.fit(x, y, epochs, batch_size, validation_data)`,
 * printing one progress line per epoch, and resolves to the history in Keras's shape. The model is
 * trained in place; the function creates no tensors that outlive it. Before the first epoch it
 * refuses, with nothing left behind, labels that are not one-hot rows of the model's classes
 * (`[m, classes]`: a `TypeError` naming both shapes, with the hint to use `convertToOneHot` where
 * they look like class numbers), data whose image and label counts differ and images holding NaN
 * or infinite values.
 *
 * When the run stops with an error once training has begun (a checkpoint that could not be
 * written, an epoch callback that throws, a loss that is not finite), the error thrown carries the
 * history of the epochs completed as its `history` property, so that they are not lost. A
 * checkpoint that fails to be written stops training within the epoch in which it failed.
 */
export async function fitModel(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: FitOptions,
): Promise<TrainingHistory> {
  const plan = checkedPlan(model, x, y, options);
  const { validationData } = options;
  await checkFinite("training images", x);
  if (validationData) await checkFinite("validation images", validationData[0]);
  const history = startingHistory(plan, options);
  const watch = new EpochWatch(model, plan, history, options);
  const stop = (error: unknown) => watch.stop(error);
  try {
    for (const callback of watch.epochCallbacks) {
      await callback.start?.({ initialEpoch: plan.initialEpoch, history, stop });
    }
  } catch (error) {
    await Promise.allSettled(watch.epochCallbacks.map((c) => c.finish?.()));
    throw error;
  }
  const batches = batchesOf(x, y, {
    batchSize: plan.batchSize,
    shuffle: options.shuffle ?? true,
    augmentation: options.augment ? (options.augment === true ? {} : options.augment) : null,
    epoch: () => watch.epoch,
    randomFor: (epoch) => plan.seed === undefined ? Math.random : epochRandom(plan.seed, epoch),
  });
  // Yielding to the event loop after each step (a setImmediate) lets work that callbacks left
  // running, such as a checkpoint being written, go on while the next epoch trains.
  let failure: { error: unknown } | null = null;
  try {
    await model.fitDataset(batches, {
      epochs: plan.epochs,
      initialEpoch: plan.initialEpoch,
      validationData,
      verbose: 0,
      yieldEvery: "batch",
      callbacks: watch.callbacks(),
    });
  } catch (error) {
    failure = { error };
  }
  // Every callback's last work (a checkpoint still being written), also when training failed.
  const finished = await Promise.allSettled(watch.epochCallbacks.map((c) => c.finish?.()));
  const rejected = finished.find((outcome) => outcome.status === "rejected");
  const error = failure ?? watch.failure ??
    (watch.stopped && { error: watch.stopped }) ?? (rejected && { error: rejected.reason });
  if (error) throw withHistory(error.error, history);
  return history;
}

// An error of a run that had started, with the history of its completed epochs as `history`
// (unless it has one already, as NonFiniteLossError does).
function withHistory(error: unknown, history: TrainingHistory): unknown {
  if (error instanceof Error && !("history" in error)) {
    Object.defineProperty(error, "history", { value: history, writable: true, configurable: true });
  }
  return error;
}

/** Loss and accuracy of a model on a data set. */
export interface Evaluation {
  /** Mean categorical cross-entropy. */
  loss: number;
  /** Fraction of correctly classified images. */
  accuracy: number;
}

/**
 * Evaluates a compiled model on `x`, `y`, as Keras's `model.evaluate(x, y)`: resolves to the loss
 * and the accuracy. Frees the tensors it creates. Refuses labels that are not one-hot rows of the
 * model's classes, as {@linkcode fitModel} does.
 */
export async function evaluateModel(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: { batchSize?: number } = {},
): Promise<Evaluation> {
  if (!model.optimizer) {
    throw new Error(
      `Cannot evaluate model "${model.name}": it is not compiled (call compileModel first)`,
    );
  }
  checkLabels(`Cannot evaluate model "${model.name}"`, "the labels", model, x, y);
  checkPair("the evaluation data", x, y);
  const result = model.evaluate(x, y, { batchSize: options.batchSize ?? 32 }) as tf.Scalar[];
  const [loss, accuracy] = await Promise.all(result.map((t) => t.data()));
  tf.dispose(result);
  return { loss: loss[0], accuracy: accuracy[0] };
}
