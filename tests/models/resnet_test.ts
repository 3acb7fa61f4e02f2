import { assert, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import {
  convolutionalBlock,
  identityBlock,
  resNet50,
  setBatchNormMode,
} from "@lib/models/resnet.ts";
import { seedRandom } from "@lib/training/random.ts";

await tf.setBackend("cpu");

// A plain-JavaScript reference for blocks whose weights are all 1 and biases 0: every channel of
// every layer then holds the same value, so a feature map is one number per (image, row, column).
type Map3 = number[][][];
const EPS = 0.001;

function conv(
  x: Map3,
  inChannels: number,
  k: number,
  stride: number,
  padding: "same" | "valid",
): Map3 {
  const h = x[0].length;
  const out = padding === "same" ? Math.ceil(h / stride) : Math.floor((h - k) / stride) + 1;
  const before = padding === "same" ? Math.floor(Math.max((out - 1) * stride + k - h, 0) / 2) : 0;
  return x.map((img) =>
    Array.from({ length: out }, (_, i) =>
      Array.from({ length: out }, (_, j) => {
        let sum = 0;
        for (let di = 0; di < k; di++) {
          for (let dj = 0; dj < k; dj++) {
            const r = i * stride + di - before;
            const c = j * stride + dj - before;
            if (r >= 0 && r < h && c >= 0 && c < h) sum += img[r][c];
          }
        }
        return sum * inChannels;
      }))
  );
}

function batchNorm(x: Map3, training: boolean): Map3 {
  if (!training) return x.map((img) => img.map((row) => row.map((v) => v / Math.sqrt(1 + EPS))));
  const all = x.flat(2);
  const mean = all.reduce((a, b) => a + b) / all.length;
  const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length;
  return x.map((img) => img.map((row) => row.map((v) => (v - mean) / Math.sqrt(variance + EPS))));
}

const relu = (x: Map3): Map3 => x.map((img) => img.map((row) => row.map((v) => Math.max(v, 0))));
const add = (a: Map3, b: Map3): Map3 =>
  a.map((img, n) => img.map((row, i) => row.map((v, j) => v + b[n][i][j])));

// The course's graded input: three 4x4x3 images filled with -1, 1 and 3.
const FILLS = [-1, 1, 3];
const courseInput = (): tf.Tensor4D =>
  tf.concat(FILLS.map((v) => tf.fill([1, 4, 4, 3], v))) as tf.Tensor4D;
const courseMap = (): Map3 =>
  FILLS.map((v) => Array.from({ length: 4 }, () => new Array(4).fill(v)));

async function assertMapsClose(
  actual: tf.Tensor4D,
  expected: Map3,
  tolerance: number,
): Promise<void> {
  const values = (await actual.array()) as number[][][][];
  values.forEach((img, n) =>
    img.forEach((row, i) =>
      row.forEach((pixel, j) =>
        pixel.forEach((v, c) => {
          const e = expected[n][i][j];
          assert(
            Math.abs(v - e) <= tolerance * Math.max(1, Math.abs(e)),
            `[${n},${i},${j},${c}]: ${v} vs ${e}`,
          );
        })
      )
    )
  );
}

const ones = () => tf.initializers.constant({ value: 1 });

for (const training of [false, true]) {
  Deno.test(`identityBlock() with weights 1 matches the hand-derived values, training=${training}`, async () => {
    const x = courseInput();
    const before = tf.memory().numTensors;
    const y = identityBlock(x, 2, [4, 4, 3], { training, initializer: ones() });
    assertEquals(tf.memory().numTensors, before + 1, "only the output remains");
    assertEquals(y.shape, [3, 4, 4, 3]);
    let m = relu(batchNorm(conv(courseMap(), 3, 1, 1, "valid"), training));
    m = relu(batchNorm(conv(m, 4, 2, 1, "same"), training));
    m = batchNorm(conv(m, 4, 1, 1, "valid"), training);
    const expected = relu(add(m, courseMap()));
    await assertMapsClose(y, expected, 1e-4);
    if (!training) {
      // Keras prints 192.71234 and 96.85617 for the second image's first and last top-row values.
      const row = (await y.array())[1][0];
      assert(
        Math.abs(row[0][0] - 192.71234) < 1e-3 && Math.abs(row[3][0] - 96.85617) < 1e-3,
        `${row[0][0]}`,
      );
    }
    tf.dispose([x, y]);
  });

  Deno.test(`convolutionalBlock() with weights 1 matches the hand-derived values, training=${training}`, async () => {
    const x = courseInput();
    const before = tf.memory().numTensors;
    const y = convolutionalBlock(x, 2, [2, 4, 6], { s: 2, training, initializer: ones() });
    assertEquals(tf.memory().numTensors, before + 1, "only the output remains");
    assertEquals(y.shape, [3, 2, 2, 6]);
    let m = relu(batchNorm(conv(courseMap(), 3, 1, 2, "valid"), training));
    m = relu(batchNorm(conv(m, 2, 2, 1, "same"), training));
    m = batchNorm(conv(m, 4, 1, 1, "valid"), training);
    const shortcut = batchNorm(conv(courseMap(), 3, 1, 2, "valid"), training);
    await assertMapsClose(y, relu(add(m, shortcut)), 1e-4);
    tf.dispose([x, y]);
  });
}

Deno.test("identityBlock() and convolutionalBlock() build models from symbolic tensors", () => {
  const input = tf.input({ shape: [8, 8, 16] });
  const a = convolutionalBlock(input, 3, [4, 4, 16], { s: 2 });
  const b = identityBlock(a, 3, [4, 4, 16]);
  const model = tf.model({ inputs: input, outputs: b });
  assertEquals(b.shape, [null, 4, 4, 16]);
  const convParams = (k: number, cin: number, cout: number) => k * k * cin * cout + cout;
  const bn = (c: number) => 4 * c;
  const identity = convParams(1, 16, 4) + bn(4) + convParams(3, 4, 4) + bn(4) +
    convParams(1, 4, 16) + bn(16);
  const convolutional = identity + convParams(1, 16, 16) + bn(16);
  assertEquals(model.countParams(), identity + convolutional);
  model.dispose();
});

// The kernels of a model's Conv2D layers, by layer name.
function convKernels(model: tf.LayersModel): Map<string, Float32Array> {
  const kernels = new Map<string, Float32Array>();
  for (const layer of model.layers.filter((l) => l.getClassName() === "Conv2D")) {
    kernels.set(layer.name, layer.getWeights()[0].dataSync() as Float32Array);
  }
  return kernels;
}

// Two identity blocks of the same shape after a convolutional block, as in a stage of ResNet-50.
function stage(initialization?: "independent" | "seed0"): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 8] });
  let x = convolutionalBlock(input, 3, [2, 2, 8], { s: 1, initialization, name: "a" });
  x = identityBlock(x, 3, [2, 2, 8], { initialization, name: "b" });
  x = identityBlock(x, 3, [2, 2, 8], { initialization, name: "c" });
  return tf.model({ inputs: input, outputs: x });
}

