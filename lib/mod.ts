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
export * from "../tools/_datasets.ts";
export * from "./signs_dataset.ts";
export * from "./preprocessing.ts";
export * from "./baseline.ts";
export * from "./resnet.ts";
export * from "./training/fit.ts";
export * from "./history.ts";
export * from "./training/checkpoint.ts";
export * from "./evaluation.ts";
export * from "./self_check.ts";
export * from "./live_view.ts";
export * from "./image_file.ts";
export * from "./training/random.ts";
export * from "./backends/mod.ts";
export * from "./display/mod.ts";
export * from "./settings.ts";
export * from "./util/format.ts";
export * from "./recalibration.ts";
export * from "./training/augmentation.ts";
