import { assert, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { withOriginalBackwardPass } from "@lib/ops/backward.ts";
import { convolutionalBlock, identityBlock } from "@lib/models/resnet.ts";
import { compileModel } from "@lib/training/fit.ts";

await useBackend("cpu", { log: null });

// A chain of `depth` ReLUs after x·w, summed; a custom gradient at the start records how many
// tensors are alive when the backward pass reaches it (its end).
function chain(depth: number) {
  const x = tf.randomNormal([50, 40], 0, 1, "float32", 1);
  const w = tf.variable(tf.randomNormal([40, 40], 0, 1, "float32", 2), true, `w${depth}`);
  let aliveAtEnd = -1;
  const probe = tf.customGrad((a, _save) => ({
    value: tf.clone(a as tf.Tensor),
    gradFunc: (dy) => {
      aliveAtEnd = tf.memory().numTensors;
      return [dy as tf.Tensor];
    },
  }));
  const loss = () => {
    let h = probe(tf.matMul(x, w)) as tf.Tensor;
    for (let i = 0; i < depth; i++) h = tf.relu(tf.add(h, 0.01 * i));
    return tf.sum(h) as tf.Scalar;
  };
  const run = async () => {
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(loss, [w]);
    const values = { loss: await value.data(), w: await grads[w.name].data() };
    tf.dispose([value, grads[w.name]]);
    return { ...values, alive: aliveAtEnd - before, leaked: tf.memory().numTensors - before };
  };
  return { run, dispose: () => tf.dispose([x, w]) };
}

Deno.test("the backward pass frees gradients and saved tensors as it goes, with the same values", async () => {
  const { run, dispose } = chain(30);
  const freeing = await run();
  const original = await withOriginalBackwardPass(run);
  dispose();
  assertEquals(freeing.w, original.w);
  assertEquals(freeing.loss, original.loss);
  assertEquals([freeing.leaked, original.leaked], [0, 0]);
  // TF.js's own pass still holds 30 ReLUs' saved inputs and output gradients, and more, there.
  assert(original.alive > 60, `original: ${original.alive} tensors alive at the end`);
  assert(freeing.alive < 10, `freeing: ${freeing.alive} tensors alive at the end`);
});

// Two training steps of a small residual network from the same start, with each backward pass.
async function twoSteps(backend: string) {
  await useBackend(backend, { log: null });
  const input = tf.input({ shape: [8, 8, 3] });
  let h = convolutionalBlock(input, 3, [2, 2, 8], { s: 1, initialization: "seed0" });
  h = identityBlock(h, 3, [2, 2, 8], { initialization: "seed0" });
  const logits = tf.layers.dense({ units: 6, activation: "softmax", kernelInitializer: "ones" })
    .apply(tf.layers.flatten().apply(h)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits });
  const start = model.getWeights().map((w) => tf.clone(w));
  const x = tf.randomUniform([4, 8, 8, 3], 0, 1, "float32", 3);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 5], "int32"), 6);
  const train = async () => {
    model.setWeights(start);
    compileModel(model);
    const before = tf.memory().numTensors;
    const losses = [await model.trainOnBatch(x, y), await model.trainOnBatch(x, y)];
    const leaked = tf.memory().numTensors - before;
    const weights = await Promise.all(model.getWeights().map((w) => w.data()));
    return { losses, weights, leaked };
  };
  const freeing = await train();
  const original = await withOriginalBackwardPass(train);
  model.optimizer.dispose();
  tf.dispose([...start, x, y]);
  model.dispose();
  return { freeing, original };
}

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`training steps on ${backend} give the same weights with either backward pass`, async () => {
    const { freeing, original } = await twoSteps(backend);
    await useBackend("cpu", { log: null });
    assertEquals(freeing.losses, original.losses);
    assertEquals(freeing.weights, original.weights);
    assertEquals(freeing.leaked, original.leaked);
  });
}

Deno.test("a given dy and tensors a gradient returns as they are stay with their owner", async () => {
  const outside = tf.tensor1d([10, 20, 30]);
  const passOn = tf.customGrad((a, _save) => ({
    value: tf.mul(a as tf.Tensor, 2),
    gradFunc: () => [outside],
  }));
  const dy = tf.tensor1d([1, 2, 3]);
  const x = tf.tensor1d([1, 1, 1]);
  const g = tf.grad((t: tf.Tensor) => tf.relu(passOn(tf.mul(t, 3)) as tf.Tensor))(x, dy);
  assertEquals(Array.from(await g.data()), [30, 60, 90]);
  assertEquals(Array.from(await dy.data()), [1, 2, 3]);
  assertEquals(Array.from(await outside.data()), [10, 20, 30]);
  tf.dispose([outside, dy, x, g]);
});

Deno.test("second derivatives still take TF.js's own pass", async () => {
  const x = tf.scalar(2);
  const g2 = tf.grad(tf.grad((t: tf.Tensor) => tf.pow(t, 3)))(x);
  assertEquals(await g2.data(), new Float32Array([12]));
  tf.dispose([x, g2]);
});

Deno.test("a result that does not depend on x is an error", () => {
  const x = tf.scalar(1);
  assertThrows(() => tf.grad((_t: tf.Tensor) => tf.scalar(3))(x), Error, "does not depend");
  x.dispose();
});
