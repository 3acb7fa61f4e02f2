// A model's plan as the course draws ResNet-50 (a stem, stages of residual blocks, a head),
// read from its layer graph, and the differences between two plans. Private to models/.
//
// The plan follows the graph, not `model.layers`: TF.js orders layers of equal depth by the
// order of an addition's inputs, so two correct models can list their layers differently.
import type * as tf from "../tf.ts";
import { formatShapes } from "../util/format.ts";

type Layer = tf.layers.Layer;

/** A residual block: the layers of its main path and of its shortcut, between input and sum. */
interface BlockPlan {
  kind: "identity" | "convolutional";
  main: Layer[];
  shortcut: Layer[];
  /** The addition and the layers after it up to the next block or the head (the final ReLU). */
  tail: Layer[];
}

/** A stage: a convolutional block followed by identity blocks (or identity blocks only). */
interface StagePlan {
  blocks: BlockPlan[];
}

interface ModelPlan {
  stem: Layer[];
  stages: StagePlan[];
  head: Layer[];
}

const config = (layer: Layer) => layer.getConfig() as Record<string, unknown>;
const pair = (value: unknown) => (Array.isArray(value) ? value : [value, value]) as number[];
const size = (value: unknown) => pair(value).join("x");

/** A layer in words, as a learner writes it: "Conv2D 64 7x7 stride 2 'valid'". */
export function describeLayer(layer: Layer): string {
  const c = config(layer);
  const name = layer.getClassName();
  const stride = (
    value: unknown,
  ) => (pair(value).every((s) => s === 1) ? "" : ` stride ${size(value)}`);
  switch (name) {
    case "Conv2D":
      return `Conv2D ${c.filters} ${size(c.kernelSize)}${stride(c.strides)} '${c.padding}'`;
    case "MaxPooling2D":
    case "AveragePooling2D":
      return `${name} ${size(c.poolSize)}${stride(c.strides ?? c.poolSize)}`;
    case "ZeroPadding2D": {
      const [rows, columns] = c.padding as number[][];
      return `ZeroPadding2D ${rows[0]}x${columns[0]}`;
    }
    case "Activation":
      return c.activation === "relu" ? "ReLU" : `Activation ${c.activation}`;
    case "ReLU":
      return "ReLU";
    case "Dense":
      return `Dense ${c.units}${c.activation === "linear" ? "" : ` ${c.activation}`}`;
    default:
      return name;
  }
}

const parents = (layer: Layer): Layer[] => layer.inboundNodes[0]?.inboundLayers ?? [];
const children = (layer: Layer): Layer[] => layer.outboundNodes.map((node) => node.outboundLayer);
const isConv = (layer: Layer) => layer.getClassName() === "Conv2D";

// The chain of single-input layers that ends at `from`, back to (not including) a layer of
// `stop` or the model's input.
function chainTo(from: Layer, stop: Set<Layer>): { layers: Layer[]; start?: Layer } {
  const layers: Layer[] = [];
  let layer: Layer | undefined = from;
  while (layer && !stop.has(layer) && layer.getClassName() !== "InputLayer") {
    layers.unshift(layer);
    layer = parents(layer)[0];
  }
  return { layers, start: layer };
}

