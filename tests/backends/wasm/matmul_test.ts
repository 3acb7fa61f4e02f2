import { assert } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { dataOf, on, relativeError } from "../../_compare.ts";

await useBackend("wasm", { log: null });

Deno.test("BatchMatMul with transpose flags on wasm matches cpu", async () => {
  await tf.setBackend("cpu");
  const a = await dataOf(tf.randomNormal([2, 5, 3], 0, 1, "float32", 4));
  const b = await dataOf(tf.randomNormal([2, 4, 5], 0, 1, "float32", 5));
  const f = (x: tf.Tensor, y: tf.Tensor) => [tf.matMul(x, y, true, true)];
  const [expected] = await on("cpu", f, [a, b]);
  const [actual] = await on("wasm", f, [a, b]);
  assert(relativeError(actual, expected) < 1e-6);
});