Deno.test("identityBlock() draws the course's uniform ±0.05 from Math.random, without a fixed seed", () => {
  const input = tf.input({ shape: [4, 4, 8] });
  const block = tf.model({ inputs: input, outputs: identityBlock(input, 3, [2, 2, 8]) });
  for (const layer of block.layers.filter((l) => l.getClassName() === "Conv2D")) {
    const init = layer.getConfig().kernelInitializer as {
      className: string;
      config: Record<string, unknown>;
    };
    assertEquals(init.className, "RandomUniform");
    assertEquals([init.config.minval, init.config.maxval, init.config.seed], [
      -0.05,
      0.05,
      undefined,
    ]);
    const kernel = layer.getWeights()[0].dataSync();
    assert(kernel.every((v) => v >= -0.05 && v <= 0.05), `${layer.name} outside ±0.05`);
  }
  block.dispose();
});

Deno.test("identityBlock() and convolutionalBlock() start same-shaped layers apart, and the seed decides", () => {
  seedRandom(1);
  const first = stage();
  seedRandom(1);
  const again = stage();
  seedRandom(2);
  const other = stage();
  const [k1, k1again, k2] = [first, again, other].map(convKernels);
  // Same seed, same weights; another seed, other weights.
  for (const [name, kernel] of k1) {
    assertEquals(Array.from(k1again.get(name)!), Array.from(kernel), name);
    assert(kernel.some((v, i) => v !== k2.get(name)![i]), `${name} did not change with the seed`);
  }
  // The two identity blocks' layers of the same shape differ.
  assert(k1.get("b_conv_a")!.some((v, i) => v !== k1.get("c_conv_a")![i]));
  for (const model of [first, again, other]) model.dispose();
});

Deno.test('identityBlock() and convolutionalBlock() with initialization "seed0" repeat the seeded sequence', () => {
  seedRandom(1);
  const first = stage("seed0");
  seedRandom(2);
  const other = stage("seed0");
  const [k1, k2] = [first, other].map(convKernels);
  assertEquals(Array.from(k1.get("b_conv_a")!), Array.from(k1.get("c_conv_a")!));
  assertEquals(Array.from(k1.get("b_conv_b")!), Array.from(k1.get("c_conv_b")!));
  for (const [name, kernel] of k1) assertEquals(Array.from(k2.get(name)!), Array.from(kernel));
  const init = first.getLayer("b_conv_a").getConfig().kernelInitializer as {
    config: Record<string, unknown>;
  };
  assertEquals(init.config.seed, 0);
  first.dispose();
  other.dispose();
  assertThrows(
    () =>
      identityBlock(tf.input({ shape: [4, 4, 8] }), 3, [2, 2, 8], {
        initialization: "seed1" as "seed0",
      }),
    RangeError,
    'initialization "seed1", expected "independent" or "seed0"',
  );
});

