import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import pl from "nodejs-polars";
import { JUPYTER_DISPLAY, table } from "@lib/display/mod.ts";

const bundleOf = (value: object) =>
  (value as Record<symbol, () => Record<string, string>>)[JUPYTER_DISPLAY]();

Deno.test("table() shows a polars data frame as HTML with its values", () => {
  const frame = pl.DataFrame({ epoch: [1, 2], loss: [1.23456, 0.5], note: ["a", "<b>"] });
  const view = table(frame);
  assertEquals(view.columns, ["epoch", "loss", "note"]);
  const html = bundleOf(view)["text/html"];
  assertStringIncludes(html, '<th style="text-align:right">loss</th>');
  assertStringIncludes(html, ">1.2346</td>");
  assertStringIncludes(html, "&lt;b&gt;");
  assertStringIncludes(html, "2 rows × 3 columns");
});

Deno.test("table() shortens long tables to head and tail", () => {
  const records = Array.from({ length: 100 }, (_, i) => ({ epoch: i + 1 }));
  const view = table(records, { maxRows: 6 });
  assertEquals(view.rows, [["1"], ["2"], ["3"], null, ["98"], ["99"], ["100"]]);
  assertEquals(view.height, 100);
  assertStringIncludes(bundleOf(view)["text/plain"], "100 rows × 1 columns");
});

Deno.test("table() rejects what is not a table, and a bad row limit", () => {
  assertThrows(() => table(42 as never), TypeError, "Cannot show a table of number");
  assertThrows(() => table([], { maxRows: 1 }), RangeError, "at most 1 rows");
});
