import { assert } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { onednn, randomData, relativeError, runOn } from "./_compare.ts";
import {
  tapwise,
  tapwiseFilterGradient,
  tapwiseForward,
  tapwiseInputGradient,
} from "@lib/backends/onednn/_tapwise.ts";
import { convGeometry } from "@lib/backends/_conv_geometry.ts";
import { openDnnl } from "@lib/backends/onednn/_ffi.ts";

const ignore = !onednn.available;

Deno.test("tapwise takes 3x3 'same' convolutions of stride 1 over at most 4 pixels, only", () => {
  const takes = (shape: number[], k: number, s: number, pad: "same" | "valid") =>
    tapwise(convGeometry(shape, [k, k, shape[3], 8], { strides: s, pad })!);
  assert(takes([32, 2, 2, 512], 3, 1, "same"), "ResNet-50's last stage");
  assert(takes([2, 1, 2, 4], 3, 1, "same"), "1x2");
  assert(takes([2, 1, 1, 4], 3, 1, "same"), "1x1");
  assert(!takes([2, 4, 4, 16], 3, 1, "same"), "4x4: too many pixels");
  assert(!takes([2, 3, 3, 16], 3, 1, "valid"), "no padding");
  assert(!takes([2, 2, 2, 16], 3, 2, "same"), "stride 2");
  assert(!takes([2, 2, 2, 16], 1, 1, "same"), "1x1 filter");
});

// Every value each function writes is checked against cpu: the outputs start as NaN.
for (const shape of [[2, 2, 2, 16], [3, 1, 2, 5], [2, 1, 1, 6]]) {
  Deno.test({
    name: `tapwise forward pass and gradients match cpu's: x ${shape}`,
    ignore,
    async fn() {
      const co = 7;
      const g = convGeometry(shape, [3, 3, shape[3], co], { strides: 1, pad: "same" })!;
      const data = [
        randomData(shape, 1),
        randomData([3, 3, shape[3], co], 2),
        randomData([g.n, g.oh, g.ow, co], 3),
      ];
      const expected = await runOn("cpu", (x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor) => {
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"), dy))
        )([x, w]);
        return [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same"), dx, dw];
      }, data);
      const dnnl = openDnnl()!;
      const [x, w, dy] = data.map((d) => d.values);
      const out = new Float32Array(dy.length).fill(NaN);
      tapwiseForward(dnnl, g, x, w, out, false);
      const dx = new Float32Array(x.length).fill(NaN);
      tapwiseInputGradient(dnnl, g, dy, w, dx);
      const dw = new Float32Array(w.length).fill(NaN);
      tapwiseFilterGradient(dnnl, g, x, dy, dw);
      [out, dx, dw].forEach((actual, i) => {
        const error = relativeError(actual, expected.values[i]);
        assert(error < 1e-5, `${["output", "dx", "dw"][i]}: relative error ${error}`);
      });
      // with `accumulate`, the forward pass adds to what the output holds
      const base = new Float32Array(out.length).fill(0.5);
      tapwiseForward(dnnl, g, x, w, base, true);
      const off = base.reduce((m, v, i) => Math.max(m, Math.abs(v - out[i] - 0.5)), 0);
      assert(off < 1e-5, `accumulated output off by ${off}`);
    },
  });
}
