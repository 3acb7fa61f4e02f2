/**
 * The SIGNS / ResNet-50 library behind the notebooks: data loading and preprocessing, the
 * baseline ConvNet, the residual blocks and ResNet-50, training with Keras's defaults, checkpoints,
 * evaluation, self-checks for learners, backend choice (with a trainable WebAssembly backend) and
 * rich notebook output.
 *
 * ```ts ignore
 * import * as signs from "@lib/mod.ts";
 * const data = await signs.loadSignsDataset();
 * const model = signs.resNet50();
 * ```
 *
 * @module
 */
export * as tf from "./tf.ts";
// The data: the SIGNS files, preprocessing, a learner's own photo.
export * from "./signs_dataset.ts";
export * from "./preprocessing.ts";
export * from "./image_file.ts";
// The models.
export * from "./baseline.ts";
export * from "./resnet.ts";
export {
  loadKerasModel,
  loadKerasModelIfPresent,
  saveKerasModel,
  type SaveKerasOptions,
} from "./keras_model.ts";
// Training, its settings, watching it and reading its history.
export * from "./training/mod.ts";
export * from "./settings.ts";
export {
  type DisplayFunction,
  liveTrainingView,
  type LiveView,
  type LiveViewOptions,
} from "./live_view.ts";
export * from "./history.ts";
export * from "./recalibration.ts";
// Evaluation and the course's self-checks.
export * from "./evaluation.ts";
export * from "./self_check.ts";
// Notebook output, and numbers and shapes as the course prints them.
export * from "./display/mod.ts";
export { formatCount, formatShape, formatShapes } from "./util/format.ts";
// Where TensorFlow.js runs its kernels.
export * from "./backends/mod.ts";
