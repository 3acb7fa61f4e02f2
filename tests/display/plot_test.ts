import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { heatmap, JUPYTER_DISPLAY, linePlot } from "@lib/display/mod.ts";
import { resetPlotlyEmbedding } from "@lib/display/plot.ts";

const bundleOf = (value: object) =>
  (value as Record<symbol, () => Record<string, unknown>>)[JUPYTER_DISPLAY]();

Deno.test("linePlot() carries Plotly's MIME type with every series, and embeds Plotly once", () => {
  resetPlotlyEmbedding();
  const view = linePlot({
    x: [1, 2, 3],
    series: { loss: [3, 2, 1], val_loss: [3, 2.5, 2] },
    xLabel: "Epoch",
  });
  const first = bundleOf(view);
  const figure = first["application/vnd.plotly.v1+json"] as {
    data: { name: string; y: number[] }[];
    layout: Record<string, { title: { text: string } }>;
  };
  assertEquals(figure.data.map((t) => [t.name, t.y]), [["loss", [3, 2, 1]], ["val_loss", [
    3,
    2.5,
    2,
  ]]]);
  assertEquals(figure.layout.xaxis.title.text, "Epoch");
  const firstHtml = first["text/html"] as string;
  assert(firstHtml.length > 1_000_000, "the first chart embeds the Plotly library");
  const secondHtml = bundleOf(linePlot({ x: [1], series: { a: [1] } }))["text/html"] as string;
  assert(secondHtml.length < 10_000, "later charts reuse it");
  assertStringIncludes(secondHtml, "window.Plotly.newPlot");
});

Deno.test("linePlot() and heatmap() reject mismatched data, naming it", () => {
  assertThrows(
    () => linePlot({ x: [1, 2], series: { loss: [1] } }),
    RangeError,
    `series "loss": it has 1 values for 2 x values`,
  );
  assertThrows(() => linePlot({ x: [], series: {} }), RangeError, "without series");
  assertThrows(
    () => heatmap({ z: [[1, 2]], x: ["a"], y: ["r"] }),
    RangeError,
    "1 rows for 1 row labels and 1 column labels",
  );
});

Deno.test("heatmap() writes each value in its cell", () => {
  const view = heatmap({ z: [[5, 1], [0, 6]], x: ["0", "1"], y: ["0", "1"], xLabel: "predicted" });
  const layout = view.figure.layout as { annotations: { text: string }[] };
  assertEquals(layout.annotations.map((a) => a.text), ["5", "1", "0", "6"]);
  assertEquals(view.figure.data[0].type, "heatmap");
});