Deno.test("identityBlock() and convolutionalBlock() reject bad arguments with clear errors", () => {
  const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
  assertThrows(
    () => identityBlock(x, 2, [4, 4, 5]),
    TypeError,
    "the input has 3 channels but F3 = 5",
  );
  assertThrows(() => identityBlock(x, 0, [4, 4, 3]), RangeError, "kernel size f = 0");
  assertThrows(() => convolutionalBlock(x, 2, [4, 4]), TypeError, "filters [4, 4]");
  assertThrows(() => convolutionalBlock(x, 2, [4, 4, 4], { s: 0 }), RangeError, "stride s = 0");
  const flat = tf.zeros([4, 3]);
  assertThrows(() => identityBlock(flat as tf.Tensor4D, 2, [4, 4, 3]), TypeError, "shape [4, 3]");
  tf.dispose([x, flat]);
});

Deno.test("resNet50() has Keras's parameter counts and output shapes", () => {
  const before = tf.memory().numTensors;
  const model = resNet50();
  const total = model.countParams();
  const trainable = model.trainableWeights.reduce(
    (n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1),
    0,
  );
  assertEquals([total, trainable, total - trainable], [23_600_006, 23_546_886, 53_120]);
  const shape = (name: string) => JSON.stringify(model.getLayer(name).outputShape);
  assertEquals(
    [
      "zero_padding",
      "conv1",
      "pool1",
      "res2c_out",
      "res3d_out",
      "res4f_out",
      "res5c_out",
      "avg_pool",
      "flatten",
      "fc",
    ]
      .map(shape),
    [
      "[null,70,70,3]",
      "[null,32,32,64]",
      "[null,15,15,64]",
      "[null,15,15,256]",
      "[null,8,8,512]",
      "[null,4,4,1024]",
      "[null,2,2,2048]",
      "[null,1,1,2048]",
      "[null,2048]",
      "[null,6]",
    ],
  );
  assertEquals(model.layers.filter((l) => l.getClassName() === "Conv2D").length, 53);
  assertEquals(model.layers.filter((l) => l.getClassName() === "Add").length, 16);
  model.dispose();
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("resNet50() with shortcuts: false builds the same main paths without adds or shortcut branches", () => {
  const before = tf.memory().numTensors;
  const residual = resNet50();
  const plain = resNet50({ shortcuts: false });
  // The four shortcut branches: 1x1 convolutions 64, 256, 512, 1024 -> 256, 512, 1024, 2048 with
  // their biases, and their batch normalisations (4 numbers per channel).
  const branches = [[64, 256], [256, 512], [512, 1024], [1024, 2048]]
    .reduce((n, [cin, cout]) => n + cin * cout + cout + 4 * cout, 0);
  assertEquals(branches, 2_788_096);
  assertEquals(plain.countParams(), 23_600_006 - branches);
  const names = (model: tf.LayersModel) => model.layers.map((l) => l.name);
  const dropped = /_(add|conv_shortcut|bn_shortcut)$/;
  assertEquals(names(plain), names(residual).filter((name) => !dropped.test(name)));
  assertEquals(plain.layers.filter((l) => l.getClassName() === "Add").length, 0);
  for (const name of ["res2a_out", "res3a_out", "res5c_out", "fc"]) {
    assertEquals(plain.getLayer(name).outputShape, residual.getLayer(name).outputShape);
  }
  // Each block's output is the ReLU of its last batch normalisation.
  const inbound = plain.getLayer("res3b_out").inboundNodes[0].inboundLayers;
  assertEquals(inbound.map((l) => l.name), ["res3b_bn_c"]);
  residual.dispose();
  plain.dispose();
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("resNet50() rejects shortcuts that are not a boolean", () => {
  assertThrows(
    () => resNet50({ shortcuts: "no" as unknown as boolean }),
    TypeError,
    "shortcuts no",
  );
});

async function blockNormMeans(options: { training?: boolean | null }): Promise<Float32Array> {
  const model = resNet50({ inputShape: [40, 40, 3], classes: 3, ...options });
  const bn = model.getLayer("res2a_bn_a");
  const probe = tf.model({ inputs: model.inputs, outputs: bn.output as tf.SymbolicTensor });
  const x = tf.randomUniform([4, 40, 40, 3], 0, 1, "float32", 1);
  const y = probe.predict(x) as tf.Tensor;
  const mean = tf.mean(y, [0, 1, 2]);
  const values = (await mean.data()) as Float32Array;
  tf.dispose([x, y, mean]);
  model.dispose();
  return values;
}

Deno.test("resNet50() blocks normalise with batch statistics also in predict, as the course's do", async () => {
  const means = await blockNormMeans({});
  assert(means.every((v) => Math.abs(v) < 1e-3), "per-channel means are ~0");
});

Deno.test("resNet50() with training: null lets the blocks follow the phase (moving averages in predict)", async () => {
  const means = await blockNormMeans({ training: null });
  assert(means.some((v) => Math.abs(v) > 1e-2), "inference mode does not centre the batch");
});

Deno.test('resNet50() starts its layers from independent draws; "seed0" repeats them as TF.js does', () => {
  const same = (model: tf.LayersModel, a: string, b: string) => {
    const [x, y] = [a, b].map((name) => model.getLayer(name).getWeights()[0].dataSync());
    return x.every((v, i) => v === y[i]);
  };
  const independent = resNet50();
  assert(!same(independent, "res4b_conv_a", "res4c_conv_a"));
  independent.dispose();
  const seed0 = resNet50({ initialization: "seed0" });
  assert(same(seed0, "res4b_conv_a", "res4c_conv_a"));
  seed0.dispose();
});

Deno.test("resNet50() rejects a bad number of classes", () => {
  assertThrows(() => resNet50({ classes: 0 }), RangeError, "0 classes");
});

Deno.test("resNet50() refuses images too small to reach the final pooling, naming the smallest size", () => {
  for (const shape of [[32, 32, 3], [36, 64, 3], [64, 20, 1]] as [number, number, number][]) {
    assertThrows(
      () => resNet50({ inputShape: shape }),
      RangeError,
      `Cannot build ResNet-50 for input shape [${shape.join(", ")}]: `,
    );
  }
  assertThrows(
    () => resNet50({ inputShape: [32, 32, 3] }),
    RangeError,
    "images must be at least 37x37 pixels",
  );
  // 37 leaves 2 for the pooling (1 after it); 200 leaves 7 (3): flatten has 1 * 3 * 2048 units.
  for (
    const [shape, units] of [[[37, 37, 3], 2048], [[37, 200, 1], 6144]] as [
      [number, number, number],
      number,
    ][]
  ) {
    const model = resNet50({ inputShape: shape });
    assertEquals(model.getLayer("flatten").outputShape, [null, units]);
    model.dispose();
  }
});

Deno.test("setBatchNormMode() switches every batch normalisation of a model, e.g. for one image", async () => {
  const model = resNet50({ inputShape: [40, 40, 3], classes: 3 });
  assertEquals(setBatchNormMode(model, "inference"), 53);
  const bn = model.getLayer("res2a_bn_a");
  const probe = tf.model({ inputs: model.inputs, outputs: bn.output as tf.SymbolicTensor });
  const x = tf.randomUniform([4, 40, 40, 3], 0, 1, "float32", 1);
  const y = probe.predict(x) as tf.Tensor;
  const mean = tf.mean(y, [0, 1, 2]);
  assert(
    (await mean.data()).some((v) => Math.abs(v) > 1e-2),
    "moving averages, not batch statistics",
  );
  assertEquals(bn.getConfig().training, false);
  assertThrows(() => setBatchNormMode(model, "sometimes" as never), RangeError, `"sometimes"`);
  tf.dispose([x, y, mean]);
  model.dispose();
});

Deno.test("resNet50() builds from the blocks it is given: 4 convolutional and 12 identity blocks", () => {
  const calls: string[] = [];
  const model = resNet50({
    blocks: {
      identityBlock: (x, f, filters, options) => {
        calls.push(`identity ${options.name} ${filters[2]}`);
        return identityBlock(x, f, filters, options);
      },
      convolutionalBlock: (x, f, filters, options) => {
        calls.push(`convolutional ${options.name} s=${options.s}`);
        return convolutionalBlock(x, f, filters, options);
      },
    },
  });
  assertEquals(model.countParams(), 23_600_006);
  assertEquals(calls.filter((c) => c.startsWith("convolutional")), [
    "convolutional res2a s=1",
    "convolutional res3a s=2",
    "convolutional res4a s=2",
    "convolutional res5a s=2",
  ]);
  assertEquals(calls.filter((c) => c.startsWith("identity")).length, 12);
  assertEquals(calls[1], "identity res2b 256");
  model.dispose();
});

Deno.test("resNet50() refuses blocks that are not functions, naming which", () => {
  assertThrows(
    () => resNet50({ blocks: { identityBlock: 3 as never } }),
    TypeError,
    "Cannot build ResNet-50: blocks.identityBlock is number, not a function",
  );
});
