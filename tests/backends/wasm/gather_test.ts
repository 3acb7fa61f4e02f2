import { assertEquals, assertThrows } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { on } from "../../_compare.ts";

await useBackend("wasm", { log: null });

Deno.test("Tile on wasm matches cpu for ranks 1 to 4", async () => {
  const cases: [number[], number[]][] = [
    [[3], [4]],
    [[2, 3], [3, 1]],
    [[2, 1, 3], [1, 4, 2]],
    [[1, 2, 2, 3], [5, 1, 2, 1]],
  ];
  for (const [shape, reps] of cases) {
    const size = shape.reduce((a, b) => a * b);
    const values = Float32Array.from({ length: size }, (_, i) => i * 0.5 - 1);
    const f = (x: tf.Tensor) => [tf.tile(x, reps)];
    const [expected] = await on("cpu", f, [{ values, shape }]);
    const [actual] = await on("wasm", f, [{ values, shape }]);
    assertEquals(Array.from(actual), Array.from(expected));
  }
});

Deno.test("GatherV2 on wasm matches cpu: any axis, 2-D indices, int32 and bool values", async () => {
  const cases: [number[], tf.DataType, number[], number[], number][] = [
    // [x shape, dtype, indices, indices shape, axis]
    [[10, 4, 4, 3], "float32", [3, 0, 9, 3], [4], 0],
    [[5, 6, 7], "float32", [5, 0, 2, 1, 4, 4], [2, 3], 1],
    [[5, 6, 7], "int32", [6, 0], [2], -1],
    [[4, 20], "bool", [1, 3], [2], 0],
    [[3, 2], "float32", [], [0], 0],
  ];
  for (const [shape, dtype, picked, indexShape, axis] of cases) {
    const results = [];
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const values = tf.tidy(() => {
        const random = tf.randomUniform(shape, -3, 3, "float32", 9);
        const x = dtype === "bool" ? tf.greater(random, 0) : tf.cast(random, dtype);
        const y = tf.gather(x, tf.tensor(picked, indexShape, "int32"), axis);
        return { shape: y.shape, dtype: y.dtype, data: Array.from(y.dataSync()) };
      });
      assertEquals(tf.memory().numTensors, before, `${backend}: no tensors leaked`);
      results.push(values);
    }
    assertEquals(results[1], results[0], `x [${shape}] ${dtype}, axis ${axis}`);
  }
});

Deno.test("GatherV2 on wasm rejects an index outside the axis", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.zeros([4, 3]);
  for (const index of [4, -1]) {
    const indices = tf.tensor1d([0, index], "int32");
    assertThrows(() => tf.gather(x, indices), RangeError, `index value ${index} is not in [0, 3]`);
    indices.dispose();
  }
  x.dispose();
  assertEquals(tf.memory().numTensors, before);
});
