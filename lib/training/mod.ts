/**
 * Training a model as the course does with Keras: compiling with Adam and categorical
 * cross-entropy, fitting with a Keras-shaped history, evaluating, checkpoints that a run resumes
 * from, the seed of every random choice, and data augmentation. What the model and training code
 * need from a backend goes through lib/ops/, never through a backend itself.
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
  type TrainingHistory,
} from "./fit.ts";
export * from "./checkpoint.ts";
export { seedRandom } from "./random.ts";
export * from "./augmentation.ts";
