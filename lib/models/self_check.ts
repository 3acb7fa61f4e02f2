/**
 * Checks for learners, like the course's graded cells: run your own identity block,
 * convolutional block or model against the reference and get a clear pass, or what differs
 * (expected beside actual) and, where it can be told, the likely mistake. A wrong answer never
 * throws, and a check leaves no tensors behind, whatever the block does. The block checks read
 * the outputs with `await data()`, so they run on every backend (webgpu under Deno cannot read
 * a result synchronously) and are awaited: `await checkIdentityBlock(myIdentityBlock)`.
 *
 * A block is run on two tests, each with batch normalisation in inference and in training mode:
 *
 * - the course's test: images of -1, 1 and 3 and every weight 1 ({@linkcode courseTestInput}),
 *   whose expected values are the course's;
 * - a random test: a seeded random input and seeded random weights, where the order of the
 *   filters, the kernel sizes and the padding change the numbers, as they hardly do with
 *   constant images and equal weights.
 *
 * When a block fails, the check runs the course's block with each known mistake (the ReLU missing
 * or misplaced, BN and addition swapped, the wrong padding, kernel size, filters, stride or
 * shortcut, the `training` flag not passed) and names the one whose outputs are the learner's.
 * Two differences are not mistakes, because they compute the same numbers: the order of the
 * addition's inputs ([main, shortcut] or [shortcut, main]), and the padding of the 1x1
 * convolutions ('same' and 'valid' agree for a 1x1 kernel at any stride).
 *
 * @module
 */
import * as tf from "../tf.ts";
import { type Displayable, displayable } from "../display/bundle.ts";
import { checklistHtml } from "../display/html.ts";
import { convolutionalBlock, identityBlock, type Initializer } from "./resnet.ts";
import {
  type Block,
  type BlockKind,
  type BlockRun,
  type BlockTest,
  describeDifference,
  hints,
  type Mistake,
  mistakenBlock,
  MISTAKES,
  runBlock,
  sameOutcome,
  seededInput,
  seededWeights,
} from "./_block_checks.ts";
import { modelDifferences } from "./_model_plan.ts";
import { parameterCounts } from "../display/summary.ts";

/** The outcome of a check. */
export interface CheckResult extends Displayable {
  /** What was checked. */
  name: string;
  /** Whether everything matched. */
  passed: boolean;
  /** One line per difference found, with the expected and the actual values or layers. */
  failures: string[];
  /**
   * The likely mistakes, each with how to put it right (empty when the check passed). For a
   * block: the known mistakes whose outputs equal the learner's in every test, or hints from the
   * pattern of the failures when none does.
   */
  diagnosis: string[];
}

/** The options a block receives from the checks. */
export interface BlockCheckOptions {
  /**
   * Batch normalisation's mode: pass it to every batch normalisation as the course's
   * `BatchNormalization(axis=3)(X, training=training)` does, in TF.js
   * `tf.layers.batchNormalization({ axis: 3 }).apply(X, { training })`. The checks run the block
   * on concrete tensors, where TF.js honours it. In a model built from symbolic tensors TF.js
   * ignores a per-call `training` (the phase decides: training in `fit`, inference in `predict`);
   * the library's `batchNormalization({ training })` fixes the mode there too.
   */
  training: boolean;
  /** The kernel initializer: pass it as `kernelInitializer` of every convolution. */
  initializer: Initializer;
  /** The convolutional block's stride (left out for the identity block). */
  s?: number;
}

/**
 * A block function with the course's signature, as a learner writes it with plain TF.js layers:
 * `(X, f, [F1, F2, F3], { training, initializer, s })`, returning the block's output. The checks
 * free every layer weight the block creates, so it need not dispose its layers.
 */
export type BlockFunction = (
  x: tf.Tensor4D,
  f: number,
  filters: [number, number, number],
  options: BlockCheckOptions,
) => tf.Tensor;

