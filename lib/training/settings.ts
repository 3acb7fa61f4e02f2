/**
 * Training settings that a notebook sets in one place and that the environment can override, so
 * that the same notebook runs at full length for a learner and in a quick mode in CI.
 *
 * @module
 */
import { join } from "node:path";
import { projectRoot } from "../util/paths.ts";
import { type EnvReader, readEnv, readPositiveInteger } from "../util/env.ts";

/** The training settings of a notebook. */
export interface TrainingSettings {
  /** Number of epochs (`SIGNS_EPOCHS`). */
  epochs: number;
  /** Mini-batch size (`SIGNS_BATCH_SIZE`). */
  batchSize: number;
  /** Number of training images to use, or `null` for all of them (`SIGNS_TRAIN_LIMIT`). */
  trainLimit: number | null;
  /** Whether to augment the training images (`SIGNS_AUGMENT`: 1 or 0). */
  augment: boolean;
}

/** Where {@linkcode trainingSettings} reads overrides from: a function from name to value. */
export type { EnvReader };

function readSwitch(env: EnvReader, name: string): boolean | undefined {
  const text = env(name);
  if (text === undefined || text.trim() === "") return undefined;
  const value = { "1": true, "0": false, true: true, false: false }[text.trim().toLowerCase()];
  if (value === undefined) {
    throw new RangeError(`Cannot read ${name}="${text}": expected 1 or 0`);
  }
  return value;
}

/**
 * The notebook's defaults, with `SIGNS_EPOCHS`, `SIGNS_BATCH_SIZE`, `SIGNS_TRAIN_LIMIT` and
 * `SIGNS_AUGMENT` from the environment taking precedence. A value that is not a positive integer (or
 * 1 or 0 for `SIGNS_AUGMENT`) is a `RangeError` naming the variable.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const env = (name: string) => ({ SIGNS_EPOCHS: "2" } as Record<string, string>)[name];
 * assertEquals(trainingSettings({ epochs: 20, batchSize: 32 }, env), {
 *   epochs: 2,
 *   batchSize: 32,
 *   trainLimit: null,
 *   augment: false,
 * });
 * ```
 */
export function trainingSettings(
  defaults: { epochs: number; batchSize: number; trainLimit?: number | null; augment?: boolean },
  env: EnvReader = readEnv,
): TrainingSettings {
  return {
    epochs: readPositiveInteger(env, "SIGNS_EPOCHS") ?? defaults.epochs,
    batchSize: readPositiveInteger(env, "SIGNS_BATCH_SIZE") ?? defaults.batchSize,
    trainLimit: readPositiveInteger(env, "SIGNS_TRAIN_LIMIT") ?? defaults.trainLimit ?? null,
    augment: readSwitch(env, "SIGNS_AUGMENT") ?? defaults.augment ?? false,
  };
}

function readPath(env: EnvReader, name: string, fallback: string): string {
  const text = env(name);
  return text === undefined || text.trim() === "" ? fallback : text;
}

/**
 * The folder under which notebook 2 saves its runs: `SIGNS_CHECKPOINT_DIR`, or `build/checkpoints`
 * in the project, wherever the kernel started.
 */
export function checkpointRoot(env: EnvReader = readEnv): string {
  return readPath(env, "SIGNS_CHECKPOINT_DIR", join(projectRoot, "build", "checkpoints"));
}

/**
 * The folder of one training run under {@linkcode checkpointRoot}, named by the model and the
 * settings that change what it learns (epochs, batch size, training images, augmentation), so a
 * run with other settings never resumes from this one's checkpoints.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const settings = { epochs: 20, batchSize: 32, trainLimit: null, augment: false };
 * assertEquals(runCheckpointDir("resnet50", settings, () => undefined).endsWith(
 *   "/build/checkpoints/resnet50-20x32-all",
 * ), true);
 * ```
 */
export function runCheckpointDir(
  model: string,
  settings: Pick<TrainingSettings, "epochs" | "batchSize" | "trainLimit" | "augment">,
  env: EnvReader = readEnv,
): string {
  const { epochs, batchSize, trainLimit, augment } = settings;
  const name = `${model}-${epochs}x${batchSize}-${trainLimit ?? "all"}${
    augment ? "-augmented" : ""
  }`;
  return join(checkpointRoot(env), name);
}

/**
 * Where notebook 2 looks for the course's pretrained model (Keras's `ResNet50.h5`):
 * `SIGNS_PRETRAINED_MODEL`, or `datasets/ResNet50.h5` in the project, wherever the kernel started.
 */
export function pretrainedModelPath(env: EnvReader = readEnv): string {
  return readPath(env, "SIGNS_PRETRAINED_MODEL", join(projectRoot, "datasets", "ResNet50.h5"));
}

/**
 * The folder `deno task setup` copies the SIGNS files from: `SIGNS_DATA_SOURCE`, or
 * `../shared/datasets` beside the project.
 */
export function dataSourceDir(env: EnvReader = readEnv): string {
  return readPath(env, "SIGNS_DATA_SOURCE", join(projectRoot, "..", "shared", "datasets"));
}

/**
 * The photo for "test on your own image": `SIGNS_MY_IMAGE`, or the course's photo in
 * `../shared/images/my_image.jpg` beside the project, wherever the kernel started.
 */
export function myImagePath(env: EnvReader = readEnv): string {
  return readPath(
    env,
    "SIGNS_MY_IMAGE",
    join(projectRoot, "..", "shared", "images", "my_image.jpg"),
  );
}