/** The plan of `model`: its stem, its stages of residual blocks and its head. */
function planOf(model: tf.LayersModel): ModelPlan {
  const layers = model.layers.filter((l) => l.getClassName() !== "InputLayer");
  const blocks: (BlockPlan & { fork?: Layer })[] = [];
  for (const add of layers.filter((l) => l.getClassName() === "Add" && parents(l).length === 2)) {
    const [a, b] = parents(add);
    const everything = new Set(chainTo(a, new Set()).layers);
    const other = chainTo(b, everything);
    const fork = other.start;
    const first = chainTo(a, new Set(fork ? [fork] : []));
    const [main, shortcut] =
      first.layers.filter(isConv).length >= other.layers.filter(isConv).length
        ? [first.layers, other.layers]
        : [other.layers, first.layers];
    const tail = [add];
    let next = children(add);
    while (next.length === 1 && /^(Activation|ReLU)$/.test(next[0].getClassName())) {
      tail.push(next[0]);
      next = children(next[0]);
    }
    blocks.push({
      kind: shortcut.some(isConv) ? "convolutional" : "identity",
      main,
      shortcut,
      tail,
      fork,
    });
  }
  if (blocks.length === 0) return { stem: layers, stages: [], head: [] };
  const stemEnd = blocks[0].fork ? layers.indexOf(blocks[0].fork) : -1;
  const lastTail = blocks[blocks.length - 1].tail;
  const headStart = layers.indexOf(lastTail[lastTail.length - 1]) + 1;
  const stages: StagePlan[] = [];
  for (const block of blocks) {
    if (block.kind === "convolutional" || stages.length === 0) stages.push({ blocks: [] });
    stages[stages.length - 1].blocks.push(block);
  }
  return { stem: layers.slice(0, stemEnd + 1), stages, head: layers.slice(headStart) };
}

/** The layers of a plan in a fixed order: stem, each block's main path, shortcut and sum, head. */
function flatten(plan: ModelPlan): Layer[] {
  const blocks = plan.stages.flatMap((s) => s.blocks);
  return [
    ...plan.stem,
    ...blocks.flatMap((b) => [...b.main, ...b.shortcut, ...b.tail]),
    ...plan.head,
  ];
}

type Step =
  | { op: "same" | "changed"; i: number; j: number }
  | { op: "missing"; j: number }
  | { op: "extra"; i: number };