function result(name: string, failures: string[], diagnosis: string[] = []): CheckResult {
  const passed = failures.length === 0;
  const heading = passed ? `✔ ${name}: all tests passed` : `✘ ${name}`;
  const likely = diagnosis.length === 1 ? "Likely mistake" : "Likely mistakes";
  return displayable({ name, passed, failures, diagnosis }, () => ({
    "text/plain": passed ? heading : [
      `${heading}:`,
      ...failures.map((f) => `  - ${f}`),
      ...(diagnosis.length ? [`${likely}:`, ...diagnosis.map((d) => `  → ${d}`)] : []),
    ].join("\n"),
    "text/html": passed
      ? checklistHtml({ heading, tone: "pass" })
      : checklistHtml({ heading, tone: "fail", items: failures.map((text) => ({ text })) }) +
        (diagnosis.length
          ? checklistHtml({ heading: likely, items: diagnosis.map((text) => ({ text })) })
          : ""),
  }));
}

/**
 * The course's test input for the blocks: three 4x4x3 images filled with -1, 1 and 3, as
 * `np.concatenate` of `np.ones((1, 4, 4, 3))` times -1, 1 and 3 builds it. The caller owns it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const x = courseTestInput();
 * assertEquals(x.shape, [3, 4, 4, 3]);
 * assertEquals(Array.from(new Set(await x.data())), [-1, 1, 3]);
 * x.dispose();
 * ```
 */
export function courseTestInput(): tf.Tensor4D {
  return tf.tidy(() => tf.concat([-1, 1, 3].map((v) => tf.fill([1, 4, 4, 3], v))) as tf.Tensor4D);
}

const courseWeights = () => tf.initializers.constant({ value: 1 });

/** The tests of {@linkcode checkIdentityBlock}. */
const IDENTITY_TESTS: BlockTest[] = [
  {
    name: "the course's test",
    input: courseTestInput,
    f: 2,
    filters: [4, 4, 3],
    weights: courseWeights,
  },
  {
    name: "the random test",
    input: () => seededInput([2, 5, 6, 4], "identity block"),
    f: 3,
    filters: [3, 5, 4],
    weights: seededWeights,
  },
];

/** The tests of {@linkcode checkConvolutionalBlock}. */
const CONVOLUTIONAL_TESTS: BlockTest[] = [
  {
    name: "the course's test",
    input: courseTestInput,
    f: 2,
    filters: [2, 4, 6],
    s: 2,
    weights: courseWeights,
  },
  {
    name: "the random test",
    input: () => seededInput([2, 7, 6, 3], "convolutional block"),
    f: 3,
    filters: [4, 2, 5],
    s: 2,
    weights: seededWeights,
  },
];

async function checkBlock(
  name: string,
  kind: BlockKind,
  candidate: Block,
  reference: Block,
  tests: BlockTest[],
): Promise<CheckResult> {
  const runs: BlockRun[] = [];
  for (const test of tests) {
    for (const training of [false, true]) {
      const expected = await runBlock(reference, test, training);
      const actual = await runBlock(candidate, test, training);
      runs.push({ test, training, expected, actual });
    }
  }
  const failures = runs.flatMap((run) => {
    const difference = describeDifference(run.actual, run.expected);
    return difference ? [`${run.test.name} with training=${run.training}: ${difference}`] : [];
  });
  if (failures.length === 0) return result(name, []);
  return result(name, failures, await diagnose(kind, candidate, runs));
}

// The likely mistake behind a failed block: weights not taken from the initializer (the outputs
// change from run to run), one of the known mistakes (same outputs in every run), or hints.
async function diagnose(kind: BlockKind, candidate: Block, runs: BlockRun[]): Promise<string[]> {
  const first = runs[0];
  if (!sameOutcome(await runBlock(candidate, first.test, first.training), first.actual)) {
    return [
      "your block gives other outputs each time it runs on the same input: its convolutions " +
      "draw their own random weights; pass options.initializer as the kernelInitializer of " +
      "every convolution",
    ];
  }
  const matches: Mistake[] = [];
  for (const mistake of MISTAKES.filter((m) => m.kinds.includes(kind))) {
    const block = mistakenBlock(kind, mistake.departure);
    let same = true;
    for (const run of runs) {
      same = sameOutcome(await runBlock(block, run.test, run.training), run.actual);
      if (!same) break;
    }
    if (same) matches.push(mistake);
  }
  if (matches.length > 0) {
    const lines = matches.map((m) =>
      `your block gives the outputs of a block in which ${m.what}: ${m.fix}`
    );
    return [...new Set(lines)];
  }
  return hints(runs, kind);
}

