import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { randomData, relativeError, runOn } from "../../_compare.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

const TOLERANCE = 1e-6;

// The poolings of both models (the baseline's 8x8/8 and 4x4/4 'same', ResNet-50's 3x3/2 and 2x2
// average), and odd sizes.
const CASES = [
  ["max", [2, 16, 16, 4], 8, 8, "same"],
  ["max", [2, 8, 8, 6], 4, 4, "same"],
  ["max", [2, 15, 15, 5], 4, 4, "same"],
  ["max", [2, 9, 9, 3], 3, 2, "valid"],
  ["max", [1, 10, 11, 4], 3, 1, "same"],
  ["avg", [2, 4, 4, 8], 2, 2, "valid"],
  ["avg", [2, 9, 9, 3], 3, 2, "valid"],
  ["avg", [1, 10, 11, 4], 3, 1, "same"],
] as const;

for (const [kind, shape, size, stride, pad] of CASES) {
  Deno.test(`${kind}Pool and its gradient on webgpu match cpu: x ${shape}, ${size}x${size}, stride ${stride}, ${pad}`, async () => {
    const pool = (x: tf.Tensor) =>
      (kind === "max" ? tf.maxPool : tf.avgPool)(x as tf.Tensor4D, size, stride, pad);
    const y = tf.tidy(() => pool(tf.zeros([...shape])));
    const inputs = [randomData([...shape], 1), randomData(y.shape, 2)];
    y.dispose();
    const f = (x: tf.Tensor, dy: tf.Tensor) => [
      pool(x),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), dy)))(x),
    ];
    const expected = await runOn("cpu", f, inputs);
    const actual = await runOn("webgpu", f, inputs);
    assertEquals(actual.leaked, 0, "tensors leaked");
    ["y", "dx"].forEach((name, i) => {
      const error = relativeError(actual.values[i], expected.values[i]);
      assert(error < TOLERANCE, `${name} error ${error}`);
    });
  });
}
