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
 * {@linkcode disposeModel}, which also frees the optimizer's state.
 */
export function compileModel(model: tf.LayersModel, options: CompileOptions = {}): void {
  const learningRate = options.learningRate ?? KERAS_ADAM.learningRate;
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new RangeError(`Cannot compile: learning rate ${learningRate} is not a positive number`);
  }
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
};

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
  /** A history to continue (its epochs are kept and the new ones appended). */
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
  checkPair("the training data", x, y);
  if (validationData) checkPair("the validation data", validationData[0], validationData[1]);
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
 * trained in place; the function creates no tensors that outlive it.
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
  const history = options.history ?? emptyHistory(validationData !== undefined);
  const watch = new EpochWatch(model, plan, history, options);
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
  if (failure) throw failure.error;
  if (watch.stopped) throw watch.stopped;
  for (const outcome of finished) if (outcome.status === "rejected") throw outcome.reason;
  return history;
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
 * and the accuracy. Frees the tensors it creates.
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
  checkPair("the evaluation data", x, y);
  const result = model.evaluate(x, y, { batchSize: options.batchSize ?? 32 }) as tf.Scalar[];
  const [loss, accuracy] = await Promise.all(result.map((t) => t.data()));
  tf.dispose(result);
  return { loss: loss[0], accuracy: accuracy[0] };
}
