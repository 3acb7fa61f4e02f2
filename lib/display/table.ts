/**
 * Tables: a `nodejs-polars` data frame, or a list of records, as an HTML table.
 *
 * @module
 */
import type pl from "nodejs-polars";
import { type Displayable, displayable, escapeHtml, type MimeBundle } from "./bundle.ts";

/** Options of {@linkcode table}. */
export interface TableOptions {
  /** Most rows shown; longer tables show their first and last rows around an ellipsis. Default 20. */
  maxRows?: number;
  /** Decimals for numbers that are not integers. Default 4. */
  decimals?: number;
  /** A caption above the table. */
  caption?: string;
}

/** A table that displays as HTML (and as aligned text). */
export interface TableView extends Displayable {
  /** The column names. */
  columns: string[];
  /** The rows shown, formatted; `null` marks the elided middle. */
  rows: (string[] | null)[];
  /** The number of rows of the whole table. */
  height: number;
}

type Row = Record<string, unknown>;

function isDataFrame(value: unknown): value is pl.DataFrame {
  // polars frames are proxies: `in` does not see their methods
  return typeof value === "object" && value !== null &&
    typeof (value as { toRecords?: unknown }).toRecords === "function";
}

function format(value: unknown, decimals: number): string {
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : value.toFixed(decimals);
  }
  if (typeof value === "bigint") return value.toString();
  if (value === null || value === undefined) return "";
  return String(value);
}

/**
 * A data frame (or an array of records) as a table for a notebook: HTML with a header row, numbers
 * right-aligned and rounded, long tables shortened to their head and tail like pandas does.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const view = table([{ epoch: 1, loss: 0.51234 }, { epoch: 2, loss: 0.4 }]);
 * assertEquals(view.columns, ["epoch", "loss"]);
 * assertEquals(view.rows, [["1", "0.5123"], ["2", "0.4000"]]);
 * ```
 */
export function table(data: pl.DataFrame | Row[], options: TableOptions = {}): TableView {
  const records: Row[] = isDataFrame(data) ? data.toRecords() as Row[] : data;
  if (!Array.isArray(records)) {
    throw new TypeError(
      `Cannot show a table of ${typeof data}: expected a data frame or an array of records`,
    );
  }
  const columns = isDataFrame(data)
    ? data.columns
    : [...new Set(records.flatMap((r) => Object.keys(r)))];
  const maxRows = options.maxRows ?? 20;
  if (!Number.isInteger(maxRows) || maxRows < 2) {
    throw new RangeError(
      `Cannot show a table of at most ${maxRows} rows: expected an integer of 2 or more`,
    );
  }
  const decimals = options.decimals ?? 4;
  const formatRow = (r: Row) => columns.map((c) => format(r[c], decimals));
  const half = Math.floor(maxRows / 2);
  const rows: (string[] | null)[] = records.length <= maxRows
    ? records.map(formatRow)
    : [...records.slice(0, half).map(formatRow), null, ...records.slice(-half).map(formatRow)];
  const numeric = columns.map((c) =>
    records.every((r) => typeof r[c] === "number" || typeof r[c] === "bigint")
  );
  return displayable({ columns, rows, height: records.length }, (): MimeBundle => {
    const align = (i: number) => (numeric[i] ? "right" : "left");
    const head = columns.map((c, i) => `<th style="text-align:${align(i)}">${escapeHtml(c)}</th>`)
      .join("");
    const body = rows.map((row) =>
      row === null
        ? `<tr>${columns.map(() => "<td>…</td>").join("")}</tr>`
        : `<tr>${
          row.map((v, i) => `<td style="text-align:${align(i)}">${escapeHtml(v)}</td>`).join("")
        }</tr>`
    ).join("");
    const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
    const widths = columns.map((c, i) =>
      Math.max(c.length, ...rows.map((r) => (r ? r[i].length : 1)))
    );
    const line = (cells: string[]) => cells.map((v, i) => v.padStart(widths[i])).join("  ");
    const text = [line(columns), ...rows.map((r) => (r ? line(r) : "…"))].join("\n");
    return {
      "text/html":
        `<table class="dataframe">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>` +
        `<p style="font-size:smaller">${records.length} rows × ${columns.length} columns</p>`,
      "text/plain": `${text}\n${records.length} rows × ${columns.length} columns`,
    };
  });
}
