// What self_check.ts runs beside a learner's block: a runner that always cleans up, seeded inputs
// and weights, the comparison of two outputs, and the known-wrong blocks whose outputs name a
// learner's likely mistake. Private to models/.
import * as tf from "../tf.ts";
import { formatShape } from "../util/format.ts";
import type { Initializer } from "./resnet.ts";
import type { BlockFunction } from "./self_check.ts";

/** A block with the course's signature, as the checks call it: whatever it returns is checked. */
export type Block = (...args: Parameters<BlockFunction>) => unknown;

/** The arguments of one test of a block (run in both batch-normalisation modes). */
export interface BlockTest {
  /** Named in the messages: "the course's test". */
  name: string;
  /** Builds the input (freed after the run). */
  input: () => tf.Tensor4D;
  f: number;
  filters: [number, number, number];
  /** Builds the kernel initializer passed to the block. */
  weights: () => Initializer;
  /** The convolutional block's stride. */
  s?: number;
}

/** What a block gave in one run: its output's shape and values, or what went wrong. */
export type Outcome =
  | { kind: "tensor"; shape: number[]; values: Float32Array }
  | { kind: "threw"; message: string }
  | { kind: "not a tensor"; what: string };

/** A seeded input of `shape`, uniform in [-1, 1]; the caller owns it. */
export function seededInput(shape: [number, number, number, number], seed: string): tf.Tensor4D {
  return tf.randomUniform(shape, -1, 1, "float32", seed) as tf.Tensor4D;
}

let seededClass: (new () => Initializer) | undefined;

/**
 * An initializer whose numbers depend only on the weight's shape (uniform in ±√(3 / fan-in), so
 * that outputs stay near 1): a block gets the same weights whatever order it creates its layers
 * in, and weights of different shapes are unrelated, so channel order and kernel size matter.
 */
export function seededWeights(): Initializer {
  if (!seededClass) {
    // TF.js does not export its Initializer class; layers accept only its subclasses.
    const Base = Object.getPrototypeOf(tf.initializers.zeros().constructor) as new () => {
      apply(shape: number[]): tf.Tensor;
    };
    class ShapeSeeded extends Base {
      static className = "ShapeSeeded";
      override apply(shape: number[]): tf.Tensor {
        const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
        const limit = Math.sqrt(3 / Math.max(1, fanIn));
        return tf.randomUniform(shape, -limit, limit, "float32", `weights ${shape.join("x")}`);
      }
      getConfig() {
        return {};
      }
    }
    seededClass = ShapeSeeded as unknown as new () => Initializer;
  }
  return new seededClass();
}

function describeValue(value: unknown): string {
  if (value instanceof tf.SymbolicTensor) return "a symbolic tensor";
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : typeof value;
}

/**
 * Runs `block` on `test` in one batch-normalisation mode and reads its output with
 * `await data()` (a backend may be unable to read a result synchronously: webgpu under Deno).
 * Never rejects and leaves nothing behind: the input, the output, every intermediate tensor and
 * the weights of every layer the block created are freed.
 */
export async function runBlock(block: Block, test: BlockTest, training: boolean): Promise<Outcome> {
  const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
  const x = test.input();
  let output: tf.Tensor | undefined;
  try {
    let returned: unknown;
    output = tf.tidy(() => {
      returned = block(x, test.f, [...test.filters], {
        training,
        initializer: test.weights(),
        ...(test.s === undefined ? {} : { s: test.s }),
      });
      return returned instanceof tf.Tensor ? returned : undefined;
    });
    if (!output) return { kind: "not a tensor", what: describeValue(returned) };
    return {
      kind: "tensor",
      shape: output.shape,
      values: Float32Array.from(await output.data()),
    };
  } catch (error) {
    return { kind: "threw", message: error instanceof Error ? error.message : String(error) };
  } finally {
    if (output !== x) output?.dispose();
    x.dispose();
    const variables = tf.engine().registeredVariables;
    for (const name of Object.keys(variables)) {
      if (!variablesBefore.has(name)) variables[name].dispose();
    }
  }
}

const close = (got: number, want: number) =>
  Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want));

// An error message without the layer names TF.js numbers (conv2d_Conv2D12), with its shapes in
// a fixed order: the same mistake gives the same key whatever the layers are called.
function errorKey(message: string): string {
  const shapes = (message.match(/\[[\d, ]*\]/g) ?? []).sort().join(" ");
  return `${message.replace(/\[[\d, ]*\]/g, "[]").replace(/\b\w*_\w*\d\b/g, "")} ${shapes}`;
}

