/**
 * Rich notebook output: images as PNG, tables as HTML, Plotly charts, model summaries and graphs.
 * Every function returns an object that Deno's Jupyter kernel displays as a MIME bundle (through
 * `Symbol.for("Jupyter.display")`) and that tests can inspect; nothing here calls `Deno.jupyter`.
 * The helpers that other folders draw with (MIME bundles, escaped HTML, check lists, status
 * lines) are exported here too; the course's surface (`lib/mod.ts`) leaves them out.
 *
 * @module
 */
export * from "./bundle.ts";
export * from "./html.ts";
export {
  classGallery,
  type ClassGalleryOptions,
  type ImageGrid,
  imagesOf,
  type ImageView,
  type RgbImage,
  showImage,
  type ShowImageOptions,
  showImages,
  type ShowImagesOptions,
  toPng,
  type ToPngOptions,
} from "./image.ts";
export * from "./table.ts";
export {
  chart,
  type ChartView,
  heatmap,
  type HeatmapOptions,
  linePlot,
  type LinePlotOptions,
  type PlotlyFigure,
} from "./plot.ts";
export * from "./summary.ts";
export * from "./graph.ts";
export * from "./source.ts";
