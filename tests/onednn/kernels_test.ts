import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { registerOnednnBackend } from "@lib/onednn/mod.ts";
import { CONV_CASES, convResults, relativeError } from "../_compare.ts";

const status = await registerOnednnBackend();
if (!status.available) {
  console.warn(`SKIPPED: the oneDNN kernel tests do not run: ${status.reason}`);
}

// oneDNN sums in another order than the cpu backend: float32 rounding, nothing more.
const TOLERANCE = 1e-5;

for (const testCase of CONV_CASES) {
  const [shape, k, s, pad] = testCase;
  Deno.test({
    name:
      `conv2d and its gradients on onednn match cpu: x ${shape}, ${k}x${k}, stride ${s}, ${pad}`,
    ignore: !status.available,
    fn: async () => {
      const expected = await convResults("cpu", testCase);
      await tf.setBackend("onednn");
      const before = tf.memory().numTensors;
      const actual = await convResults("onednn", testCase);
      assertEquals(tf.memory().numTensors, before, "no tensors leaked");
      ["y", "dx", "dW"].forEach((name, i) => {
        const error = relativeError(actual[i], expected[i]);
        assert(error < TOLERANCE, `${name} error ${error}`);
      });
    },
  });
}

Deno.test({
  name: "fused conv2d with bias and ReLU on onednn matches cpu, also for a bias of 1 channel",
  ignore: !status.available,
  fn: async () => {
    for (const co of [1, 7]) {
      const results: Float32Array[] = [];
      for (const backend of ["cpu", "onednn"]) {
        await tf.setBackend(backend);
        const y = tf.tidy(() =>
          tf.fused.conv2d({
            x: tf.randomNormal([2, 6, 6, 3], 0, 1, "float32", 1) as tf.Tensor4D,
            filter: tf.randomNormal([3, 3, 3, co], 0, 1, "float32", 2) as tf.Tensor4D,
            bias: tf.randomNormal([co], 0, 1, "float32", 3),
            strides: 1,
            pad: "same",
            activation: "relu",
          })
        );
        results.push((await y.data()) as Float32Array);
        y.dispose();
      }
      assert(results[1].every((v) => v >= 0), "ReLU applied");
      assert(relativeError(results[1], results[0]) < TOLERANCE, `bias ${co}`);
    }
  },
});

Deno.test({
  name: "registerOnednnBackend() is idempotent and names its library",
  ignore: !status.available,
  fn: async () => {
    const again = await registerOnednnBackend();
    assert(again.available);
    assert(again.reason.includes("libdnnl"), again.reason);
  },
});
