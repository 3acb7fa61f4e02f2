/**
 * Training a model as the course does with Keras: compiling with Adam and categorical
 * cross-entropy, fitting with a Keras-shaped history, evaluating, checkpoints that a run resumes
 * from, the seed of every random choice, data augmentation, the run's settings, a live view of
 * training, its history as a data frame, batch normalisation recalibrated after training, and the
 * predictions and charts of evaluation. The kernels the model and training code need from a
 * backend go through lib/ops/, never through a backend itself; the one thing training asks a
 * backend for is a view of a tensor's values in its memory, for checkpoints (`valuesInPlace`).
 *
 * @module
 */
export {
  compileModel,
  type CompileOptions,
  disposeModel,
  type EpochCallback,
  type EpochResult,
  evaluateModel,
  type Evaluation,
  fitModel,
  type FitOptions,
  KERAS_ADAM,
  NonFiniteLossError,
  type RunStart,
  type TrainingHistory,
} from "./fit.ts";
export * from "./checkpoint/mod.ts";
export { seedRandom } from "./random.ts";
export * from "./augmentation.ts";
export * from "./settings.ts";
export {
  type DisplayFunction,
  liveTrainingView,
  type LiveView,
  type LiveViewOptions,
} from "./live_view.ts";
export * from "./history.ts";
export * from "./recalibration.ts";
export * from "./evaluation.ts";
export * from "./recipe.ts";
