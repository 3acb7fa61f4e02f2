import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import seedrandom from "seedrandom";
import * as tf from "@lib/tf.ts";
import { augmentImages } from "@lib/training/augmentation.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { compileModel, disposeModel, fitModel } from "@lib/training/fit.ts";
import { seedRandom } from "@lib/training/random.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { dataOf, randomData, relativeError, runOn } from "../_compare.ts";

await tf.setBackend("cpu");

const images = () => tf.randomUniform([3, 6, 6, 3], 0, 1, "float32", 5) as tf.Tensor4D;
const constant = (value: number) => () => value;

Deno.test("augmentImages() is seeded: the same random numbers give the same images, others others", () => {
  const x = images();
  const before = tf.memory().numTensors;
  const [a, b, c] = [1, 1, 2].map((seed) => augmentImages(x, {}, seedrandom(String(seed))));
  const [va, vb, vc] = [a, b, c].map((t) => Array.from(t.dataSync()));
  assertEquals(va, vb);
  assert(va.some((v, i) => v !== vc[i]));
  assertEquals(a.shape, [3, 6, 6, 3]);
  assert(va.every((v) => v >= 0 && v <= 1), "values stay in 0..1");
  tf.dispose([a, b, c]);
  assertEquals(tf.memory().numTensors, before, "no tensors left");
  x.dispose();
});

Deno.test("augmentImages() mirrors left to right, crops and tints as asked", async () => {
  const x = images();
  const values = await x.array();
  // random() < 0.5: every image mirrored; cropping and tinting off.
  const mirrored = augmentImages(x, { cropScale: 1, colorShift: 0 }, constant(0.25));
  assertEquals(await mirrored.array(), values.map((image) => image.map((row) => row.toReversed())));
  // random() >= 0.5: none mirrored, the copy equals the input.
  const kept = augmentImages(x, { cropScale: 1, colorShift: 0 }, constant(0.75));
  assertEquals(await kept.array(), values);
  // A crop of the full side (random() = 1) is the identity; a smaller one zooms in.
  const full = augmentImages(x, { flip: false, colorShift: 0 }, constant(1));
  assert(relativeError(full.dataSync() as Float32Array, x.dataSync() as Float32Array) < 1e-6);
  const zoomed = augmentImages(x, { flip: false, colorShift: 0, cropScale: 0.5 }, constant(0));
  // Side 0.5 at the top left: the first pixel is kept, the last is the middle of the image.
  const z = await zoomed.array();
  assertAlmostEquals(z[0][0][0][0], values[0][0][0][0], 1e-6);
  assertAlmostEquals(
    z[0][5][5][1],
    (values[0][2][2][1] + values[0][3][3][1] + values[0][2][3][1] + values[0][3][2][1]) / 4,
    1e-6,
  );
  // random() = 1 shifts every channel by +colorShift, clipped to 1.
  const tinted = augmentImages(x, { flip: false, cropScale: 1, colorShift: 0.2 }, constant(1));
  const t = await tinted.array();
  assertAlmostEquals(t[1][2][3][2], Math.min(1, values[1][2][3][2] + 0.2), 1e-6);
  tf.dispose([x, mirrored, kept, full, zoomed, tinted]);
});

Deno.test("augmentImages() rejects bad settings and shapes", () => {
  const x = images();
  assertThrows(() => augmentImages(x, { cropScale: 0 }), RangeError, "cropScale 0");
  assertThrows(() => augmentImages(x, { colorShift: -1 }), RangeError, "colorShift -1");
  const flat = tf.zeros([3, 4]);
  assertThrows(() => augmentImages(flat as tf.Tensor4D), TypeError, "shape [3, 4]");
  tf.dispose([x, flat]);
});

Deno.test("augmentImages() gives the same images on wasm as on cpu", async () => {
  await useBackend("wasm", { log: null });
  const input = randomData([4, 8, 8, 3], 6);
  const run = (backend: string) =>
    runOn(backend, (x) => [augmentImages(x as tf.Tensor4D, {}, seedrandom("7"))], [input]);
  const expected = await run("cpu");
  const actual = await run("wasm");
  assertEquals(actual.leaked, 0);
  assert(relativeError(actual.values[0], expected.values[0]) < 1e-6);
  await tf.setBackend("cpu");
});

Deno.test("fitModel() with augment trains on changed images, reproducibly, labels untouched, no tensors left", async () => {
  const x = tf.randomUniform([12, 8, 8, 3], 0, 1, "float32", 3);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], "int32"), 6);
  const train = async (augment: boolean) => {
    seedRandom(4);
    const before = tf.memory().numTensors;
    const model = convolutionalModel([8, 8, 3]);
    compileModel(model);
    const history = await fitModel(model, x, y, { epochs: 2, batchSize: 5, augment, log: null });
    disposeModel(model);
    return { loss: history.loss, leaked: tf.memory().numTensors - before };
  };
  const first = await train(true);
  const again = await train(true);
  const plain = await train(false);
  assertEquals(first.loss, again.loss);
  assertEquals([first.leaked, plain.leaked], [0, 0]);
  assertEquals(first.loss.length, 2);
  assert(first.loss.some((v, i) => v !== plain.loss[i]), "augmentation changed the batches");
  // The labels are the caller's and stay as they were.
  assertEquals(
    (await dataOf(tf.argMax(y, 1))).values,
    Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]) as unknown as Float32Array,
  );
  tf.dispose([x, y]);
});
