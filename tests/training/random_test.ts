import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import {
  epochRandom,
  randomState,
  restoreRandomState,
  seedRandom,
  shuffledIndices,
} from "@lib/training/random.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { compileModel, fitModel } from "@lib/training/fit.ts";
import { convertToOneHot } from "@lib/data/preprocessing.ts";

await tf.setBackend("cpu");

async function run(seed: number): Promise<{ weights: number[]; loss: number[] }> {
  seedRandom(seed);
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const weights = Array.from(await model.getWeights()[0].data());
  const x = tf.tidy(() => tf.div(tf.reshape(tf.range(0, 3072), [16, 8, 8, 3]), 3072));
  const y = convertToOneHot(Array.from({ length: 16 }, (_, i) => i % 6), 6);
  const history = await fitModel(model, x, y, { epochs: 3, batchSize: 4, log: null });
  tf.dispose([x, y]);
  model.dispose();
  return { weights, loss: history.loss };
}

Deno.test("seedRandom() makes initial weights and training histories repeat", async () => {
  const a = await run(7);
  const b = await run(7);
  const c = await run(8);
  assertEquals(b.weights, a.weights);
  assertEquals(b.loss, a.loss);
  assertNotEquals(c.weights, a.weights);
});

Deno.test("seedRandom() rejects a seed that is not an integer", () => {
  assertThrows(() => seedRandom(1.5), RangeError, "with 1.5");
});

Deno.test("shuffledIndices() permutes 0..n-1 from the generator it is given, the same way each time", () => {
  const order = shuffledIndices(50, epochRandom(3, 1));
  assertEquals(order.toSorted((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assertEquals(shuffledIndices(50, epochRandom(3, 1)), order);
  assert(shuffledIndices(50, epochRandom(3, 2)).some((v, i) => v !== order[i]), "another epoch");
  assert(shuffledIndices(50, epochRandom(4, 1)).some((v, i) => v !== order[i]), "another seed");
  assertEquals(shuffledIndices(0), []);
  assertEquals(shuffledIndices(1), [0]);
});

Deno.test("randomState() is null unless Math.random is seedRandom's generator", () => {
  seedRandom(2);
  assert(randomState() !== null);
  const seeded = Math.random;
  Math.random = () => 0.25;
  try {
    assertEquals(randomState(), null);
  } finally {
    Math.random = seeded;
  }
});

Deno.test("restoreRandomState() refuses what is not a generator state", () => {
  seedRandom(2);
  const state = randomState()!;
  assertThrows(
    () => restoreRandomState({ ...state, i: 256 }),
    RangeError,
    "Cannot restore the random generator: its indices i and j must be integers 0..255",
  );
  assertThrows(
    () => restoreRandomState({ ...state, S: state.S.slice(1) }),
    RangeError,
    "its S must hold each of the numbers 0..255 once",
  );
  const next = Math.random();
  restoreRandomState(state);
  assertEquals(Math.random(), next);
});
