import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import * as tf from "@lib/tf.ts";
import {
  type BlockCheckOptions,
  type BlockFunction,
  checkConvolutionalBlock,
  checkIdentityBlock,
  checkModel,
  courseTestInput,
} from "@lib/models/self_check.ts";
import { convolutionalBlock, identityBlock, resNet50 } from "@lib/models/resnet.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { JUPYTER_DISPLAY } from "@lib/display/mod.ts";

await tf.setBackend("cpu");

// Mistakes a learner makes, as the blocks below can be written with them.
type Mistake =
  | "no final relu"
  | "relu before add"
  | "extra relu before add"
  | "bn after add"
  | "no shortcut"
  | "middle valid"
  | "middle kernel 3"
  | "middle kernel 1"
  | "f1 f2 swapped"
  | "training not passed"
  | "training always true"
  | "relu on shortcut"
  | "stride on middle"
  | "stride on last"
  | "no stride on shortcut"
  | "shortcut without bn"
  | "shortcut without conv"
  | "shortcut kernel f"
  | "shortcut filters f1"
  | "own weights";

type Input = tf.Tensor4D | tf.SymbolicTensor;

// A learner's block as the course asks for it, with plain TF.js layers: tf.layers.activation,
// the shortcut computed first and added as [shortcut, main]. It never disposes its layers.
function learnerBlock(mistake?: Mistake): BlockFunction {
  return ((x: Input, f: number, [f1, f2, f3]: number[], options: BlockCheckOptions) => {
    const s = options.s ?? 1;
    const initializer = mistake === "own weights" ? undefined : options.initializer;
    const training = mistake === "training not passed"
      ? {}
      : { training: mistake === "training always true" ? true : options.training };
    if (mistake === "f1 f2 swapped") [f1, f2] = [f2, f1];
    const conv = (input: Input, filters: number, kernelSize: number, strides: number) =>
      tf.layers.conv2d({
        filters,
        kernelSize,
        strides,
        padding: kernelSize > 1 && mistake !== "middle valid" ? "same" : "valid",
        kernelInitializer: initializer,
      }).apply(input) as Input;
    const bn = (input: Input) =>
      tf.layers.batchNormalization({ axis: 3 }).apply(input, training) as Input;
    const relu = (input: Input) =>
      tf.layers.activation({ activation: "relu" }).apply(input) as Input;

    let shortcut = x;
    if (options.s !== undefined && mistake !== "shortcut without conv") {
      shortcut = conv(
        x,
        mistake === "shortcut filters f1" ? f1 : f3,
        mistake === "shortcut kernel f" ? f : 1,
        mistake === "no stride on shortcut" ? 1 : s,
      );
      if (mistake !== "shortcut without bn") shortcut = bn(shortcut);
    }
    if (mistake === "relu on shortcut") shortcut = relu(shortcut);
    const strideOn = (where: string) =>
      (mistake === "stride on middle"
          ? "middle"
          : mistake === "stride on last"
          ? "last"
          : "first") ===
          where
        ? s
        : 1;
    let y = relu(bn(conv(x, f1, 1, strideOn("first"))));
    const kernel = mistake === "middle kernel 3" ? 3 : mistake === "middle kernel 1" ? 1 : f;
    y = relu(bn(conv(y, f2, kernel, strideOn("middle"))));
    y = conv(y, f3, 1, strideOn("last"));
    if (mistake === "bn after add") {
      y = bn(tf.layers.add().apply([shortcut, y] as tf.Tensor[]) as Input);
    } else {
      y = bn(y);
      if (mistake === "relu before add" || mistake === "extra relu before add") y = relu(y);
      if (mistake !== "no shortcut") {
        y = tf.layers.add().apply([shortcut, y] as tf.Tensor[]) as Input;
      }
    }
    return mistake === "no final relu" || mistake === "relu before add" ? y : relu(y);
  }) as BlockFunction;
}

// Another correct block: tf.layers.reLU, the main path first, [main, shortcut], the 1x1
// convolutions with padding 'same' (the same numbers as 'valid' for a 1x1 kernel).
const otherCorrectBlock: BlockFunction = (x, f, [f1, f2, f3], { training, initializer, s }) => {
  const conv = (filters: number, kernelSize: number, strides = 1) =>
    tf.layers.conv2d({
      filters,
      kernelSize,
      strides,
      padding: "same",
      kernelInitializer: initializer,
    });
  const norm = () => tf.layers.batchNormalization({});
  let y = conv(f1, 1, s ?? 1).apply(x) as tf.Tensor;
  y = tf.layers.reLU().apply(norm().apply(y, { training })) as tf.Tensor;
  y = conv(f2, f).apply(y) as tf.Tensor;
  y = tf.layers.reLU().apply(norm().apply(y, { training })) as tf.Tensor;
  y = norm().apply(conv(f3, 1).apply(y), { training }) as tf.Tensor;
  const shortcut = s === undefined
    ? x
    : norm().apply(conv(f3, 1, s).apply(x), { training }) as tf.Tensor;
  return tf.layers.reLU().apply(tf.layers.add().apply([y, shortcut])) as tf.Tensor;
};

