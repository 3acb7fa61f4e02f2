import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { type Data, onednn, randomData, relativeError, runOn } from "./_compare.ts";
import { onednnBfloat16Support } from "@lib/backends/onednn/mod.ts";
import {
  bfloat16Support,
  currentPrecision,
  roundedValues,
  setPrecision,
  toBfloat16,
} from "@lib/backends/onednn/_bfloat16.ts";
import { openDnnl } from "@lib/backends/onednn/_ffi.ts";
import { useBackend } from "@lib/backends/mod.ts";

const ignore = !onednn.available;
const here = onednnBfloat16Support();

/** `values` rounded to bfloat16 (to nearest, ties to even), as float32. */
function rounded(values: Float32Array): Float32Array {
  const out = new Float32Array(values);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const u = bits[i];
    bits[i] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  }
  return out;
}

const roundedData = (d: Data): Data => ({ values: rounded(d.values), shape: d.shape });

/** {@linkcode runOn} onednn in mixed_bfloat16, float32 again after. */
async function onOnednnInMixedBfloat16(f: Parameters<typeof runOn>[1], data: Data[]) {
  setPrecision("mixed_bfloat16");
  try {
    return await runOn("onednn", f, data);
  } finally {
    setPrecision("float32");
  }
}

Deno.test("bfloat16Support: oneDNN's AVX-512 BF16 or AMX, nothing older", () => {
  assertEquals(bfloat16Support(0xe7), {
    supported: true,
    why: "oneDNN runs AVX-512 with BF16 here",
  });
  assertEquals(bfloat16Support(0x3e7).supported, true);
  assertEquals(bfloat16Support(0x67), {
    supported: false,
    why: "oneDNN runs AVX-512 with VNNI here, without bfloat16 multiplies",
  });
  assertEquals(bfloat16Support(0x27).supported, false);
  assertEquals(bfloat16Support(0x7).why, "oneDNN runs AVX2 here, without bfloat16 multiplies");
  // AVX2 with VNNI (0x407) has no bfloat16 multiplies either
  assertEquals(bfloat16Support(0x407).supported, false);
});

Deno.test({
  name: "toBfloat16 rounds to nearest, ties to even, as the bits say; subnormals become zero",
  ignore: ignore || !here.supported,
  fn() {
    const values = new Float32Array([
      1,
      -2.5,
      1 + 2 ** -8, // a tie between 1 and 1 + 2^-7: to the even one, 1
      1 + 3 * 2 ** -8, // a tie: to 1 + 2^-6
      1 + 2 ** -8 + 2 ** -20, // above the tie: up
      3.4e38,
      1e-40, // subnormal
      Infinity,
      -Infinity,
      0,
      ...randomData([300], 1).values,
    ]);
    const out = toBfloat16(openDnnl()!, values, 0);
    const expected = new Uint32Array(rounded(values).buffer);
    for (let i = 0; i < values.length; i++) {
      const subnormal = values[i] !== 0 && Math.abs(values[i]) < 2 ** -126;
      const bits = subnormal ? expected[i] >>> 31 << 15 : expected[i] >>> 16;
      assertEquals(out[i], bits, `value ${i}: ${values[i]}`);
    }
  },
});

// [x shape, kernel, stride, padding, output channels]: each path of the convolutions on onednn: a
// 3x3 primitive, a 1x1 of stride 1 (matrix products), a strided 1x1, a 7x7 stem and a 3x3 over 2x2
// pixels (whose filter gradient may be im2col + a matrix product).
const CASES: [[number, number, number, number], number, number, "same" | "valid", number][] = [
  [[2, 6, 6, 16], 3, 1, "same", 16],
  [[2, 5, 5, 32], 1, 1, "valid", 48],
  [[2, 7, 7, 32], 1, 2, "valid", 16],
  [[2, 16, 16, 3], 7, 2, "valid", 16],
  [[2, 2, 2, 32], 3, 1, "same", 16],
];

for (const [shape, k, s, pad, co] of CASES) {
  const name = `x ${shape}, ${k}x${k}, stride ${s}, ${pad}, ${co} out`;
  Deno.test({
    name: `mixed_bfloat16 convolutions on onednn compute on bfloat16 inputs in float32: ${name}`,
    ignore: ignore || !here.supported,
    async fn() {
      const wShape: [number, number, number, number] = [k, k, shape[3], co];
      const outShape = tf.tidy(() =>
        tf.conv2d(tf.zeros(shape) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, s, pad).shape
      );
      const data = [randomData(shape, 1), randomData(wShape, 2), randomData(outShape, 3)];
      // the output, and the input and filter gradients of sum(output · dy)
      const f = (x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor) => {
        const conv = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad);
        return [
          conv(x, w),
          ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), dy)))([x, w]),
        ];
      };
      const exact = await runOn("cpu", f, data.map(roundedData));
      const float32 = await runOn("cpu", f, data);
      const actual = await onOnednnInMixedBfloat16(f, data);
      assertEquals(actual.leaked, 0, "tensors leaked");
      ["output", "input gradient", "filter gradient"].forEach((label, i) => {
        const error = relativeError(actual.values[i], exact.values[i]);
        assert(error < 1e-5, `${label}: relative error ${error} to float32 on bfloat16 inputs`);
        const rounding = relativeError(actual.values[i], float32.values[i]);
        assert(
          rounding > 1e-4 && rounding < 1e-2,
          `${label}: relative error ${rounding} to float32, expected bfloat16's rounding`,
        );
      });
    },
  });
}

