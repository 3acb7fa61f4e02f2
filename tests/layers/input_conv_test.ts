import { assert, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { conv2dBySeparateOps, inputConv2d } from "@lib/layers/input_conv.ts";
import { relativeError } from "../_compare.ts";

await tf.setBackend("cpu");

const CASES = [
  { kernelSize: 4, strides: 1, padding: "same" },
  { kernelSize: 3, strides: 2, padding: "valid" },
] as const;

for (const { kernelSize, strides, padding } of CASES) {
  Deno.test(`inputConv2d() gives the outputs and weight gradients of a Conv2D layer: ${kernelSize}x${kernelSize}, stride ${strides}, ${padding}`, () => {
    const before = tf.memory().numTensors;
    const args = { filters: 8, kernelSize, strides, padding, activation: "relu" } as const;
    const ours = inputConv2d(args);
    const theirs = tf.layers.conv2d(args);
    const x = tf.randomNormal([2, 9, 9, 3], 0, 1, "float32", 1);
    ours.build(x.shape);
    theirs.build(x.shape);
    tf.tidy(() => {
      theirs.setWeights([
        tf.randomNormal(ours.getWeights()[0].shape, 0, 1, "float32", 2),
        tf.randomNormal([8], 0, 1, "float32", 3),
      ]);
      ours.setWeights(theirs.getWeights());
    });
    const results = [ours, theirs].map((layer) =>
      tf.tidy(() => {
        const y = layer.apply(x) as tf.Tensor;
        const r = tf.randomNormal(y.shape, 0, 1, "float32", 4);
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar,
          layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
        );
        return [y, ...Object.values(grads)].map((t) => t.dataSync() as Float32Array);
      })
    );
    assertEquals(results[0].length, 3, "output, kernel and bias gradients");
    results[1].forEach((expected, i) => {
      const error = relativeError(results[0][i], expected);
      assert(error < 1e-5, `${["output", "kernel gradient", "bias gradient"][i]}: error ${error}`);
    });
    x.dispose();
    for (const w of [...ours.weights, ...theirs.weights]) w.dispose();
    assertEquals(tf.memory().numTensors, before, "no tensors left");
  });
}

Deno.test("conv2dBySeparateOps() gives a Conv2D layer's output and input gradient", () => {
  const before = tf.memory().numTensors;
  const layer = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: "same" });
  const x = tf.randomNormal([2, 7, 7, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const [ours, theirs, gradOurs, gradTheirs] = tf.tidy(() => {
    const y = layer.apply(x) as tf.Tensor;
    const r = tf.randomNormal(y.shape, 0, 1, "float32", 6);
    const loss = (f: (t: tf.Tensor4D) => tf.Tensor) => (t: tf.Tensor) =>
      tf.sum(tf.mul(f(t as tf.Tensor4D), r));
    return [
      conv2dBySeparateOps(layer, x),
      y,
      tf.grad(loss((t) => conv2dBySeparateOps(layer, t)))(x),
      tf.grad(loss((t) => layer.apply(t) as tf.Tensor))(x),
    ].map((t) => t.dataSync() as Float32Array);
  });
  assert(relativeError(ours, theirs) < 1e-5, "output");
  assert(relativeError(gradOurs, gradTheirs) < 1e-5, "input gradient");
  assertThrows(
    () => conv2dBySeparateOps(tf.layers.dense({ units: 2, name: "d" }), x),
    TypeError,
    'layer "d" (Dense)',
  );
  x.dispose();
  for (const w of layer.weights) w.dispose();
  assertEquals(tf.memory().numTensors, before, "no tensors left");
});
