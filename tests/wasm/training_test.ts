import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backend.ts";
import { convolutionalModel } from "@lib/baseline.ts";
import { resNet50 } from "@lib/resnet.ts";
import { compileModel, disposeModel } from "@lib/training.ts";
import { maxRelativeError, smallResNet, twoSteps } from "../_training_compare.ts";

await useBackend("wasm", { log: null });

for (
  const [name, build, shape] of [
    ["the baseline", () => convolutionalModel([64, 64, 3]), [4, 64, 64, 3]],
    ["a small residual network", smallResNet, [4, 24, 24, 3]],
  ] as const
) {
  Deno.test(`two training steps of ${name} give the same losses and weights on wasm and cpu`, async () => {
    const expected = await twoSteps("cpu", build, [...shape]);
    const actual = await twoSteps("wasm", build, [...shape]);
    expected.losses.forEach((loss, i) =>
      assert(
        Math.abs(actual.losses[i] - loss) < 1e-4 * Math.abs(loss),
        `loss ${i}: ${actual.losses[i]} vs ${loss}`,
      )
    );
    assertEquals(actual.weights.length, expected.weights.length);
    actual.weights.forEach((w, i) => {
      const error = maxRelativeError(w, expected.weights[i]);
      assert(error < 1e-3, `weight ${i}: relative error ${error}`);
    });
  });
}

Deno.test("ResNet-50 trains on wasm: every kernel exists, the loss is finite, no tensors leak", async () => {
  await tf.setBackend("wasm");
  const model = resNet50();
  compileModel(model);
  const x = tf.randomUniform([2, 64, 64, 3], 0, 1, "float32", 7);
  const y = tf.oneHot(tf.tensor1d([0, 5], "int32"), 6);
  const [first] = (await model.trainOnBatch(x, y)) as number[];
  const count = tf.memory().numTensors;
  const [second] = (await model.trainOnBatch(x, y)) as number[];
  assertEquals(tf.memory().numTensors, count, "tensor count flat across steps");
  assert(Number.isFinite(first) && Number.isFinite(second), `losses ${first}, ${second}`);
  tf.dispose([x, y]);
  disposeModel(model);
});
