/**
 * Checks for learners, like the course's graded cells: run your own identity block,
 * convolutional block or model against the reference and get a clear pass, or a specific account
 * of what differs (shape, values, layers, parameter counts). A wrong answer never throws.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { type Displayable, displayable } from "../display/bundle.ts";
import { checklistHtml } from "../display/html.ts";
import { formatShape, formatShapes } from "../util/format.ts";
import { convolutionalBlock, identityBlock } from "./resnet.ts";
import { parameterCounts } from "../display/summary.ts";

/** The outcome of a check. */
export interface CheckResult extends Displayable {
  /** What was checked. */
  name: string;
  /** Whether everything matched. */
  passed: boolean;
  /** One line per difference found. */
  failures: string[];
}

/** A block function with the course's signature, as `identityBlock` has it. */
export type BlockFunction = (
  x: tf.Tensor4D,
  f: number,
  filters: [number, number, number],
  options: {
    training?: boolean;
    initializer?: ReturnType<typeof tf.initializers.constant>;
    s?: number;
  },
) => tf.Tensor;

function result(name: string, failures: string[]): CheckResult {
  const passed = failures.length === 0;
  return displayable({ name, passed, failures }, () => ({
    "text/plain": passed
      ? `✔ ${name}: all tests passed`
      : `✘ ${name}:\n${failures.map((f) => `  - ${f}`).join("\n")}`,
    "text/html": passed
      ? checklistHtml({ heading: `✔ ${name}: all tests passed`, tone: "pass" })
      : checklistHtml({
        heading: `✘ ${name}`,
        tone: "fail",
        items: failures.map((text) => ({ text })),
      }),
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
 * assertEquals(Array.from(new Set(x.dataSync())), [-1, 1, 3]);
 * x.dispose();
 * ```
 */
export function courseTestInput(): tf.Tensor4D {
  return tf.tidy(() => tf.concat([-1, 1, 3].map((v) => tf.fill([1, 4, 4, 3], v))) as tf.Tensor4D);
}

// Values are read with await data(): a backend may be unable to read its results synchronously
// (webgpu under Deno).
async function compareBlocks(
  candidate: BlockFunction,
  reference: BlockFunction,
  f: number,
  filters: [number, number, number],
  extra: { s?: number },
): Promise<string[]> {
  const failures: string[] = [];
  const x = courseTestInput();
  for (const training of [false, true]) {
    const options = { training, initializer: tf.initializers.constant({ value: 1 }), ...extra };
    const expected = reference(x, f, filters, options);
    let actual: tf.Tensor | undefined;
    try {
      actual = candidate(x, f, filters, options);
    } catch (error) {
      failures.push(`with training=${training} your function threw: ${(error as Error).message}`);
      expected.dispose();
      continue;
    }
    const where = `with training=${training}`;
    if (!(actual instanceof tf.Tensor)) {
      failures.push(`${where} your function returned ${typeof actual}, expected a tensor`);
    } else if (actual.shape.join() !== expected.shape.join()) {
      failures.push(
        `${where} the output shape is ${formatShape(actual.shape)}, expected ${
          formatShape(expected.shape)
        }`,
      );
    } else {
      const [got, want] = await Promise.all([actual.data(), expected.data()]);
      const index = want.findIndex((v, i) =>
        !(Math.abs(got[i] - v) <= 1e-4 * Math.max(1, Math.abs(v)))
      );
      if (index >= 0) {
        const position = tf.util.indexToLoc(
          index,
          expected.rank,
          tf.util.computeStrides(expected.shape),
        );
        failures.push(
          `${where} the output differs at [${position.join(", ")}]: got ${got[index]}, expected ${
            want[index]
          }` +
            (training ? "" : " (check the order of the layers, the ReLUs and the shortcut)"),
        );
      }
    }
    tf.dispose([expected, actual ?? []]);
  }
  x.dispose();
  return failures;
}

/**
 * Runs a learner's identity block on the course's test input (f = 2, filters [4, 4, 3], all
 * weights 1, batch normalisation in inference and in training mode) and compares its output with
 * {@linkcode identityBlock}'s.
 */
export async function checkIdentityBlock(candidate: BlockFunction): Promise<CheckResult> {
  return result(
    "identity block",
    await compareBlocks(candidate, identityBlock as BlockFunction, 2, [4, 4, 3], {}),
  );
}

/**
 * Runs a learner's convolutional block on the course's test input (f = 2, filters [2, 4, 6],
 * s = 2, all weights 1, both batch-normalisation modes) and compares its output with
 * {@linkcode convolutionalBlock}'s.
 */
export async function checkConvolutionalBlock(candidate: BlockFunction): Promise<CheckResult> {
  return result(
    "convolutional block",
    await compareBlocks(candidate, convolutionalBlock as BlockFunction, 2, [2, 4, 6], { s: 2 }),
  );
}

/**
 * Compares a learner's model with a reference model: the number of layers, each layer's type and
 * output shape (the first difference is reported), and the total and trainable parameter counts.
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
  const describe = (l: tf.layers.Layer) =>
    `${l.getClassName()} with output ${formatShapes(l.outputShape)}`;
  const mine = candidate.layers.map(describe);
  const theirs = reference.layers.map(describe);
  if (mine.length !== theirs.length) {
    failures.push(`the model has ${mine.length} layers, expected ${theirs.length}`);
  }
  const first = theirs.findIndex((d, i) => mine[i] !== d);
  if (first >= 0 && first < mine.length) {
    failures.push(
      `layer ${first} (${candidate.layers[first].name}) is ${mine[first]}, expected ${
        theirs[first]
      }`,
    );
  }
  const [a, b] = [parameterCounts(candidate), parameterCounts(reference)];
  if (a.total !== b.total) {
    failures.push(`the model has ${a.total} parameters, expected ${b.total}`);
  }
  if (a.trainable !== b.trainable) {
    failures.push(`the model has ${a.trainable} trainable parameters, expected ${b.trainable}`);
  }
  return result(`model "${candidate.name}"`, failures);
}