for (const [shape, k, s, pad, co] of CASES) {
  Deno.test({
    name:
      `mixed_bfloat16 rounds an output gradient once for both of its convolution's gradients, ` +
      `and another one afresh: x ${shape}, ${k}x${k}, stride ${s}, ${pad}, ${co} out`,
    ignore: ignore || !here.supported,
    async fn() {
      const wShape: [number, number, number, number] = [k, k, shape[3], co];
      const attrs = { strides: [s, s], pad, dataFormat: "NHWC", dilations: [1, 1] };
      const outShape = tf.tidy(() =>
        tf.conv2d(tf.zeros(shape) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, s, pad).shape
      );
      const [x, w, dy1, dy2] = [shape, wShape, outShape, outShape].map((sh, i) =>
        randomData(sh, i + 1)
      );
      // the filter gradient of x and `second` after the input gradient of `first` (one tensor
      // where they are the same), and how many values the filter gradient rounded
      const filterGradientAfter = async (first: Data, second: Data) => {
        await tf.setBackend("onednn");
        setPrecision("mixed_bfloat16");
        try {
          const [xt, wt, a] = [x, w, first].map((d) => tf.tensor(d.values, d.shape));
          // the same tensor, or another one (even of the same values)
          const b = second === first ? a : tf.tensor(second.values, second.shape);
          const dx = tf.engine().runKernel("Conv2DBackpropInput", { dy: a, filter: wt }, {
            ...attrs,
            inputShape: shape,
          }) as tf.Tensor;
          const before = roundedValues();
          const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x: xt, dy: b }, {
            ...attrs,
            filterShape: wShape,
          }) as tf.Tensor;
          const rounded = roundedValues() - before;
          const values = await dw.data() as Float32Array;
          tf.dispose([xt, wt, a, b, dx, dw]);
          return { values, rounded };
        } finally {
          setPrecision("float32");
        }
      };
      const same = await filterGradientAfter(dy1, dy1);
      const other = await filterGradientAfter(dy1, dy2);
      const dySize = dy1.values.length;
      assertEquals(
        other.rounded - same.rounded,
        dySize,
        "dy is rounded again only for another tensor",
      );
      const f = (xt: tf.Tensor, dyt: tf.Tensor) => [
        tf.engine().runKernel("Conv2DBackpropFilter", { x: xt, dy: dyt }, {
          ...attrs,
          filterShape: wShape,
        }) as tf.Tensor,
      ];
      const exact = await runOn("cpu", f, [x, dy2].map(roundedData));
      const error = relativeError(other.values, exact.values[0]);
      assert(error < 1e-5, `relative error ${error} to the other gradient's exact result`);
    },
  });
}

Deno.test({
  name: "mixed_bfloat16 leaves large filter gradients to the float32 primitive",
  ignore: ignore || !here.supported,
  async fn() {
    // 4,147,200 values of input windows: more than the bfloat16 products take
    const shape = [32, 15, 15, 64];
    const wShape = [3, 3, 64, 16];
    const data = [randomData(shape, 1), randomData([32, 15, 15, 16], 2)];
    const f = (x: tf.Tensor, dy: tf.Tensor) => [
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: [1, 1],
        pad: "same",
        dataFormat: "NHWC",
        dilations: [1, 1],
        filterShape: wShape,
      }) as tf.Tensor,
    ];
    const float32 = await runOn("onednn", f, data);
    const mixed = await onOnednnInMixedBfloat16(f, data);
    assertEquals(mixed.values[0], float32.values[0]);
  },
});

Deno.test({
  name: "useBackend runs mixed_bfloat16 on onednn only where the CPU has it, and says so",
  ignore,
  async fn() {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    try {
      await useBackend("onednn", { log, precision: "mixed_bfloat16" });
      if (here.supported) {
        assertStringIncludes(lines[0], "convolutions and matrix products in mixed_bfloat16");
        assertStringIncludes(lines[0], here.why);
        assertEquals(currentPrecision(), "mixed_bfloat16");
      } else {
        assertStringIncludes(lines[0], `float32, not mixed_bfloat16: ${here.why}`);
        assertEquals(currentPrecision(), "float32");
      }
      // asked again without it: float32
      await useBackend("onednn", { log });
      assertEquals(currentPrecision(), "float32");
      assert(!lines[1].includes("bfloat16"), lines[1]);
      await useBackend("cpu", { log, precision: "mixed_bfloat16" });
      assertStringIncludes(lines[2], "float32: only onednn runs mixed_bfloat16");
    } finally {
      setPrecision("float32");
      await tf.setBackend("cpu");
    }
  },
});

Deno.test({
  name: "useBackend runs float32 where oneDNN is held to AVX2, and says why",
  ignore,
  async fn() {
    const script = 'import { useBackend } from "@lib/backends/mod.ts"; ' +
      'await useBackend("onednn", { precision: "mixed_bfloat16" });';
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script],
      env: { ONEDNN_MAX_CPU_ISA: "AVX2", OMP_NUM_THREADS: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert(out.success, text);
    assertStringIncludes(
      text,
      "float32, not mixed_bfloat16: oneDNN runs AVX2 here, without bfloat16 multiplies",
    );
  },
});

Deno.test("useBackend refuses an unknown precision, naming it", async () => {
  await assertRejects(
    () => useBackend("cpu", { log: null, precision: "bfloat16" }),
    RangeError,
    'Cannot use precision "bfloat16": expected one of float32, mixed_bfloat16',
  );
});
