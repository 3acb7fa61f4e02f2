import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { NATIVE_MIN_SIZE } from "@lib/backends/onednn/_elementwise.ts";
import { onednn, randomData, relativeError, runOn } from "./_compare.ts";

// oneDNN adds in another order than the cpu backend: float32 rounding, nothing more.
const TOLERANCE = 1e-5;
const ignore = !onednn.available;

async function assertSameOnBoth(
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
  shapes: number[][],
  labels: string[],
): Promise<void> {
  const data = shapes.map((shape, i) => randomData(shape, i + 1));
  const expected = await runOn("cpu", f, data);
  const actual = await runOn("onednn", f, data);
  assertEquals(actual.leaked, 0, "tensors leaked");
  labels.forEach((label, i) => {
    assertEquals(actual.values[i].length, expected.values[i].length, `${label}: size`);
    const error = relativeError(actual.values[i], expected.values[i]);
    assert(error < TOLERANCE, `${label}: relative error ${error}`);
  });
}

Deno.test("the shapes below are large enough for the native kernels", () => {
  assert(8 * 16 * 16 * 32 >= NATIVE_MIN_SIZE);
});

// [a, b]: same shapes, a bias, a bias over rows that do not split evenly, broadcasting inside,
// a first operand smaller than the second, a row longer than the tiling of a bias.
const BINARY_CASES: [number[], number[]][] = [
  [[8, 16, 16, 32], [8, 16, 16, 32]],
  [[8, 16, 16, 32], [32]],
  [[7, 73, 71, 5], [5]],
  [[3, 32771], [32771]],
  [[8, 16, 16, 32], [8, 1, 1, 32]],
  [[1, 32], [8, 16, 16, 32]],
  [[16, 16, 32], [8, 1, 1, 1]],
];

for (const [aShape, bShape] of BINARY_CASES) {
  for (const name of ["add", "sub", "mul"] as const) {
    Deno.test({
      name: `${name} and its gradients on onednn match cpu: [${aShape}] and [${bShape}]`,
      ignore,
      async fn() {
        const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
        const f = (a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) => {
          const op = (x: tf.Tensor, y: tf.Tensor) => tf[name](x, y);
          const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(op(x, y), dy)))(
            [a, b],
          );
          return [op(a, b), da, db];
        };
        await assertSameOnBoth(f, [aShape, bShape, outShape], ["y", "da", "db"]);
      },
    });
  }
}

Deno.test({
  name: "relu and its gradient on onednn match cpu",
  ignore,
  async fn() {
    const f = (x: tf.Tensor, dy: tf.Tensor) => [
      tf.relu(x),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x),
    ];
    await assertSameOnBoth(f, [[8, 16, 16, 32], [8, 16, 16, 32]], ["y", "dx"]);
  },
});

// [shape, axes, keepDims]: leading axes (native), other axes (WebAssembly), all axes.
const REDUCTION_CASES: [number[], number | number[] | undefined, boolean][] = [
  [[8, 16, 16, 32], [0, 1, 2], false],
  [[8, 16, 16, 32], [2, 1, 0], true],
  [[40000, 3], 0, false],
  [[50000], 0, false],
  [[8, 16, 16, 32], undefined, false],
  [[8, 16, 16, 32], [1, 2], false],
  [[8, 16, 16, 32], -1, true],
];

for (const [shape, axes, keepDims] of REDUCTION_CASES) {
  for (const name of ["sum", "mean"] as const) {
    Deno.test({
      name: `${name} over axes ${axes ?? "all"}${keepDims ? " (dims kept)" : ""} on onednn ` +
        `matches cpu: [${shape}]`,
      ignore,
      async fn() {
        const f = (x: tf.Tensor) => [tf[name](x, axes, keepDims)];
        const expectedShape = tf.tidy(() => tf[name](tf.zeros(shape), axes, keepDims).shape);
        await tf.setBackend("onednn");
        const actualShape = tf.tidy(() => tf[name](tf.zeros(shape), axes, keepDims).shape);
        assertEquals(actualShape, expectedShape);
        await assertSameOnBoth(f, [shape], ["y"]);
      },
    });
  }
}

Deno.test({
  name: "int32 element-wise operations and sums on onednn stay int32 and exact",
  ignore,
  async fn() {
    await tf.setBackend("onednn");
    const before = tf.memory().numTensors;
    const n = NATIVE_MIN_SIZE + 5;
    const a = tf.range(0, n, 1, "int32");
    const b = tf.fill([n], 3, "int32");
    const sum = tf.add(a, b);
    const total = tf.sum(sum);
    assertEquals(sum.dtype, "int32");
    assertEquals(total.dtype, "int32");
    assertEquals((await sum.data())[n - 1], n - 1 + 3);
    assertEquals((await total.data())[0], (n * (n - 1)) / 2 + 3 * n);
    tf.dispose([a, b, sum, total]);
    assertEquals(tf.memory().numTensors, before);
  },
});
