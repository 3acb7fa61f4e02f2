import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { CONV_CASES, convResults, relativeError } from "../../_compare.ts";

await useBackend("wasm", { log: null });

const TOLERANCE = 1e-5;

for (const testCase of CONV_CASES) {
  const [shape, k, s, pad, co = 5] = testCase;
  Deno.test(`conv2d gradients on wasm match cpu: x ${shape}, ${k}x${k}x${co}, stride ${s}, ${pad}`, async () => {
    const expected = await convResults("cpu", testCase);
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const actual = await convResults("wasm", testCase);
    assertEquals(tf.memory().numTensors, before, "no tensors leaked");
    ["y", "dx", "dW"].forEach((name, i) => {
      const error = relativeError(actual[i], expected[i]);
      assert(error < TOLERANCE, `${name} error ${error}`);
    });
  });
}
