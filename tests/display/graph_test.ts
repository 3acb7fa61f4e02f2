import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { modelDot, modelGraph } from "@lib/display/mod.ts";
import { identityBlock } from "@lib/resnet.ts";

await tf.setBackend("cpu");

function blockModel(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 3], name: "input" });
  const output = identityBlock(input, 2, [2, 2, 3], { name: "res2b" });
  return tf.model({ inputs: input, outputs: output, name: "block" });
}

Deno.test("modelGraph() draws every layer and the shortcut into the Add layer", async () => {
  const model = blockModel();
  const graph = await modelGraph(model);
  for (const layer of model.layers) assertStringIncludes(graph.svg, layer.name);
  const edges = graph.dot.split("\n").filter((l) => l.includes(" -> "));
  // a chain of 11 layers after the input, plus the shortcut from the input to the Add layer
  assertEquals(edges.length, model.layers.length - 1 + 1);
  assert(edges.some((e) => e.includes('"input" -> "res2b_add"')), "shortcut edge");
  assertStringIncludes(graph.dot, 'subgraph "cluster_res2b"');
  model.dispose();
});

Deno.test("modelDot() with collapseBlocks draws a block as one node", () => {
  const model = blockModel();
  const dot = modelDot(model, { collapseBlocks: true });
  const edges = dot.split("\n").filter((l) => l.includes(" -> "));
  assertEquals(edges, ['  "input" -> "res2b";']);
  model.dispose();
});
