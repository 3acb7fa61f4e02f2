/**
 * A picture of a model's graph, drawn by Graphviz (compiled to WebAssembly, `@viz-js/viz`), so no
 * system package is needed.
 *
 * @module
 */
import { instance } from "@viz-js/viz";
import type * as tf from "../tf.ts";
import { formatShapes } from "../util/format.ts";
import { type Displayable, displayable, type MimeBundle } from "./bundle.ts";

/** Options of {@linkcode modelGraph}. */
export interface ModelGraphOptions {
  /**
   * Draw each residual block (layers named `res<stage><block>_…`) as one node. Default false: every
   * layer is a node, and blocks are framed.
   */
  collapseBlocks?: boolean;
  /** Greatest height of the picture in the notebook before it scrolls, in pixels. Default 640. */
  maxHeight?: number;
}

/** A graph picture that displays as SVG inside HTML. */
export interface ModelGraph extends Displayable {
  /** The graph in Graphviz's DOT language. */
  dot: string;
  /** The drawn picture. */
  svg: string;
}

const BLOCK = /^(res\d[a-z])_/;

const quote = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/**
 * The DOT text of a model's graph: one node per layer (or per block), edges from inbound layers.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const input = tf.input({ shape: [3], name: "x" });
 * const output = tf.layers.dense({ units: 2, name: "out" }).apply(input) as tf.SymbolicTensor;
 * const model = tf.model({ inputs: input, outputs: output });
 * assertStringIncludes(modelDot(model), '"x" -> "out";');
 * model.dispose();
 * ```
 */
export function modelDot(model: tf.LayersModel, options: ModelGraphOptions = {}): string {
  const nodeOf = (layer: tf.layers.Layer) => {
    const block = options.collapseBlocks ? BLOCK.exec(layer.name)?.[1] : undefined;
    return block ?? layer.name;
  };
  const lines = [
    `digraph ${quote(model.name)} {`,
    '  graph [rankdir=TB, ranksep=0.25, nodesep=0.3, fontname="Helvetica", fontsize=10];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f2f6fc", fontname="Helvetica", fontsize=10, height=0.3];',
    "  edge [arrowsize=0.6];",
  ];
  const clusters = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const layer of model.layers) {
    const node = nodeOf(layer);
    const block = BLOCK.exec(layer.name)?.[1];
    if (node !== layer.name) {
      if (!seen.has(node)) {
        seen.add(node);
        lines.push(
          `  ${quote(node)} [label=${quote(`${node} (residual block)`)}, fillcolor="#fdf1e4"];`,
        );
      }
      // the block's output shape is its last layer's
      lines.push(`  ${quote(node)} [xlabel=${quote(formatShapes(layer.outputShape))}];`);
      continue;
    }
    const label = `${layer.name}: ${layer.getClassName()}\\n${formatShapes(layer.outputShape)}`;
    const statement = `${quote(node)} [label=${quote(label).replaceAll("\\\\n", "\\n")}${
      layer.getClassName() === "Add" ? ', fillcolor="#e6f4ea"' : ""
    }];`;
    if (block) clusters.set(block, [...(clusters.get(block) ?? []), statement]);
    else lines.push(`  ${statement}`);
  }
  for (const [block, statements] of clusters) {
    lines.push(
      `  subgraph ${quote(`cluster_${block}`)} {`,
      `    label=${quote(block)}; style=dashed; color=gray;`,
    );
    lines.push(...statements.map((s) => `    ${s}`), "  }");
  }
  const edges = new Set<string>();
  for (const layer of model.layers) {
    for (const node of layer.inboundNodes) {
      for (const source of node.inboundLayers) {
        const from = nodeOf(source);
        const to = nodeOf(layer);
        if (from !== to) edges.add(`  ${quote(from)} -> ${quote(to)};`);
      }
    }
  }
  lines.push(...edges, "}");
  return lines.join("\n");
}

/**
 * A picture of a model's graph: each layer with its type and output shape, arrows from the layers
 * that feed it. Residual blocks are framed, and each shortcut shows as a second arrow into an
 * `Add` layer; `collapseBlocks` draws each block as one node for an overview. Displays as SVG
 * inside HTML (nbconvert's HTML export drops bare SVG outputs).
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const input = tf.input({ shape: [3], name: "x" });
 * const output = tf.layers.dense({ units: 2, name: "out" }).apply(input) as tf.SymbolicTensor;
 * const model = tf.model({ inputs: input, outputs: output });
 * const graph = await modelGraph(model);
 * assertStringIncludes(graph.svg, "out: Dense");
 * model.dispose();
 * ```
 */
export async function modelGraph(
  model: tf.LayersModel,
  options: ModelGraphOptions = {},
): Promise<ModelGraph> {
  const dot = modelDot(model, options);
  const viz = await instance();
  const svg = viz.renderString(dot, { format: "svg" });
  const maxHeight = options.maxHeight ?? 640;
  return displayable({ dot, svg }, (): MimeBundle => ({
    "text/html": `<div style="max-height:${maxHeight}px;overflow:auto;border:1px solid #ddd">${
      svg.replace(/^[\s\S]*?(<svg)/, "$1")
    }</div>`,
    "text/plain": `graph of model "${model.name}" (${model.layers.length} layers)`,
  }));
}
