import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { modelDot, modelGraph } from "@lib/display/mod.ts";
import { convolutionalBlock, identityBlock, resNet50 } from "@lib/models/resnet.ts";

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

// Graphviz draws each edge as an SVG group of class "edge".
const svgEdges = (svg: string) => svg.match(/class="edge"/g)?.length ?? 0;

/** Edges a graph must have: one per inbound connection of each layer. */
const inboundCount = (model: tf.LayersModel) =>
  model.layers.reduce((n, l) => n + l.inboundNodes.flatMap((node) => node.inboundLayers).length, 0);

Deno.test("modelGraph() draws both branches of a convolutional block", async () => {
  const input = tf.input({ shape: [4, 4, 3], name: "input" });
  const output = convolutionalBlock(input, 2, [2, 2, 3], { s: 2, name: "res3a" });
  const model = tf.model({ inputs: input, outputs: output, name: "block" });
  const graph = await modelGraph(model);
  for (const layer of model.layers) assertStringIncludes(graph.svg, layer.name);
  // the input feeds the main path and the shortcut's convolution; the Add layer has two inputs
  assertEquals(inboundCount(model), model.layers.length - 1 + 1);
  assertEquals(svgEdges(graph.svg), inboundCount(model));
  const into = (name: string) =>
    graph.dot.split("\n").filter((l) => l.endsWith(`-> "${name}";`)).length;
  const add = model.layers.find((l) => l.getClassName() === "Add")!;
  assertEquals(into(add.name), 2);
  model.dispose();
});

Deno.test("modelGraph() draws ResNet-50 with its 16 shortcuts", async () => {
  const model = resNet50();
  const graph = await modelGraph(model);
  const adds = model.layers.filter((l) => l.getClassName() === "Add");
  assertEquals(adds.length, 16);
  // a chain through every layer, plus the second input of each Add layer
  assertEquals(inboundCount(model), model.layers.length - 1 + adds.length);
  assertEquals(svgEdges(graph.svg), inboundCount(model));
  for (const layer of model.layers) assertStringIncludes(graph.svg, `${layer.name}: `);
  // the overview: the layers outside blocks and 16 block nodes, in one chain
  const collapsed = await modelGraph(model, { collapseBlocks: true });
  const outside = model.layers.filter((l) => !/^res\d[a-z]_/.test(l.name)).length;
  assertEquals(collapsed.svg.match(/\(residual block\)/g)?.length, 16);
  assertEquals(svgEdges(collapsed.svg), outside + 16 - 1);
  model.dispose();
});
