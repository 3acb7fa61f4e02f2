// Notebook 2's checks and its measurement of the gradients on webgpu, which under Deno reads GPU
// memory only asynchronously: the same verdicts and numbers as on cpu.
import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import {
  type BlockFunction,
  checkConvolutionalBlock,
  checkIdentityBlock,
} from "@lib/models/self_check.ts";
import { convolutionalBlock, identityBlock, resNet50 } from "@lib/models/resnet.ts";
import { blockGradients } from "@lib/models/block_gradients.ts";
import { seedRandom } from "@lib/training/random.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

// The convolutional block in place of the identity block, as notebook 2 tries it: a wrong block.
const convolutionalAsIdentity: BlockFunction = (x, f, filters, options) =>
  convolutionalBlock(x, f, filters, { ...options, s: 1 });

Deno.test("checkIdentityBlock() and checkConvolutionalBlock() on webgpu pass the course's blocks, leaving no tensors", async () => {
  await tf.setBackend("webgpu");
  const before = tf.memory().numTensors;
  assertEquals((await checkIdentityBlock(identityBlock as BlockFunction)).failures, []);
  assertEquals((await checkConvolutionalBlock(convolutionalBlock as BlockFunction)).failures, []);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("checkIdentityBlock() on webgpu fails a wrong block with cpu's diagnosis, leaving no tensors", async () => {
  await tf.setBackend("cpu");
  const expected = await checkIdentityBlock(convolutionalAsIdentity);
  await tf.setBackend("webgpu");
  const before = tf.memory().numTensors;
  const actual = await checkIdentityBlock(convolutionalAsIdentity);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(expected.passed, false);
  assertEquals(actual.passed, false);
  assertEquals(actual.failures.length, expected.failures.length);
  assertEquals(actual.diagnosis, expected.diagnosis);
});

// The same weights (Math.random seeded) and the same batch on a backend; the measured sizes.
async function measure(backend: string): Promise<{ sizes: number[]; loss: number }> {
  await tf.setBackend(backend);
  seedRandom(3);
  const model = resNet50({ inputShape: [37, 37, 3], classes: 3, training: null });
  const x = tf.randomUniform([2, 37, 37, 3], 0, 1, "float32", 7);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 2], "int32"), 3));
  const before = tf.memory().numTensors;
  const measured = await blockGradients(model, x, y);
  assertEquals(tf.memory().numTensors, before, `tensors left on ${backend}`);
  tf.dispose([x, y]);
  model.dispose();
  return measured;
}

Deno.test("blockGradients() on webgpu measures what cpu does, to 1e-3, leaving no tensors", async () => {
  const expected = await measure("cpu");
  const actual = await measure("webgpu");
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.abs(b);
  assert(close(actual.loss, expected.loss), `loss ${actual.loss} vs ${expected.loss}`);
  actual.sizes.forEach((size, i) =>
    assert(close(size, expected.sizes[i]), `block ${i}: ${size} vs ${expected.sizes[i]}`)
  );
});