/** Whether two outcomes are the same (values within 1e-4, relative above 1). */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind === "tensor" && b.kind === "tensor") {
    return a.shape.join() === b.shape.join() && a.values.every((v, i) => close(v, b.values[i]));
  }
  if (a.kind === "threw" && b.kind === "threw") return errorKey(a.message) === errorKey(b.message);
  return a.kind === b.kind;
}

const number = (v: number) => String(Number(v.toPrecision(4)));

function slice(values: Float32Array, from: number, count = 4): string {
  const shown = Array.from(values.subarray(from, from + count), number).join(", ");
  return `[${shown}${from + count < values.length ? ", …" : ""}]`;
}

/**
 * How `actual` differs from `expected`, with values of both side by side; undefined when they
 * are the same.
 */
export function describeDifference(actual: Outcome, expected: Outcome): string | undefined {
  if (sameOutcome(actual, expected)) return undefined;
  if (expected.kind !== "tensor") {
    return `the reference itself failed (${
      expected.kind === "threw" ? expected.message : expected.what
    })`;
  }
  const want = `${formatShape(expected.shape)} ${slice(expected.values, 0)}`;
  if (actual.kind === "threw") return `your function threw: ${actual.message}`;
  if (actual.kind === "not a tensor") {
    return `your function returned ${actual.what}, expected a tensor of shape ${
      formatShape(expected.shape)
    }`;
  }
  if (actual.shape.join() !== expected.shape.join()) {
    return `the output has shape ${formatShape(actual.shape)}, expected ${
      formatShape(expected.shape)
    }: got ${formatShape(actual.shape)} ${slice(actual.values, 0)}, expected ${want}`;
  }
  const differing = expected.values.reduce(
    (n, v, i) => n + (close(actual.values[i], v) ? 0 : 1),
    0,
  );
  const first = expected.values.findIndex((v, i) => !close(actual.values[i], v));
  const at = tf.util.indexToLoc(
    first,
    expected.shape.length,
    tf.util.computeStrides(expected.shape),
  );
  return `${differing} of ${expected.values.length} values differ, the first at [${
    at.join(", ")
  }]: from there got ${slice(actual.values, first)}, expected ${
    slice(expected.values, first)
  } (shape ${formatShape(expected.shape)})`;
}

/** Which block a mistake applies to. */
export type BlockKind = "identity" | "convolutional";

// How a known-wrong block departs from the course's: each field is one mistake.
interface Departure {
  noReluAfterAdd?: true;
  reluBeforeAdd?: true;
  addBeforeLastBn?: true;
  noShortcut?: true;
  middlePadding?: "valid";
  middleKernel?: number;
  swapF1F2?: true;
  batchNormTraining?: "never passed" | "always true";
  stride?: "middle" | "last" | "nowhere";
  shortcutStride?: 1;
  shortcut?: "without bn" | "with relu" | "the input";
  shortcutKernel?: "f valid" | "f same";
  shortcutFilters?: "F1";
  returnsInput?: true;
}

/** A mistake learners make, and the block built with it. */
export interface Mistake {
  /** The blocks it can happen in. */
  kinds: BlockKind[];
  /** What is wrong, completing "a block in which …". */
  what: string;
  /** How to put it right. */
  fix: string;
  departure: Departure;
}

const BOTH: BlockKind[] = ["identity", "convolutional"];
const CONV: BlockKind[] = ["convolutional"];

