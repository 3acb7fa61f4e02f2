/**
 * A model's summary, as Keras's `model.summary()` prints it.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { formatCount, formatShapes } from "../util/format.ts";
import { type Displayable, displayable, escapeHtml, type MimeBundle } from "./bundle.ts";

/** A model's parameter counts. */
export interface ParameterCounts {
  /** All weights. */
  total: number;
  /** Weights that gradient descent updates. */
  trainable: number;
  /** Weights that it does not (batch-norm moving averages, for one). */
  nonTrainable: number;
}

const size = (w: { shape: (number | null)[] }) => w.shape.reduce((n: number, d) => n * (d ?? 1), 1);

/**
 * Total, trainable and non-trainable parameters of a model (or a layer).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
 * assertEquals(parameterCounts(model), { total: 8, trainable: 8, nonTrainable: 0 });
 * model.dispose();
 * ```
 */
export function parameterCounts(model: tf.LayersModel | tf.layers.Layer): ParameterCounts {
  const trainable = model.trainableWeights.reduce((n, w) => n + size(w), 0);
  const nonTrainable = model.nonTrainableWeights.reduce((n, w) => n + size(w), 0);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** One row of a summary. */
export interface SummaryRow {
  /** `name (Type)`. */
  layer: string;
  /** The output shape, as Python prints it. */
  outputShape: string;
  /** Number of parameters. */
  params: number;
  /** Names of the layers feeding this one. */
  connectedTo: string[];
}

/** A summary that displays as a table. */
export interface ModelSummary extends Displayable {
  /** The model's name. */
  name: string;
  /** One row per layer. */
  rows: SummaryRow[];
  /** The counts under the table. */
  counts: ParameterCounts;
}

/**
 * A Keras-like summary of a model: one row per layer with its type, output shape, parameter count
 * and the layers it is connected to, then the total, trainable and non-trainable parameters.
 * Displays as an HTML table (and as aligned text).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const input = tf.input({ shape: [3], name: "x" });
 * const output = tf.layers.dense({ units: 2, name: "out" }).apply(input) as tf.SymbolicTensor;
 * const model = tf.model({ inputs: input, outputs: output });
 * const summary = modelSummary(model);
 * assertEquals(summary.rows[1], {
 *   layer: "out (Dense)",
 *   outputShape: "(None, 2)",
 *   params: 8,
 *   connectedTo: ["x"],
 * });
 * model.dispose();
 * ```
 */
export function modelSummary(model: tf.LayersModel): ModelSummary {
  const rows: SummaryRow[] = model.layers.map((layer) => ({
    layer: `${layer.name} (${layer.getClassName()})`,
    outputShape: formatShapes(layer.outputShape),
    params: layer.countParams(),
    connectedTo: layer.inboundNodes.flatMap((node) => node.inboundLayers.map((l) => l.name)),
  }));
  const counts = parameterCounts(model);
  const totals = [
    `Total params: ${formatCount(counts.total)}`,
    `Trainable params: ${formatCount(counts.trainable)}`,
    `Non-trainable params: ${formatCount(counts.nonTrainable)}`,
  ];
  return displayable({ name: model.name, rows, counts }, (): MimeBundle => {
    const cells = rows.map((
      r,
    ) => [r.layer, r.outputShape, formatCount(r.params), r.connectedTo.join(", ")]);
    const header = ["Layer (type)", "Output Shape", "Param #", "Connected to"];
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) =>
      c.map((v, i) => (i === 2 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  ");
    const rule = "=".repeat(widths.reduce((a, b) => a + b + 2, -2));
    const text = [`Model: "${model.name}"`, line(header), rule, ...cells.map(line), rule, ...totals]
      .join("\n");
    const htmlRows = cells.map((c) =>
      `<tr>${
        c.map((v, i) =>
          `<td style="text-align:${i === 2 ? "right" : "left"}">${escapeHtml(v)}</td>`
        ).join("")
      }</tr>`
    ).join("");
    const html = `<div style="font-weight:bold">Model: "${escapeHtml(model.name)}"</div>` +
      `<div style="max-height:480px;overflow:auto"><table><thead><tr>${
        header.map((h) => `<th style="text-align:left">${h}</th>`).join("")
      }</tr></thead><tbody>${htmlRows}</tbody></table></div>` +
      `<pre>${totals.join("\n")}</pre>`;
    return { "text/html": html, "text/plain": text };
  });
}