/**
 * Runs a learner's identity block on the course's test (f = 2, filters [4, 4, 3]) and on the
 * random test (f = 3, filters [3, 5, 4]), each with `training` false and true, and compares its
 * outputs with {@linkcode identityBlock}'s; a failure names the likely mistake. Resolves to the
 * result once every output has been read; it never rejects.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { identityBlock } from "./resnet.ts";
 * const check = await checkIdentityBlock(identityBlock);
 * assert(check.passed);
 * ```
 */
export function checkIdentityBlock(candidate: BlockFunction): Promise<CheckResult> {
  return checkBlock(
    "identity block",
    "identity",
    candidate,
    identityBlock as Block,
    IDENTITY_TESTS,
  );
}

/**
 * Runs a learner's convolutional block on the course's test (f = 2, filters [2, 4, 6], s = 2)
 * and on the random test (f = 3, filters [4, 2, 5], s = 2), each with `training` false and true,
 * and compares its outputs with {@linkcode convolutionalBlock}'s; a failure names the likely
 * mistake. Resolves to the result once every output has been read; it never rejects.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { identityBlock } from "./resnet.ts";
 * // The identity block in place of the convolutional one: no shortcut convolution, no stride.
 * const check = await checkConvolutionalBlock(identityBlock);
 * assertEquals(check.passed, false);
 * ```
 */
export function checkConvolutionalBlock(candidate: BlockFunction): Promise<CheckResult> {
  return checkBlock(
    "convolutional block",
    "convolutional",
    candidate,
    convolutionalBlock as Block,
    CONVOLUTIONAL_TESTS,
  );
}

/**
 * Compares a learner's model with a reference model and names what differs: the number of
 * layers, the total and trainable parameter counts, the first differing layer (type, settings
 * and output shape), and for residual networks the plan as the course draws it: the stem
 * (ZeroPadding, the 7x7 convolution, BN, ReLU, max pooling), each stage's filters and number
 * of identity blocks, each block's main path and shortcut, and the head (pooling, flatten,
 * dense). Layers are compared along the graph, so the order of an addition's inputs and
 * `tf.layers.reLU()` against `activation('relu')` make no difference.
 *
 * The reference is a model, or a function that builds one: that model is freed after the check.
 */
export function checkModel(
  candidate: tf.LayersModel,
  reference: tf.LayersModel | (() => tf.LayersModel),
): CheckResult {
  if (typeof reference === "function") {
    const built = reference();
    try {
      return checkModel(candidate, built);
    } finally {
      built.dispose();
    }
  }
  const failures: string[] = [];
  const [mine, theirs] = [candidate.layers.length, reference.layers.length];
  if (mine !== theirs) failures.push(`the model has ${mine} layers, expected ${theirs}`);
  const { firstLayer, mistakes } = modelDifferences(candidate, reference);
  if (firstLayer) failures.push(firstLayer);
  const [a, b] = [parameterCounts(candidate), parameterCounts(reference)];
  if (a.total !== b.total) {
    failures.push(`the model has ${a.total} parameters, expected ${b.total}`);
  }
  if (a.trainable !== b.trainable) {
    failures.push(`the model has ${a.trainable} trainable parameters, expected ${b.trainable}`);
  }
  if (failures.length === 0 && mistakes.length > 0) failures.push(...mistakes);
  return result(`model "${candidate.name}"`, failures, failures.length ? mistakes : []);
}