/** The mistakes the checks recognise, as learners of the course make them. */
export const MISTAKES: Mistake[] = [
  {
    kinds: BOTH,
    what: "nothing is computed: the block returns its input",
    fix: "write the main path, add the shortcut and apply the final ReLU",
    departure: { returnsInput: true },
  },
  {
    kinds: BOTH,
    what: "the ReLU after the addition is missing",
    fix: "apply a ReLU to the sum of the main path and the shortcut",
    departure: { noReluAfterAdd: true },
  },
  {
    kinds: BOTH,
    what: "the ReLU comes before the addition instead of after it",
    fix: "add the shortcut to the last batch normalisation's output, then apply the ReLU",
    departure: { reluBeforeAdd: true, noReluAfterAdd: true },
  },
  {
    kinds: BOTH,
    what: "a ReLU sits between the last batch normalisation and the addition",
    fix: "the main path ends with batch normalisation; its only ReLU comes after the addition",
    departure: { reluBeforeAdd: true },
  },
  {
    kinds: BOTH,
    what: "the shortcut is added before the last batch normalisation (BN and addition swapped)",
    fix: "last Conv2D, then BatchNormalization, then add the shortcut, then ReLU",
    departure: { addBeforeLastBn: true },
  },
  {
    kinds: BOTH,
    what: "the shortcut is never added",
    fix: "add the shortcut to the main path's output before the final ReLU",
    departure: { noShortcut: true },
  },
  {
    kinds: BOTH,
    what: "the f×f convolution has padding 'valid'",
    fix: "give the middle convolution padding 'same', so that it keeps the height and width",
    departure: { middlePadding: "valid" },
  },
  {
    kinds: BOTH,
    what: "the middle convolution is 1x1 instead of f×f",
    fix: "give the middle convolution kernelSize f",
    departure: { middleKernel: 1 },
  },
  {
    kinds: BOTH,
    what: "the middle convolution is 3x3 whatever f is",
    fix: "give the middle convolution kernelSize f, not a fixed 3",
    departure: { middleKernel: 3 },
  },
  {
    kinds: BOTH,
    what: "F1 and F2 are swapped",
    fix: "the first 1x1 convolution has F1 filters, the f×f one F2, the last one F3",
    departure: { swapF1F2: true },
  },
  {
    kinds: BOTH,
    what: "batch normalisation never receives `training` (so it always uses its moving averages)",
    fix: "pass it to every batch normalisation: layer.apply(x, { training: options.training })",
    departure: { batchNormTraining: "never passed" },
  },
  {
    kinds: BOTH,
    what: "batch normalisation always runs in training mode",
    fix: "pass options.training to every batch normalisation, not true",
    departure: { batchNormTraining: "always true" },
  },
  {
    kinds: BOTH,
    what: "a ReLU is applied to the shortcut before the addition",
    fix: "the shortcut enters the addition as it is (in the convolutional block: after its BN)",
    departure: { shortcut: "with relu" },
  },
  {
    kinds: CONV,
    what: "the stride s is on the f×f convolution instead of the first 1x1",
    fix: "strides s on the first 1x1 convolution and on the shortcut's; 1 elsewhere",
    departure: { stride: "middle" },
  },
  {
    kinds: CONV,
    what: "the stride s is on the last 1x1 convolution instead of the first",
    fix: "strides s on the first 1x1 convolution and on the shortcut's; 1 elsewhere",
    departure: { stride: "last" },
  },
  {
    kinds: CONV,
    what: "the main path has no stride s",
    fix: "give the first 1x1 convolution strides s",
    departure: { stride: "nowhere" },
  },
  {
    kinds: CONV,
    what: "the shortcut's convolution has no stride s",
    fix: "give the shortcut's 1x1 convolution strides s",
    departure: { shortcutStride: 1 },
  },
  {
    kinds: CONV,
    what: "the shortcut's batch normalisation is missing",
    fix: "the shortcut is Conv2D F3 1x1 stride s, then BatchNormalization",
    departure: { shortcut: "without bn" },
  },
  {
    kinds: CONV,
    what: "the shortcut is the input itself, as in the identity block",
    fix: "the shortcut is Conv2D F3 1x1 stride s, then BatchNormalization",
    departure: { shortcut: "the input" },
  },
  {
    kinds: CONV,
    what: "the shortcut's convolution is f×f instead of 1x1",
    fix: "give the shortcut's convolution kernelSize 1",
    departure: { shortcutKernel: "f valid" },
  },
  {
    kinds: CONV,
    what: "the shortcut's convolution is f×f instead of 1x1",
    fix: "give the shortcut's convolution kernelSize 1",
    departure: { shortcutKernel: "f same" },
  },
  {
    kinds: CONV,
    what: "the shortcut's convolution has F1 filters instead of F3",
    fix: "give the shortcut's convolution F3 filters, as the main path's last",
    departure: { shortcutFilters: "F1" },
  },
];

/**
 * The course's block with one mistake, in plain TF.js layers (its weights are freed by
 * {@linkcode runBlock}). Without a departure it is the course's block.
 */