const text = (value: object) =>
  (value as unknown as Record<symbol, () => Record<string, string>>)
    [JUPYTER_DISPLAY]()["text/plain"];
const html = (value: object) =>
  (value as unknown as Record<symbol, () => Record<string, string>>)
    [JUPYTER_DISPLAY]()["text/html"];

Deno.test("checkIdentityBlock() passes the reference and two correct learner's blocks", async () => {
  for (const candidate of [identityBlock as BlockFunction, learnerBlock(), otherCorrectBlock]) {
    const check = await checkIdentityBlock(candidate);
    assertEquals([check.failures, check.diagnosis], [[], []]);
    assertEquals(text(check), "✔ identity block: all tests passed");
  }
});

Deno.test("checkConvolutionalBlock() passes the reference and two correct learner's blocks", async () => {
  for (
    const candidate of [convolutionalBlock as BlockFunction, learnerBlock(), otherCorrectBlock]
  ) {
    const check = await checkConvolutionalBlock(candidate);
    assertEquals([check.failures, check.diagnosis], [[], []]);
  }
});

// Each mistake, the blocks it can happen in, and the words of the diagnosis that name it.
const MISTAKES: [Mistake, ("identity" | "convolutional")[], string][] = [
  ["no final relu", ["identity", "convolutional"], "the ReLU after the addition is missing"],
  ["relu before add", ["identity", "convolutional"], "the ReLU comes before the addition"],
  ["extra relu before add", ["identity", "convolutional"], "a ReLU sits between the last batch"],
  ["bn after add", ["identity", "convolutional"], "BN and addition swapped"],
  ["no shortcut", ["identity", "convolutional"], "the shortcut is never added"],
  ["middle valid", ["identity", "convolutional"], "the f×f convolution has padding 'valid'"],
  ["middle kernel 3", ["identity", "convolutional"], "the middle convolution is 3x3 whatever f"],
  ["middle kernel 1", ["identity", "convolutional"], "the middle convolution is 1x1 instead"],
  ["f1 f2 swapped", ["convolutional"], "F1 and F2 are swapped"],
  ["training not passed", ["identity", "convolutional"], "never receives `training`"],
  ["training always true", ["identity", "convolutional"], "always runs in training mode"],
  ["relu on shortcut", ["identity", "convolutional"], "a ReLU is applied to the shortcut"],
  ["stride on middle", ["convolutional"], "the stride s is on the f×f convolution"],
  ["stride on last", ["convolutional"], "the stride s is on the last 1x1"],
  ["no stride on shortcut", ["convolutional"], "the shortcut's convolution has no stride s"],
  ["shortcut without bn", ["convolutional"], "the shortcut's batch normalisation is missing"],
  ["shortcut without conv", ["convolutional"], "the shortcut is the input itself"],
  ["shortcut kernel f", ["convolutional"], "the shortcut's convolution is f×f instead of 1x1"],
  ["shortcut filters f1", ["convolutional"], "the shortcut's convolution has F1 filters"],
  ["own weights", ["identity", "convolutional"], "pass options.initializer"],
];

for (const [mistake, kinds, words] of MISTAKES) {
  for (const kind of kinds) {
    const [check, name] = kind === "identity"
      ? [checkIdentityBlock, "checkIdentityBlock"]
      : [checkConvolutionalBlock, "checkConvolutionalBlock"];
    Deno.test(`${name}() fails a block with "${mistake}" and names it`, async () => {
      const before = tf.memory().numTensors;
      const result = await check(learnerBlock(mistake));
      assertEquals(tf.memory().numTensors, before);
      assert(!result.passed);
      assert(result.failures.length > 0);
      assert(
        result.diagnosis.some((line) => line.includes(words)),
        `expected "${words}" in ${JSON.stringify(result.diagnosis)}`,
      );
      assertStringIncludes(text(result), words);
      assertStringIncludes(html(result), "Likely mistake");
    });
  }
}

