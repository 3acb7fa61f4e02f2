/**
 * The SIGNS / ResNet-50 library behind the notebooks: data loading and preprocessing, the
 * baseline ConvNet, the residual blocks and ResNet-50, training with Keras's defaults, checkpoints,
 * evaluation, self-checks for learners, backend choice (with a trainable WebAssembly backend) and
 * rich notebook output.
 *
 * The folders below are layers, listed in the README from the top (`training/`) down to `util/`:
 * every import stays in its folder or points down, and a file whose name starts with `_` is used
 * only inside its own folder. Each folder's `mod.ts` is its face.
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
export * from "./data/mod.ts";
// The models, the course's self-checks, and Keras model files.
export * from "./models/mod.ts";
export { applyLayer, batchNormalization, type BatchNormOptions } from "./layers/mod.ts";
export * from "./keras/mod.ts";
// Training, its settings, watching it, reading its history, evaluation.
export * from "./training/mod.ts";
// Notebook output, and numbers and shapes as the course prints them.
export {
  chart,
  type ChartView,
  classGallery,
  type ClassGalleryOptions,
  type Displayable,
  heatmap,
  type HeatmapOptions,
  type ImageGrid,
  imagesOf,
  type ImageView,
  JUPYTER_DISPLAY,
  linePlot,
  type LinePlotOptions,
  type MimeBundle,
  modelDot,
  type ModelGraph,
  modelGraph,
  type ModelGraphOptions,
  type ModelSummary,
  modelSummary,
  type ParameterCounts,
  parameterCounts,
  type PlotlyFigure,
  type RgbImage,
  showImage,
  type ShowImageOptions,
  showImages,
  type ShowImagesOptions,
  showSource,
  type ShowSourceOptions,
  type SourceView,
  type SummaryRow,
  table,
  type TableOptions,
  type TableView,
  toPng,
  type ToPngOptions,
} from "./display/mod.ts";
export { formatCount, formatShape, formatShapes } from "./util/format.ts";
// Where TensorFlow.js runs its kernels.
export {
  BACKEND_ORDER,
  type BackendAttempt,
  type BackendChoice,
  type BackendName,
  backendReport,
  useBackend,
  type UseBackendOptions,
} from "./backends/mod.ts";