// Walks two lists along their longest common subsequence: equal items, items changed in place,
// items missing from `mine` and extra items in it.
function align(mine: string[], theirs: string[]): Step[] {
  const table = mine.map(() => theirs.map(() => 0));
  const at = (i: number, j: number) => (i < mine.length && j < theirs.length ? table[i][j] : 0);
  for (let i = mine.length - 1; i >= 0; i--) {
    for (let j = theirs.length - 1; j >= 0; j--) {
      table[i][j] = mine[i] === theirs[j]
        ? at(i + 1, j + 1) + 1
        : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const steps: Step[] = [];
  let [i, j] = [0, 0];
  while (i < mine.length || j < theirs.length) {
    const both = i < mine.length && j < theirs.length;
    if (both && mine[i] === theirs[j]) steps.push({ op: "same", i: i++, j: j++ });
    else if (both && at(i + 1, j + 1) === at(i, j)) steps.push({ op: "changed", i: i++, j: j++ });
    else if (j < theirs.length && (i >= mine.length || at(i, j + 1) >= at(i + 1, j))) {
      steps.push({ op: "missing", j: j++ });
    } else steps.push({ op: "extra", i: i++ });
  }
  return steps;
}

// The differences between two lists of layer descriptions, in words.
function listDifferences(mine: string[], theirs: string[]): string[] {
  return align(mine, theirs).flatMap((step) => {
    switch (step.op) {
      case "same":
        return [];
      case "changed":
        return [`${mine[step.i]} where ${theirs[step.j]} is expected`];
      case "missing":
        return [`${theirs[step.j]} is missing`];
      case "extra":
        return [`an extra ${mine[step.i]}`];
    }
  });
}

const words = (layers: Layer[]) => layers.map(describeLayer);

const filtersOf = (stage: StagePlan) =>
  `[${stage.blocks[0].main.filter(isConv).map((l) => config(l).filters).join(", ")}]`;
const identityCount = (stage: StagePlan) =>
  stage.blocks.filter((b) => b.kind === "identity").length;
const stageWords = (stage: StagePlan) => {
  const n = identityCount(stage);
  return `filters ${filtersOf(stage)}, ${
    stage.blocks[0].kind === "convolutional" ? "a convolutional block and " : ""
  }${n} identity block${n === 1 ? "" : "s"}`;
};

function blockDifferences(where: string, mine: BlockPlan, theirs: BlockPlan): string[] {
  const out: string[] = [];
  if (mine.kind !== theirs.kind) {
    return [`${where} is an ${mine.kind} block, expected a ${theirs.kind} block`];
  }
  for (const path of ["main", "shortcut", "tail"] as const) {
    const label = { main: "main path", shortcut: "shortcut", tail: "sum and after" }[path];
    const found = listDifferences(words(mine[path]), words(theirs[path]));
    if (found.length) {
      out.push(
        `${where}'s ${label} is ${words(mine[path]).join(" → ") || "empty"}, expected ${
          words(theirs[path]).join(" → ") || "nothing"
        } (${found.join("; ")})`,
      );
    }
  }
  return out;
}

function stageDifferences(mine: StagePlan[], theirs: StagePlan[]): string[] {
  const name = (j: number) => `stage ${j + 2}`;
  const out: string[] = [];
  if (mine.length !== theirs.length) {
    out.push(`the model has ${mine.length} stages of residual blocks, expected ${theirs.length}`);
  }
  for (const step of align(mine.map(filtersOf), theirs.map(filtersOf))) {
    if (step.op === "missing") {
      out.push(`${name(step.j)} (${stageWords(theirs[step.j])}) is missing`);
    } else if (step.op === "extra") {
      out.push(`an extra stage with ${stageWords(mine[step.i])}`);
    } else {
      out.push(...compareStage(name(step.j), mine[step.i], theirs[step.j]));
    }
  }
  return out;
}

function compareStage(name: string, actual: StagePlan, expected: StagePlan): string[] {
  const out: string[] = [];
  if (filtersOf(actual) !== filtersOf(expected)) {
    out.push(`${name} has filters ${filtersOf(actual)}, expected ${filtersOf(expected)}`);
  }
  const [a, e] = [identityCount(actual), identityCount(expected)];
  if (a !== e) out.push(`${name} has ${a} identity blocks, expected ${e}`);
  const [first, wanted] = [actual.blocks[0].kind, expected.blocks[0].kind];
  if (first !== wanted) {
    out.push(`${name} starts with an ${first} block, expected a ${wanted} block`);
  }
  if (out.length > 0) return out;
  // same filters and blocks: compare the blocks layer by layer
  return expected.blocks.flatMap((block, k) =>
    blockDifferences(`${name}, block ${k + 1}`, actual.blocks[k], block)
  );
}

/** How `candidate` differs from `reference`: the first differing layer, and the named mistakes. */
export function modelDifferences(
  candidate: tf.LayersModel,
  reference: tf.LayersModel,
): { firstLayer?: string; mistakes: string[] } {
  const [mine, theirs] = [planOf(candidate), planOf(reference)];
  const describe = (l: Layer) => `${describeLayer(l)} with output ${formatShapes(l.outputShape)}`;
  const [a, b] = [flatten(mine).map(describe), flatten(theirs).map(describe)];
  const first = b.findIndex((d, i) => a[i] !== d);
  const firstLayer = first >= 0 && first < a.length
    ? `layer ${first + 1} in the order of the plan (${flatten(mine)[first].name}) is ${
      a[first]
    }, expected ${b[first]}`
    : undefined;
  const mistakes: string[] = [];
  if (theirs.stages.length === 0) {
    return { firstLayer, mistakes: listDifferences(words(mine.stem), words(theirs.stem)) };
  }
  mistakes.push(
    ...listDifferences(words(mine.stem), words(theirs.stem)).map((d) => `in the stem: ${d}`),
  );
  mistakes.push(...stageDifferences(mine.stages, theirs.stages));
  mistakes.push(
    ...listDifferences(words(mine.head), words(theirs.head)).map((d) =>
      `after the last block: ${d}`
    ),
  );
  return { firstLayer, mistakes };
}