Deno.test("checkIdentityBlock() cannot tell F1 from F2 on the course's filters [4, 4, 3], but the random test can", async () => {
  const check = await checkIdentityBlock(learnerBlock("f1 f2 swapped"));
  assert(check.failures.every((line) => line.startsWith("the random test")));
  assertStringIncludes(check.diagnosis.join(), "F1 and F2 are swapped");
});

Deno.test("checkConvolutionalBlock() shows expected beside actual, with the shape", async () => {
  const check = await checkConvolutionalBlock(learnerBlock("no final relu"));
  assertStringIncludes(
    check.failures[0],
    "the course's test with training=false: ",
  );
  assert(
    /got \[-?[\d.]+, .*\], expected \[[\d.]+, .*\] \(shape \(3, 2, 2, 6\)\)/.test(
      check.failures[0],
    ),
  );
  const stride = await checkConvolutionalBlock(learnerBlock("no stride on shortcut"));
  assertStringIncludes(stride.failures[0], "your function threw: ");
  assertStringIncludes(stride.diagnosis.join("\n"), "the shortcut's convolution has no stride s");
});

Deno.test("checkIdentityBlock() reports a block that throws or returns no tensor, and frees everything", async () => {
  const before = tf.memory().numTensors;
  const threw = await checkIdentityBlock((x) => {
    tf.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(x);
    throw new Error("not implemented");
  });
  assertEquals(
    threw.failures[0],
    "the course's test with training=false: your function threw: not implemented",
  );
  assertEquals(threw.failures.length, 4);
  const nothing = await checkIdentityBlock((() => undefined) as unknown as BlockFunction);
  assertStringIncludes(
    nothing.failures[0],
    "your function returned undefined, expected a tensor of shape (3, 4, 4, 3)",
  );
  const wrongShape = await checkIdentityBlock((x, _f, _filters, { initializer }) =>
    tf.layers.conv2d({ filters: 5, kernelSize: 2, kernelInitializer: initializer }).apply(
      x,
    ) as tf.Tensor
  );
  assertStringIncludes(
    wrongShape.failures[0],
    "the output has shape (3, 3, 3, 5), expected (3, 4, 4, 3)",
  );
  assertStringIncludes(wrongShape.diagnosis.join(), "the wrong number of channels");
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("checkIdentityBlock() and checkConvolutionalBlock() leave no tensors behind, passing or failing", async () => {
  const before = tf.memory().numTensors;
  await checkIdentityBlock(learnerBlock());
  await checkConvolutionalBlock(learnerBlock());
  await checkConvolutionalBlock(learnerBlock("middle valid"));
  await checkIdentityBlock(learnerBlock("own weights"));
  assertEquals(tf.memory().numTensors, before);
});

// A small residual network with the course's plan, written with plain layers and the blocks
// above; every option is a mistake.
function smallResNet(
  options: {
    stages?: [number, number, number, number][];
    zeroPadding?: boolean;
    pooling?: "average" | "max";
    name?: string;
  } = {},
): tf.LayersModel {
  const stages = options.stages ?? [[4, 4, 8, 1], [8, 8, 16, 2], [16, 16, 32, 1]];
  const input = tf.input({ shape: [32, 32, 3] });
  let x = input;
  if (options.zeroPadding !== false) {
    x = tf.layers.zeroPadding2d({ padding: 3 }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.conv2d({ filters: 4, kernelSize: 7, strides: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x) as tf.SymbolicTensor;
  const block = learnerBlock() as unknown as (
    x: tf.SymbolicTensor,
    f: number,
    filters: number[],
    o: Partial<BlockCheckOptions>,
  ) => tf.SymbolicTensor;
  stages.forEach(([f1, f2, f3, identities], i) => {
    x = block(x, 3, [f1, f2, f3], { s: i === 0 ? 1 : 2 });
    for (let j = 0; j < identities; j++) x = block(x, 3, [f1, f2, f3], {});
  });
  const pool = options.pooling === "max" ? tf.layers.maxPooling2d : tf.layers.averagePooling2d;
  x = pool({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 6, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: options.name ?? "mine" });
}

Deno.test("checkModel() passes resNet50 against itself and a residual network against its twin", () => {
  const before = tf.memory().numTensors;
  const model = resNet50();
  const check = checkModel(model, () => resNet50());
  assertEquals([check.failures, check.diagnosis], [[], []]);
  model.dispose();
  const small = smallResNet();
  assert(checkModel(small, () => smallResNet()).passed);
  small.dispose();
  assertEquals(tf.memory().numTensors, before);
});

const MODEL_MISTAKES: [string, Parameters<typeof smallResNet>[0], string[]][] = [
  [
    "a stage with the wrong number of identity blocks",
    { stages: [[4, 4, 8, 1], [8, 8, 16, 1], [16, 16, 32, 1]] },
    ["stage 3 has 1 identity blocks, expected 2"],
  ],
  [
    "a missing stage",
    { stages: [[4, 4, 8, 1], [16, 16, 32, 1]] },
    [
      "the model has 2 stages of residual blocks, expected 3",
      "stage 3 (filters [8, 8, 16], a convolutional block and 2 identity blocks) is missing",
    ],
  ],
  [
    "wrong filters in a stage",
    { stages: [[4, 4, 8, 1], [8, 8, 12, 2], [16, 16, 32, 1]] },
    ["stage 3 has filters [8, 8, 12], expected [8, 8, 16]"],
  ],
  [
    "a missing ZeroPadding",
    { zeroPadding: false },
    ["in the stem: ZeroPadding2D 3x3 is missing"],
  ],
  [
    "the wrong pooling",
    { pooling: "max" },
    ["after the last block: MaxPooling2D 2x2 stride 2x2 where AveragePooling2D 2x2 stride 2x2 is expected"],
  ],
];

for (const [what, options, diagnosis] of MODEL_MISTAKES) {
  Deno.test(`checkModel() fails a model with ${what} and names it`, () => {
    const model = smallResNet(options);
    const check = checkModel(model, () => smallResNet());
    assert(!check.passed);
    assertEquals(check.diagnosis, diagnosis);
    assertStringIncludes(text(check), diagnosis[0]);
    model.dispose();
  });
}

Deno.test("checkModel() compares layers and parameter counts of a sequential model", () => {
  const reference = convolutionalModel();
  assertEquals(checkModel(convolutionalModel(), reference).failures, []);
  const input = tf.input({ shape: [64, 64, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 4, padding: "same" }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 4, strides: 4, padding: "same" }).apply(
    x,
  ) as tf.SymbolicTensor;
  const wrong = tf.model({ inputs: input, outputs: x, name: "mine" });
  const check = checkModel(wrong, reference);
  assertEquals(check.failures, [
    "the model has 4 layers, expected 9",
    `layer 3 in the order of the plan (${
      wrong.layers[3].name
    }) is MaxPooling2D 4x4 stride 4x4 with output (None, 16, 16, 8), expected MaxPooling2D 8x8 stride 8x8 with output (None, 8, 8, 8)`,
    "the model has 392 parameters, expected 1310",
    "the model has 392 trainable parameters, expected 1310",
  ]);
  wrong.dispose();
  reference.dispose();
});

Deno.test("checkModel() builds a reference from a function and frees it", () => {
  const model = convolutionalModel();
  const before = tf.memory().numTensors;
  const check = checkModel(model, () => convolutionalModel());
  assert(check.passed, check.failures.join("; "));
  assertEquals(tf.memory().numTensors, before);
  const failed = checkModel(model, () => convolutionalModel([32, 32, 3]));
  assert(!failed.passed);
  assertEquals(tf.memory().numTensors, before);
  model.dispose();
});

Deno.test("courseTestInput() is the course's X: images of -1, 1 and 3, owned by the caller", () => {
  const before = tf.memory().numTensors;
  const x = courseTestInput();
  assertEquals(x.shape, [3, 4, 4, 3]);
  assertEquals(
    tf.tidy(() => tf.mean(x, [1, 2, 3]).arraySync()),
    [-1, 1, 3],
  );
  assertEquals(tf.tidy(() => tf.sum(tf.abs(x)).arraySync()), 48 * (1 + 1 + 3));
  x.dispose();
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("checkIdentityBlock() of a block with the wrong output shape leaves no tensors behind", async () => {
  const before = tf.memory().numTensors;
  // A learner's block that forgot the last convolution's filters and never frees its layer.
  const result = await checkIdentityBlock((x) =>
    tf.layers.conv2d({ filters: 6, kernelSize: 1 }).apply(x) as tf.Tensor
  );
  assertEquals(result.passed, false);
  assertStringIncludes(
    result.failures[0],
    "the output has shape (3, 4, 4, 6), expected (3, 4, 4, 3)",
  );
  // And one that throws half-way, its first layer built.
  await checkIdentityBlock((x) => {
    const y = tf.layers.conv2d({ filters: 6, kernelSize: 1 }).apply(x) as tf.Tensor;
    return tf.layers.add().apply([y, x]) as tf.Tensor;
  });
  assertEquals(tf.memory().numTensors, before);
});