export function mistakenBlock(kind: BlockKind, departure: Departure = {}): Block {
  return (x, f, filters, options) => {
    if (departure.returnsInput) return x;
    const [f1, f2, f3] = departure.swapF1F2 ? [filters[1], filters[0], filters[2]] : filters;
    const s = kind === "convolutional" ? options.s ?? 2 : 1;
    const training = departure.batchNormTraining === "never passed"
      ? undefined
      : departure.batchNormTraining === "always true"
      ? true
      : options.training;
    const conv = (y: tf.Tensor, n: number, k: number, strides: number, padding: "same" | "valid") =>
      tf.layers.conv2d({
        filters: n,
        kernelSize: k,
        strides,
        padding,
        kernelInitializer: options.initializer,
      }).apply(y) as tf.Tensor;
    const bn = (y: tf.Tensor) =>
      tf.layers.batchNormalization({ axis: 3 }).apply(y, { training }) as tf.Tensor;
    const relu = (y: tf.Tensor) => tf.layers.reLU().apply(y) as tf.Tensor;
    const add = (a: tf.Tensor, b: tf.Tensor) => tf.layers.add().apply([a, b]) as tf.Tensor;
    const strideOn = (where: "first" | "middle" | "last") =>
      (departure.stride ?? "first") === where ? s : 1;

    let y = relu(bn(conv(x, f1, 1, strideOn("first"), "valid")));
    y = relu(
      bn(
        conv(
          y,
          f2,
          departure.middleKernel ?? f,
          strideOn("middle"),
          departure.middlePadding ?? "same",
        ),
      ),
    );
    y = conv(y, f3, 1, strideOn("last"), "valid");
    let shortcut: tf.Tensor = x;
    if (kind === "convolutional" && departure.shortcut !== "the input") {
      shortcut = conv(
        x,
        departure.shortcutFilters === "F1" ? f1 : f3,
        departure.shortcutKernel ? f : 1,
        departure.shortcutStride ?? s,
        departure.shortcutKernel === "f same" ? "same" : "valid",
      );
      if (departure.shortcut !== "without bn") shortcut = bn(shortcut);
    }
    if (departure.shortcut === "with relu") shortcut = relu(shortcut);
    if (departure.addBeforeLastBn) {
      y = bn(add(y, shortcut));
    } else {
      y = bn(y);
      if (departure.reluBeforeAdd) y = relu(y);
      if (!departure.noShortcut) y = add(y, shortcut);
    }
    return departure.noReluAfterAdd ? y : relu(y);
  };
}

/** One run of a check: a test in one batch-normalisation mode, and what the blocks gave. */
export interface BlockRun {
  test: BlockTest;
  training: boolean;
  expected: Outcome;
  actual: Outcome;
}

/**
 * Hints from the pattern of the failed runs, when no known mistake gives the same outputs.
 * `main` and `shortcut` spell out the course's block.
 */
export function hints(runs: BlockRun[], kind: BlockKind): string[] {
  const failed = runs.filter((r) => !sameOutcome(r.actual, r.expected));
  const found: string[] = [];
  const broadcast = failed.find((r) =>
    r.actual.kind === "threw" && /broadcast/.test(r.actual.message)
  );
  if (broadcast) {
    found.push(
      kind === "convolutional"
        ? "the two inputs of the addition have different shapes: the f×f convolution needs " +
          "padding 'same', the stride s belongs on the first 1x1 convolution and on the " +
          "shortcut's, and the last convolution and the shortcut's need F3 filters"
        : "the two inputs of the addition have different shapes: the f×f convolution needs " +
          "padding 'same', no convolution has a stride, and the last one needs F3 filters",
    );
  }
  const shapes = failed.flatMap((r) =>
    r.actual.kind === "tensor" && r.expected.kind === "tensor" &&
      r.actual.shape.join() !== r.expected.shape.join()
      ? [{ actual: r.actual.shape, expected: r.expected.shape }]
      : []
  );
  if (shapes.some((s) => s.actual[3] !== s.expected[3])) {
    found.push(
      "the output has the wrong number of channels: the last convolution needs F3 filters",
    );
  }
  if (shapes.some((s) => s.actual[1] !== s.expected[1] || s.actual[2] !== s.expected[2])) {
    found.push(
      "the output has the wrong height or width: check the strides (s only on the first 1x1 " +
        "convolution and on the shortcut's) and the middle convolution's padding ('same')",
    );
  }
  if (found.length > 0 || failed.some((r) => r.actual.kind !== "tensor")) return found;
  if (failed.every((r) => r.training)) {
    found.push(
      "only the runs with training=true differ: pass `training` to every batch normalisation, " +
        "as layer.apply(x, { training: options.training }), and check that each BN is where " +
        "the course has it (batch statistics make a missing or extra BN visible)",
    );
  } else if (failed.every((r) => r.test === runs[runs.length - 1].test)) {
    found.push(
      "the course's constant test passes but the random one does not: with equal weights and " +
        "constant images the order of the filters, the kernel sizes and the padding hardly " +
        "matter; check [F1, F2, F3], kernelSize f and padding 'same' of the middle convolution",
    );
  } else {
    found.push(
      "no single known mistake gives these outputs: compare your layers with the course's, " +
        "Conv2D F1 1x1 → BN → ReLU → Conv2D F2 f×f 'same' → BN → ReLU → Conv2D F3 1x1 → BN, " +
        (kind === "convolutional" ? "plus the shortcut Conv2D F3 1x1 stride s → BN, " : "") +
        "then add the shortcut and apply ReLU",
    );
  }
  return found;
}
