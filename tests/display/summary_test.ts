import { assertEquals, assertStringIncludes } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { JUPYTER_DISPLAY, modelSummary, parameterCounts } from "@lib/display/mod.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";

await tf.setBackend("cpu");

Deno.test("modelSummary() lists layers, shapes, parameters and totals like Keras", () => {
  const model = convolutionalModel();
  const summary = modelSummary(model);
  assertEquals(summary.rows.length, 9);
  assertEquals(summary.rows[1], {
    layer: "conv2d_1 (Conv2D)",
    outputShape: "(None, 64, 64, 8)",
    params: 392,
    connectedTo: ["input"],
  });
  assertEquals(summary.counts, { total: 1310, trainable: 1310, nonTrainable: 0 });
  const bundle = (summary as unknown as Record<symbol, () => Record<string, string>>)
    [JUPYTER_DISPLAY]();
  assertStringIncludes(bundle["text/plain"], "Total params: 1,310");
  assertStringIncludes(bundle["text/html"], "Non-trainable params: 0");
  model.dispose();
});

Deno.test("parameterCounts() separates batch-norm moving averages as non-trainable", () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const output = tf.layers.batchNormalization().apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  assertEquals(parameterCounts(model), { total: 8, trainable: 4, nonTrainable: 4 });
  model.dispose();
});
