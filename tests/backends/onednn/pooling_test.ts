import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { onednn, randomData, relativeError, runOn } from "./_compare.ts";

const TOLERANCE = 1e-6;
const ignore = !onednn.available;

// [input shape, window, stride, padding]: the models' poolings and odd sizes.
const CASES: [[number, number, number, number], number, number, "same" | "valid"][] = [
  [[2, 32, 32, 4], 3, 2, "valid"],
  [[2, 16, 16, 3], 8, 8, "same"],
  [[2, 8, 8, 5], 4, 4, "same"],
  [[2, 4, 4, 6], 2, 2, "valid"],
  [[1, 7, 9, 3], 2, 2, "same"],
  [[3, 7, 7, 2], 3, 1, "same"],
  [[1, 11, 10, 4], 3, 2, "same"],
  [[2, 9, 9, 3], 3, 2, "valid"],
];

for (const [shape, k, s, pad] of CASES) {
  const name = `x ${shape}, ${k}x${k}, stride ${s}, ${pad}`;
  for (const kind of ["max", "average"] as const) {
    const pool = (x: tf.Tensor) =>
      kind === "max"
        ? tf.maxPool(x as tf.Tensor4D, k, s, pad)
        : tf.avgPool(x as tf.Tensor4D, k, s, pad);
    Deno.test({
      name: `${kind} pooling and its gradient on onednn match cpu: ${name}`,
      ignore,
      async fn() {
        const outShape = tf.tidy(() => pool(tf.zeros(shape)).shape);
        const data = [randomData(shape, 1), randomData(outShape, 2)];
        const f = (x: tf.Tensor, dy: tf.Tensor) => [
          pool(x),
          tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), dy)))(x),
        ];
        const expected = await runOn("cpu", f, data);
        const actual = await runOn("onednn", f, data);
        assertEquals(actual.leaked, 0, "tensors leaked");
        ["y", "dx"].forEach((label, i) => {
          const error = relativeError(actual.values[i], expected.values[i]);
          assert(error < TOLERANCE, `${label}: relative error ${error}`);
        });
      },
    });
  }
}
