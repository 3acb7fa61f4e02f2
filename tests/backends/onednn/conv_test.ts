import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { CONV_CASES } from "../../_compare.ts";
import { onednn, randomData, relativeError, runOn } from "./_compare.ts";

const TOLERANCE = 1e-5;

// [input shape, kernel size, stride, padding, output channels]: the shared cases of both models
// (the ones the wasm kernels are checked on), a single output channel and more odd sizes.
type Case = [[number, number, number, number], number, number, "same" | "valid", number];
const CASES: Case[] = [
  ...CONV_CASES.map(([shape, k, s, pad, co], i): Case => [shape, k, s, pad, co ?? 3 + (i % 5)]),
  [[2, 6, 6, 3], 3, 1, "same", 1],
  [[2, 12, 12, 3], 4, 2, "same", 2],
  [[1, 10, 9, 3], 2, 2, "same", 4],
  // 1x1 of stride 1, whose gradients are matrix products (sgemm), with ResNet-like channels.
  [[2, 5, 5, 16], 1, 1, "same", 24],
  [[3, 4, 3, 40], 1, 1, "valid", 8],
];

const ignore = !onednn.available;

for (const [shape, k, s, pad, co] of CASES) {
  const name = `x ${shape}, ${k}x${k}, stride ${s}, ${pad}, ${co} out`;
  const inputs = () => {
    const x = randomData(shape, 1);
    const wShape: [number, number, number, number] = [k, k, shape[3], co];
    const w = randomData(wShape, 2);
    const b = randomData([co], 3);
    const outShape = tf.tidy(() =>
      tf.conv2d(tf.zeros(shape) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, s, pad).shape
    );
    return [x, w, b, randomData(outShape, 4)];
  };

  Deno.test({
    name: `Conv2D and FusedConv2D (bias, relu) on onednn match cpu: ${name}`,
    ignore,
    async fn() {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => [
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad),
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: s,
          pad,
          bias: b,
        }),
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: s,
          pad,
          bias: b,
          activation: "relu",
        }),
      ];
      const data = inputs();
      const expected = await runOn("cpu", f, data);
      const actual = await runOn("onednn", f, data);
      assertEquals(actual.leaked, 0, "tensors leaked");
      expected.values.forEach((e, i) => {
        const error = relativeError(actual.values[i], e);
        assert(error < TOLERANCE, `output ${i}: relative error ${error}`);
      });
    },
  });

  Deno.test({
    name: `Conv2DBackpropInput and Conv2DBackpropFilter on onednn match cpu: ${name}`,
    ignore,
    async fn() {
      const grads = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) =>
        tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
          tf.sum(tf.mul(
            tf.fused.conv2d({
              x: a as tf.Tensor4D,
              filter: c as tf.Tensor4D,
              strides: s,
              pad,
              bias: d,
              activation: "relu",
            }),
            dy,
          ))
        )([x, w, b]);
      const data = inputs();
      const expected = await runOn("cpu", grads, data);
      const actual = await runOn("onednn", grads, data);
      assertEquals(actual.leaked, 0, "tensors leaked");
      ["dx", "dw", "db"].forEach((label, i) => {
        const error = relativeError(actual.values[i], expected.values[i]);
        assert(error < TOLERANCE, `${label}: relative error ${error}`);
      });
    },
  });
}

Deno.test({
  name: "Conv2D on onednn follows a filter change between calls of the same shape",
  ignore,
  async fn() {
    const data = [randomData([2, 6, 6, 3], 1), randomData([3, 3, 3, 4], 2)];
    const other = randomData([3, 3, 3, 4], 3);
    const f = (x: tf.Tensor, w: tf.Tensor) => {
      const w2 = tf.tensor(other.values, other.shape);
      const outs = [w, w2, w].map((filter) =>
        tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, "same")
      );
      w2.dispose();
      return outs;
    };
    const expected = await runOn("cpu", f, data);
    const actual = await runOn("onednn", f, data);
    assertEquals(actual.leaked, 0, "tensors leaked");
    expected.values.forEach((e, i) => {
      const error = relativeError(actual.values[i], e);
      assert(error < TOLERANCE, `call ${i}: relative error ${error}`);
    });
    assert(relativeError(expected.values[1], expected.values[0]) > 0.1, "the filters differ");
  },
});
