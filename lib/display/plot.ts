/**
 * Charts with Plotly. Each chart carries Plotly's own MIME type, which JupyterLab, Jupyter Notebook
 * and VS Code draw themselves, and an HTML fallback (used by `nbconvert`'s HTML export, for one)
 * that needs no network: the first chart of a kernel session embeds the Plotly library (the
 * minified cartesian bundle, 1.5 MB), later charts reuse it.
 *
 * @module
 */
import { join } from "node:path";
import { projectRoot } from "../util/paths.ts";
import { type Displayable, displayable, type MimeBundle } from "./bundle.ts";

/** A Plotly figure: traces and layout, as Plotly's JSON format has them. */
export interface PlotlyFigure {
  /** The traces. */
  data: Record<string, unknown>[];
  /** The layout. */
  layout: Record<string, unknown>;
}

/** A chart that displays with Plotly. */
export interface ChartView extends Displayable {
  /** The figure, to inspect or change before it is displayed. */
  figure: PlotlyFigure;
}

const PLOTLY_PATH = join(
  projectRoot,
  "node_modules",
  "plotly.js-cartesian-dist-min",
  "plotly-cartesian.min.js",
);
let plotlyEmbedded = false;
let chartCounter = 0;

/**
 * Makes the next chart embed the Plotly library again (for a new page, such as a re-run notebook,
 * or an output that replaces the one that carried the library).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * resetPlotlyEmbedding();
 * const bundle = linePlot({ x: [1], series: { loss: [1] } })[Symbol.for("Jupyter.display")]();
 * assert((bundle["text/html"] as string).includes("<script"));
 * ```
 */
export function resetPlotlyEmbedding(): void {
  plotlyEmbedded = false;
}

function plotlyScript(): string {
  if (plotlyEmbedded) return "";
  let source: string;
  try {
    source = Deno.readTextFileSync(PLOTLY_PATH);
  } catch {
    return `<p>Plotly is not installed at ${PLOTLY_PATH}: run "deno task setup".</p>`;
  }
  plotlyEmbedded = true;
  // "</script" inside the library would end the tag early.
  return `<script type="text/javascript">${source.replaceAll("</script", "<\\/script")}</script>`;
}

function chartHtml(figure: PlotlyFigure): string {
  const id = `signs-chart-${Date.now().toString(36)}-${++chartCounter}`;
  const json = JSON.stringify(figure).replaceAll("</", "<\\/");
  return `${plotlyScript()}<div id="${id}" style="width:100%;max-width:760px;height:420px"></div>` +
    `<script type="text/javascript">(function () {` +
    `var el = document.getElementById("${id}"); var fig = ${json};` +
    `if (window.Plotly) { window.Plotly.newPlot(el, fig.data, fig.layout, {responsive: true}); }` +
    ` else { el.textContent = "Plotly is not loaded in this page: run the notebook from the top ` +
    `(its first chart carries the library)."; }})();</script>`;
}

/**
 * Wraps a Plotly figure (any trace types of Plotly's cartesian bundle) as a chart for a notebook.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const view = chart({ data: [{ type: "bar", x: ["a", "b"], y: [3, 1] }], layout: {} });
 * const bundle = view[Symbol.for("Jupyter.display")]();
 * assertEquals(Object.keys(bundle), ["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
 * ```
 */
export function chart(figure: PlotlyFigure): ChartView {
  return displayable({ figure }, (): MimeBundle => ({
    "application/vnd.plotly.v1+json": { data: figure.data, layout: figure.layout },
    "text/html": chartHtml(figure),
    "text/plain": `Plotly chart: ${String((figure.layout.title as { text?: string })?.text ?? "")}`,
  }));
}

/** Options of {@linkcode linePlot}. */
export interface LinePlotOptions {
  /** The x values, shared by every series. */
  x: number[];
  /** One line per entry: name to y values (as many as `x`). */
  series: Record<string, number[]>;
  /** The chart's title. */
  title?: string;
  /** The x axis label. */
  xLabel?: string;
  /** The y axis label. */
  yLabel?: string;
}

/**
 * A line chart of one or more series over the same x values, as `df.plot(xlabel=...)` draws them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const view = linePlot({ x: [1, 2], series: { loss: [0.9, 0.5] }, xLabel: "Epoch" });
 * assertEquals(view.figure.data[0].y, [0.9, 0.5]);
 * ```
 */
export function linePlot(options: LinePlotOptions): ChartView {
  const { x, series } = options;
  const names = Object.keys(series);
  if (names.length === 0) throw new RangeError("Cannot draw a line chart without series");
  for (const name of names) {
    if (!Array.isArray(series[name]) || series[name].length !== x.length) {
      throw new RangeError(
        `Cannot draw series "${name}": it has ${
          series[name]?.length
        } values for ${x.length} x values`,
      );
    }
  }
  return chart({
    data: names.map((name) => ({ type: "scatter", mode: "lines", name, x, y: series[name] })),
    layout: {
      title: { text: options.title ?? "" },
      xaxis: { title: { text: options.xLabel ?? "" } },
      yaxis: { title: { text: options.yLabel ?? "" } },
      margin: { t: 50, r: 20 },
    },
  });
}

/** Options of {@linkcode heatmap}. */
export interface HeatmapOptions {
  /** Values, one row per y label. */
  z: number[][];
  /** Column labels. */
  x: string[];
  /** Row labels. */
  y: string[];
  /** The chart's title. */
  title?: string;
  /** The x axis label. */
  xLabel?: string;
  /** The y axis label. */
  yLabel?: string;
}

/**
 * A heat map with the value written in each cell (a confusion matrix, for one); larger values
 * are darker, and the first row is at the top.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const view = heatmap({ z: [[3, 1], [0, 4]], x: ["0", "1"], y: ["0", "1"], xLabel: "predicted" });
 * assertEquals(view.figure.data[0].z, [[3, 1], [0, 4]]);
 * ```
 */
export function heatmap(options: HeatmapOptions): ChartView {
  const { z, x, y } = options;
  if (z.length !== y.length || z.some((row) => row.length !== x.length)) {
    throw new RangeError(
      `Cannot draw a heat map of ${z.length} rows for ${y.length} row labels and ${x.length} column labels`,
    );
  }
  const max = Math.max(...z.flat());
  const annotations = z.flatMap((row, i) =>
    row.map((v, j) => ({
      x: x[j],
      y: y[i],
      text: String(v),
      showarrow: false,
      font: { color: v > max / 2 ? "white" : "black" },
    }))
  );
  return chart({
    // Plotly's "Blues" runs from dark to light: reversed, larger counts are darker.
    data: [{ type: "heatmap", z, x, y, colorscale: "Blues", reversescale: true }],
    layout: {
      title: { text: options.title ?? "" },
      xaxis: { title: { text: options.xLabel ?? "" }, type: "category" },
      yaxis: { title: { text: options.yLabel ?? "" }, type: "category", autorange: "reversed" },
      annotations,
      width: 520,
      height: 480,
    },
  });
}
