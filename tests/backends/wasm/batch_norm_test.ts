import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { batchNormTraining, MOVING_AVERAGES } from "@lib/ops/batch_norm.ts";
import { batchNormalization } from "@lib/layers/batch_norm.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { registerOnednnBackend } from "@lib/backends/onednn/mod.ts";
import { randomData, relativeError, runOn } from "../../_compare.ts";

const TOLERANCE = 1e-5;
const EPSILON = 0.001;

await useBackend("wasm", { log: null });
const onednn = await registerOnednnBackend();
const BACKENDS = ["wasm", ...(onednn.available ? ["onednn"] : [])];

// The composition TF.js layers use in training mode: moments, then batchNorm.
function composite(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor[] {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm(x as tf.Tensor4D, mean, variance, offset, scale, EPSILON);
  return [y, mean, variance];
}

function native(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor[] {
  return batchNormTraining(x as tf.Tensor4D, scale as tf.Tensor1D, offset as tf.Tensor1D, EPSILON);
}

// Gradients of sum(y * dy) with respect to x, scale and offset.
const gradients = (f: typeof native) => (x: tf.Tensor, s: tf.Tensor, o: tf.Tensor, dy: tf.Tensor) =>
  tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c)[0], dy)))([
    x,
    s,
    o,
  ]);

const SHAPES: [number, number, number, number][] = [
  [4, 5, 5, 3],
  [2, 8, 8, 16],
  [3, 7, 9, 64],
  [32, 2, 2, 8],
  [1, 1, 1, 5],
];

for (const shape of SHAPES) {
  const c = shape[3];
  const inputs = () => {
    const x = randomData(shape, 1);
    x.values.forEach((v, i) => (x.values[i] = 3 * v + 2)); // a mean and variance far from 0, 1
    return [x, randomData([c], 2), randomData([c], 3), randomData(shape, 4)];
  };

  for (const backend of BACKENDS) {
    Deno.test(`batchNormTraining() on ${backend} matches moments and batchNorm on cpu: [${shape}]`, async () => {
      const data = inputs().slice(0, 3);
      const expected = await runOn("cpu", composite, data);
      const actual = await runOn(backend, native, data);
      assertEquals(actual.leaked, 0, "tensors leaked");
      ["y", "mean", "variance"].forEach((label, i) => {
        const error = relativeError(actual.values[i], expected.values[i]);
        assert(error < TOLERANCE, `${label}: relative error ${error}`);
      });
    });

    Deno.test(`batchNormTraining() gradients on ${backend} match those of moments and batchNorm on cpu: [${shape}]`, async () => {
      const data = inputs();
      const expected = await runOn("cpu", gradients(composite), data);
      const actual = await runOn(backend, gradients(native), data);
      assertEquals(actual.leaked, 0, "tensors leaked");
      ["dx", "dscale", "doffset"].forEach((label, i) => {
        const [a, e] = [actual.values[i], expected.values[i]];
        if (label === "dx" && shape[0] * shape[1] * shape[2] === 1) {
          // one value per channel: dx is zero, up to rounding on both sides
          a.forEach((v, j) => assert(Math.abs(v - e[j]) < 1e-5, `dx[${j}]: ${v} vs ${e[j]}`));
          return;
        }
        const error = relativeError(a, e);
        assert(error < TOLERANCE, `${label}: relative error ${error}`);
      });
    });
  }
}

for (const backend of BACKENDS) {
  Deno.test(`${MOVING_AVERAGES} on ${backend} equals TF.js's Sub, Mul and Sub on cpu, bit for bit`, async () => {
    const decay = 1 - 0.99;
    const data = [
      randomData([37], 1),
      randomData([37], 2),
      randomData([37], 3),
      randomData([37], 4),
    ];
    data[1].values.forEach((v, i) => (data[1].values[i] = Math.abs(v) + 0.5));
    const expected = await runOn("cpu", (mm, mv, m, v) => [
      tf.sub(mm, tf.mul(tf.sub(mm, m), decay)),
      tf.sub(mv, tf.mul(tf.sub(mv, v), decay)),
    ], data);
    const actual = await runOn(
      backend,
      (movingMean, movingVariance, mean, variance) =>
        tf.engine().runKernel(
          MOVING_AVERAGES,
          { movingMean, movingVariance, mean, variance },
          { decay },
        ) as tf.Tensor[],
      data,
    );
    assertEquals(actual.leaked, 0, "tensors leaked");
    assertEquals(actual.values, expected.values);
  });

  Deno.test(`a BatchNormalization layer in training on ${backend} updates its moving averages as on cpu`, async () => {
    const x = randomData([4, 3, 3, 6], 5);
    x.values.forEach((v, i) => (x.values[i] = 2 * v + 1));
    const averages = async (name: string) => {
      await tf.setBackend(name);
      const layer = batchNormalization();
      const input = tf.tensor(x.values, x.shape);
      for (let step = 0; step < 3; step++) {
        tf.dispose(layer.apply(input, { training: true }) as tf.Tensor);
      }
      const [, , mean, variance] = layer.getWeights();
      const values = [await mean.data(), await variance.data()];
      input.dispose();
      layer.dispose();
      return values;
    };
    const expected = await averages("cpu");
    const actual = await averages(backend);
    ["moving mean", "moving variance"].forEach((label, i) => {
      const error = relativeError(actual[i] as Float32Array, expected[i] as Float32Array);
      assert(error < TOLERANCE, `${label}: relative error ${error}`);
    });
    // they moved from their initial zeros and ones
    assert(relativeError(expected[0] as Float32Array, new Float32Array(6)) > 0.5);
  });
}
