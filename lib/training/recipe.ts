/**
 * The notebooks' training recipes in one place. Notebook 2 trains ResNet-50 as the course does
 * (compiled with Keras's Adam and categorical cross-entropy, 20 epochs of 32 images, the test set as
 * validation data) with this project's additions: the order of the mini-batches drawn from the
 * run's seed, and after each epoch two checkpoints, the last epoch's and the epoch of lowest
 * training loss. Notebook 1 trains the baseline for 100 epochs of 64 images. The notebooks, the
 * accuracy runs, the benchmarks and the GPU check train from here, so each measures what the
 * notebooks run and a change of recipe is made once.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { convolutionalModel } from "../models/baseline.ts";
import { type Initialization, resNet50 } from "../models/resnet.ts";
import { CHANNELS, IMAGE_SIZE } from "../data/signs_dataset.ts";
import { checkpointBestEpoch, checkpointEachEpoch } from "./checkpoint/mod.ts";
import { compileModel, type EpochCallback, type FitOptions, type TrainingHistory } from "./fit.ts";

/** A notebook's model and the length of its training. */
export interface Recipe {
  /** Which model the notebook trains. */
  readonly model: "resnet50" | "baseline";
  /** Epochs of a full run. */
  readonly epochs: number;
  /** Mini-batch size. */
  readonly batchSize: number;
}

/** Notebook 2's recipe: ResNet-50, 20 epochs of 32 images, as the course trains it. */
export const RESNET50_RECIPE: Recipe = { model: "resnet50", epochs: 20, batchSize: 32 };

/** Notebook 1's recipe: the baseline ConvNet, 100 epochs of 64 images, as the course trains it. */
export const BASELINE_RECIPE: Recipe = { model: "baseline", epochs: 100, batchSize: 64 };

/**
 * The recipe's model for the SIGNS images, built and compiled as its notebook does. The caller owns
 * it (free it with `disposeModel`). `initialization` chooses ResNet-50's starting weights (see
 * `resNet50`).
 */
export function recipeModel(
  recipe: Recipe,
  options: { initialization?: Initialization } = {},
): tf.LayersModel {
  const model = recipe.model === "resnet50"
    ? resNet50(options)
    : convolutionalModel([IMAGE_SIZE, IMAGE_SIZE, CHANNELS]);
  compileModel(model);
  return model;
}

/**
 * The folder of the epoch of lowest training loss kept beside a run's checkpoint folder `dir`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(bestCheckpointDir("build/checkpoints/resnet50"), "build/checkpoints/resnet50-best");
 * ```
 */
export function bestCheckpointDir(dir: string): string {
  return `${dir}-best`;
}

/** Options of {@linkcode recipeFitOptions}. */
export interface RecipeFitOptions {
  /** Epochs to train to; default the recipe's (a notebook passes its settings). */
  epochs?: number;
  /** Mini-batch size; default the recipe's. */
  batchSize?: number;
  /** Augment the training images (see `FitOptions.augment`). Default no. */
  augment?: boolean;
  /**
   * The run's seed, which draws the order of each epoch's mini-batches (see `FitOptions.seed`);
   * without one they are drawn from `Math.random`.
   */
  seed?: number;
  /** Data to evaluate after each epoch; the notebooks use the test set, as the course does. */
  validationData?: [tf.Tensor, tf.Tensor];
  /**
   * Where the last epoch's checkpoint goes after each epoch, and the lowest-loss epoch's beside it
   * ({@linkcode bestCheckpointDir}); no checkpoints when absent.
   */
  checkpointDir?: string;
  /** A checkpoint to resume from: training goes on after its epoch, its history continued. */
  saved?: { epoch: number; history: TrainingHistory } | null;
  /** Progress lines (see `FitOptions.log`). */
  log?: FitOptions["log"];
  /** Called after each step (see `FitOptions.onBatchEnd`). */
  onBatchEnd?: FitOptions["onBatchEnd"];
  /** Called after each epoch, before the checkpoints are taken. */
  onEpochEnd?: EpochCallback | EpochCallback[];
}

/**
 * `fitModel`'s options for training `model` by `recipe`: its epochs and batch size (unless given),
 * the batches drawn from `seed` when given, and with `checkpointDir` the two checkpoints after each epoch.
 *
 * @example
 * ```ts ignore
 * const options = recipeFitOptions(RESNET50_RECIPE, model, {
 *   seed: 1,
 *   validationData: [xTest, yTest],
 *   checkpointDir: "build/checkpoints/resnet50",
 * });
 * const history = await fitModel(model, xTrain, yTrain, options);
 * ```
 */
export function recipeFitOptions(
  recipe: Recipe,
  model: tf.LayersModel,
  options: RecipeFitOptions,
): FitOptions {
  const { seed, checkpointDir, saved } = options;
  const checkpoints = checkpointDir === undefined ? [] : [
    checkpointBestEpoch(bestCheckpointDir(checkpointDir), model, { seed }),
    checkpointEachEpoch(checkpointDir, model, { seed }),
  ];
  return {
    epochs: options.epochs ?? recipe.epochs,
    batchSize: options.batchSize ?? recipe.batchSize,
    validationData: options.validationData,
    seed,
    augment: options.augment ?? false,
    initialEpoch: saved?.epoch ?? 0,
    history: saved?.history,
    ...(options.log !== undefined && { log: options.log }),
    onBatchEnd: options.onBatchEnd,
    onEpochEnd: [...[options.onEpochEnd ?? []].flat(), ...checkpoints],
  };
}
