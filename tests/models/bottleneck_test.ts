import { assert, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { bottleneckSavings, convPathCost } from "@lib/models/bottleneck.ts";
import { resNet50 } from "@lib/models/resnet.ts";
import { JUPYTER_DISPLAY } from "@lib/display/bundle.ts";

await tf.setBackend("cpu");

Deno.test("convPathCost() counts parameters and multiplies from the layers, and frees them", () => {
  const before = tf.memory().numTensors;
  // The course notes: 28x28x192 through 1x1 16 then 5x5 32.
  const path = convPathCost([28, 28, 192], [{ filters: 16, kernelSize: 1 }, {
    filters: 32,
    kernelSize: 5,
  }]);
  assertEquals(path.layers, "1x1 16 → 5x5 32");
  assertEquals(path.params, (192 * 16 + 16) + (5 * 5 * 16 * 32 + 32));
  assertEquals(path.multiplies, 12_443_648);
  assertEquals(path.outputShape, [28, 28, 32]);
  // A strided 'valid' convolution shrinks its output, and with it the multiplies.
  const strided = convPathCost([9, 9, 4], [{
    filters: 6,
    kernelSize: 3,
    strides: 2,
    padding: "valid",
  }]);
  assertEquals(strided.outputShape, [4, 4, 6]);
  assertEquals(strided.multiplies, 3 * 3 * 4 * 6 * 4 * 4);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("convPathCost() rejects bad shapes and convolutions, naming them", () => {
  assertThrows(
    () =>
      convPathCost([28, 28] as unknown as [number, number, number], [{
        filters: 1,
        kernelSize: 1,
      }]),
    TypeError,
    "input shape [28, 28]",
  );
  assertThrows(() => convPathCost([8, 8, 3], []), RangeError, "no convolutions");
  assertThrows(
    () => convPathCost([8, 8, 3], [{ filters: 4, kernelSize: 3 }, { filters: 0, kernelSize: 3 }]),
    RangeError,
    "convolution 2 (filters 0, kernel size 3, strides 1)",
  );
});

Deno.test("bottleneckSavings() costs each stage's identity block from the model's own layers", () => {
  const model = resNet50({ inputShape: [37, 37, 3], classes: 3 });
  const before = tf.memory().numTensors;
  const savings = bottleneckSavings(model);
  assertEquals(tf.memory().numTensors, before, "only the layers built for the purpose are freed");
  const stages = savings.comparisons.slice(0, 4);
  assertEquals(stages.map((c) => c.where), [2, 3, 4, 5].map((s) => `stage ${s} (res${s}b)`));
  // 37x37 images reach the stages' identity blocks at 9, 5, 3 and 2 pixels a side.
  assertEquals(stages.map((c) => c.input), [[9, 9, 256], [5, 5, 512], [3, 3, 1024], [
    2,
    2,
    2048,
  ]]);
  for (const [i, c] of stages.entries()) {
    const name = `res${i + 2}b`;
    const params = ["a", "b", "c"]
      .reduce((n, part) => n + model.getLayer(`${name}_conv_${part}`).countParams(), 0);
    assertEquals(c.withBottleneck.params, params);
    const width = c.input[2];
    assertEquals(c.without.layers, `3x3 ${width} → 3x3 ${width}`);
    assertEquals(c.without.params, 2 * (9 * width * width + width));
    // F3 = 4 F1: two full-width 3x3 take 2·9·16 / (4 + 9 + 4) = 288 / 17 times the multiplies.
    const ratio = c.without.multiplies / c.withBottleneck.multiplies;
    assert(Math.abs(ratio - 288 / 17) < 1e-9, `stage ${i + 2}: ${ratio}`);
  }
  model.getLayer("fc"); // the model given is left whole
  model.dispose();
});

Deno.test("bottleneckSavings() displays as a table in millions, with the course notes' example", () => {
  const savings = bottleneckSavings();
  const notes = savings.comparisons[4];
  assertEquals(notes.where, "course notes: 5x5, 32 filters");
  assertEquals([notes.without.multiplies, notes.withBottleneck.multiplies], [
    120_422_400,
    12_443_648,
  ]);
  assertEquals(savings.table.columns, [
    "where",
    "input",
    "with bottleneck",
    "params (M)",
    "multiplies (M)",
    "without",
    "params without (M)",
    "multiplies without (M)",
    "times fewer multiplies",
  ]);
  assertEquals(savings.table.rows[0], [
    "stage 2 (res2b)",
    "15x15x256",
    "1x1 64 → 3x3 64 → 1x1 256",
    "0.07",
    "15.67",
    "3x3 256 → 3x3 256",
    "1.18",
    "265.42",
    "16.94",
  ]);
  assertEquals(savings.table.rows[4]?.slice(3, 8), ["0.02", "12.44", "5x5 32", "0.15", "120.42"]);
  const bundle = (savings as unknown as Record<symbol, () => Record<string, string>>)
    [JUPYTER_DISPLAY]();
  assert(bundle["text/html"].startsWith("<table"), bundle["text/html"].slice(0, 80));
  assert(bundle["text/html"].includes("M: millions"));
});

Deno.test("bottleneckSavings() refuses a model without ResNet-50's block layers, naming the layer", () => {
  const input = tf.input({ shape: [8, 8, 3] });
  const model = tf.model({
    inputs: input,
    outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor,
    name: "tiny",
  });
  assertThrows(
    () => bottleneckSavings(model),
    TypeError,
    'model "tiny": it has no Conv2D layer "res2b_conv_a"',
  );
  model.dispose();
});
