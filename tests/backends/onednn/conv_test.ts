import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { CONV_CASES } from "../../_compare.ts";
import { onednn, randomData, relativeError, runOn } from "./_compare.ts";
import {
  ConvPlan,
  filterGradientByColumns,
  strided1x1ForwardByGemm,
} from "@lib/backends/onednn/_conv.ts";
import { type ConvGeometry, convGeometry } from "@lib/backends/_conv_geometry.ts";
import { openDnnl } from "@lib/backends/onednn/_ffi.ts";

const TOLERANCE = 1e-5;

/**
 * `f` on cpu and on onednn from the same data: no tensor left over on onednn, and each result
 * within TOLERANCE of cpu's (`label` names result i in a failure); resolves to cpu's results.
 */
async function assertMatchesCpu(
  f: Parameters<typeof runOn>[1],
  data: Parameters<typeof runOn>[2],
  label: (i: number) => string,
): Promise<Float32Array[]> {
  const expected = await runOn("cpu", f, data);
  const actual = await runOn("onednn", f, data);
  assertEquals(actual.leaked, 0, "tensors leaked");
  expected.values.forEach((e, i) => {
    const error = relativeError(actual.values[i], e);
    assert(error < TOLERANCE, `${label(i)}: relative error ${error}`);
  });
  return expected.values;
}

// [input shape, kernel size, stride, padding, output channels]: the shared cases of both models
// (the ones the wasm kernels are checked on), a single output channel and more odd sizes.
type Case = [[number, number, number, number], number, number, "same" | "valid", number];
const CASES: Case[] = [
  ...CONV_CASES.map(([shape, k, s, pad, co], i): Case => [shape, k, s, pad, co ?? 3 + (i % 5)]),
  [[2, 6, 6, 3], 3, 1, "same", 1],
  [[2, 12, 12, 3], 4, 2, "same", 2],
  [[1, 10, 9, 3], 2, 2, "same", 4],
  // 1x1 of stride 1, whose gradients are matrix products (sgemm), with ResNet-like channels.
  [[2, 5, 5, 16], 1, 1, "same", 24],
  [[3, 4, 3, 40], 1, 1, "valid", 8],
  // 1x1 with strides and no padding, matrix products over every s-th pixel (odd, even, stride 3).
  [[2, 5, 5, 16], 1, 2, "valid", 24],
  [[2, 6, 7, 8], 1, 2, "same", 4],
  [[1, 7, 7, 12], 1, 3, "valid", 5],
  [[2, 8, 8, 16], 1, 2, "valid", 32],
  // 3x3 over 2x2 pixels (ResNet-50's last stage), whose filter gradient oneDNN runs as its
  // im2col + gemm, replaced by this project's (the test below checks that it is taken).
  [[2, 2, 2, 16], 3, 1, "same", 8],
  // 3x3 of stride 1 over images of at most 2x2 pixels: products per filter tap (_tapwise.ts), on
  // square and oblong images and a single pixel (whose only tap is the centre).
  [[2, 2, 2, 32], 3, 1, "same", 24],
  [[3, 1, 2, 5], 3, 1, "same", 4],
  [[2, 2, 1, 4], 3, 1, "same", 6],
  [[2, 1, 1, 6], 3, 1, "same", 3],
  // 3x3 of stride 1 over 8x8 pixels and more: Winograd's kernels where the CPU has them, on
  // channels in oneDNN's blocks of 16 and not, and ResNet-50's second stage.
  [[2, 8, 8, 32], 3, 1, "same", 48],
  [[2, 9, 9, 5], 3, 1, "same", 7],
  [[2, 15, 15, 64], 3, 1, "same", 64],
];

const ignore = !onednn.available;

for (const [shape, k, s, pad, co] of CASES) {
  const name = `x ${shape}, ${k}x${k}, stride ${s}, ${pad}, ${co} out`;
  const inputs = () => {
    const x = randomData(shape, 1);
    const wShape: [number, number, number, number] = [k, k, shape[3], co];
    const w = randomData(wShape, 2);
    const b = randomData([co], 3);
    const outShape = tf.tidy(() =>
      tf.conv2d(tf.zeros(shape) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, s, pad).shape
    );
    return [x, w, b, randomData(outShape, 4)];
  };

  Deno.test({
    name: `Conv2D and FusedConv2D (bias, relu) on onednn match cpu: ${name}`,
    ignore,
    async fn() {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => [
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad),
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: s,
          pad,
          bias: b,
        }),
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: s,
          pad,
          bias: b,
          activation: "relu",
        }),
      ];
      await assertMatchesCpu(f, inputs(), (i) => `output ${i}`);
    },
  });

  Deno.test({
    name: `Conv2DBackpropInput and Conv2DBackpropFilter on onednn match cpu: ${name}`,
    ignore,
    async fn() {
      const grads = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) =>
        tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
          tf.sum(tf.mul(
            tf.fused.conv2d({
              x: a as tf.Tensor4D,
              filter: c as tf.Tensor4D,
              strides: s,
              pad,
              bias: d,
              activation: "relu",
            }),
            dy,
          ))
        )([x, w, b]);
      await assertMatchesCpu(grads, inputs(), (i) => ["dx", "dw", "db"][i]);
    },
  });
}

Deno.test({
  name: "Conv2D on onednn follows a filter change between calls of the same shape",
  ignore,
  async fn() {
    const data = [randomData([2, 6, 6, 3], 1), randomData([3, 3, 3, 4], 2)];
    const other = randomData([3, 3, 3, 4], 3);
    const f = (x: tf.Tensor, w: tf.Tensor) => {
      const w2 = tf.tensor(other.values, other.shape);
      const outs = [w, w2, w].map((filter) =>
        tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, "same")
      );
      w2.dispose();
      return outs;
    };
    const expected = await assertMatchesCpu(f, data, (i) => `call ${i}`);
    assert(relativeError(expected[1], expected[0]) > 0.1, "the filters differ");
  },
});

// What `ask` reads off a plan for `g`, the plan freed after.
function fromPlan<T>(
  g: ConvGeometry,
  withBias: boolean,
  ask: (plan: ConvPlan) => T,
  bf16 = false,
): T {
  const plan = new ConvPlan(openDnnl()!, g, withBias, bf16);
  try {
    return ask(plan);
  } finally {
    plan.destroy();
  }
}

// Which implementation oneDNN picks depends on the CPU's instruction set: with AVX2 only, the
// filter gradient of a 3x3 convolution over 2x2 pixels is its im2col + gemm fallback and a strided
// 1x1 convolution over 5x5 pixels has no 1x1 kernel; with AVX-512 both have direct kernels. The
// tests below hold the rule on either: the project's own path is taken exactly where oneDNN's
// choice calls for it. The lowerings themselves are tested on every CPU further down.
Deno.test({
  name: "a filter gradient is im2col + sgemm on onednn exactly where oneDNN's is a gemm fallback",
  ignore,
  fn() {
    for (const shape of [[2, 2, 2, 16], [2, 6, 6, 16], [2, 15, 15, 8]]) {
      const g = convGeometry(shape, [3, 3, shape[3], 8], { strides: 1, pad: "same" })!;
      const [method, implementation] = fromPlan(
        g,
        false,
        (plan) => [plan.filterGradientMethod(), plan.filterGradientImplementation()],
      );
      const expected = /(^|:)gemm:/.test(implementation) ? "columns" : "primitive";
      assertEquals(method, expected, `${JSON.stringify(shape)}: oneDNN's is ${implementation}`);
    }
  },
});

Deno.test({
  name: "a strided 1x1 forward pass is sgemm on onednn exactly where oneDNN has no 1x1 kernel",
  ignore,
  fn() {
    for (const [shape, co] of [[[2, 5, 5, 16], 24], [[2, 8, 8, 16], 32]] as const) {
      const g = convGeometry([...shape], [1, 1, shape[3], co], { strides: 2, pad: "valid" })!;
      const [by1x1, implementation] = fromPlan(
        g,
        true,
        (plan) => [plan.forwardBy1x1Kernel, plan.forwardImplementation()] as const,
      );
      assertEquals(
        by1x1,
        implementation.includes("1x1"),
        `${shape}: oneDNN's is ${implementation}`,
      );
    }
  },
});

// Geometries for the lowering itself: strides, asymmetric 'same' padding, windows partly outside
// on every side, a 7x7 stem-like filter, rectangular inputs.
const COLUMN_CASES: [number[], number[], number, "same" | "valid"][] = [
  [[2, 2, 2, 16], [3, 3, 16, 8], 1, "same"],
  [[2, 7, 6, 5], [3, 3, 5, 4], 2, "same"],
  [[1, 8, 8, 3], [4, 4, 3, 6], 2, "same"],
  [[2, 13, 11, 3], [7, 7, 3, 5], 2, "valid"],
  [[2, 5, 5, 6], [1, 1, 6, 7], 2, "valid"],
];

for (const [xShape, wShape, s, pad] of COLUMN_CASES) {
  Deno.test({
    name: `filterGradientByColumns matches cpu's filter gradient: x ${xShape}, filter ${wShape}, ` +
      `stride ${s}, ${pad}`,
    ignore,
    async fn() {
      const g = convGeometry(xShape, wShape, { strides: s, pad })!;
      const x = randomData(xShape, 5);
      const dy = randomData([g.n, g.oh, g.ow, g.co], 6);
      const expected = await runOn("cpu", (a: tf.Tensor, b: tf.Tensor) => [
        tf.engine().runKernel("Conv2DBackpropFilter", { x: a, dy: b }, {
          strides: [s, s],
          pad,
          dataFormat: "NHWC",
          dilations: [1, 1],
          filterShape: wShape,
        }) as tf.Tensor,
      ], [x, dy]);
      const dw = new Float32Array(wShape.reduce((a, b) => a * b));
      // NaN where im2col does not write: every value must be set, the padding's zeros included
      const columns = new Float32Array(g.n * g.oh * g.ow * g.kh * g.kw * g.ci).fill(NaN);
      filterGradientByColumns(openDnnl()!, g, x.values, dy.values, {}, dw, columns);
      const error = relativeError(dw, expected.values[0]);
      assert(error < TOLERANCE, `relative error ${error}`);
    },
  });
}

for (const [xShape, co] of [[[2, 5, 5, 6], 7], [[2, 8, 7, 16], 12]] as const) {
  Deno.test({
    name: `strided1x1ForwardByGemm matches cpu's Conv2D with a bias: x ${xShape}, ${co} out`,
    ignore,
    async fn() {
      const wShape = [1, 1, xShape[3], co];
      const g = convGeometry([...xShape], wShape, { strides: 2, pad: "valid" })!;
      const data = [randomData([...xShape], 7), randomData(wShape, 8), randomData([co], 9)];
      const expected = await runOn("cpu", (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => [
        tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, "valid"), b),
      ], data);
      // NaN where nothing writes: every output value must be set
      const out = new Float32Array(g.n * g.oh * g.ow * co).fill(NaN);
      strided1x1ForwardByGemm(openDnnl()!, g, data[0].values, data[1].values, data[2].values, out);
      const error = relativeError(out, expected.values[0]);
      assert(error < TOLERANCE, `relative error ${error}`);
    },
  });
}

// oneDNN 2.6 has float32 Winograd kernels for AVX-512 (its ISA value avx512_core is 0x27; every
// later ISA holds its bits), none for AVX2.
const avx512 = onednn.available && (openDnnl()!.fn.dnnl_get_effective_cpu_isa() & 0x27) === 0x27;

Deno.test({
  name: "3x3 convolutions of stride 1 over 8x8 pixels and more run Winograd's kernels on onednn " +
    `where the CPU has them (here: ${avx512 ? "AVX-512, yes" : "no AVX-512, no"})`,
  ignore,
  fn() {
    const winograd = (shape: number[], k: number, s: number, bf16 = false) => {
      const g = convGeometry(shape, [k, k, shape[3], 16], { strides: s, pad: "same" })!;
      return fromPlan(g, true, (plan) => {
        if (plan.byWinograd) assert(plan.forwardImplementation().includes("wino"));
        return plan.byWinograd;
      }, bf16);
    };
    assertEquals(winograd([2, 8, 8, 16], 3, 1), avx512, "8x8");
    assertEquals(winograd([2, 15, 15, 64], 3, 1), avx512, "15x15, 64 channels");
    assertEquals(winograd([2, 4, 4, 256], 3, 1), false, "4x4: too few pixels");
    assertEquals(winograd([2, 16, 16, 16], 3, 2), false, "stride 2");
    assertEquals(winograd([2, 8, 8, 16], 1, 1), false, "1x1");
    assertEquals(winograd([2, 8, 8, 16], 5, 1), false, "5x5");
    assertEquals(winograd([2, 8, 8, 16], 3, 1, true), false, "bfloat16");
  },
});

Deno.test({
  name: "onednn's 3x3 convolutions over 8x8 pixels follow filter and gradient changes between " +
    "calls, and between convolutions of the same shape",
  ignore,
  async fn() {
    // Two convolutions of one shape (one plan, as in ResNet-50's identity blocks), their passes
    // interleaved: forward A, forward B, input gradient B, input gradient A, filter gradient A,
    // filter gradient B; then A again with B's filter.
    const shape = [2, 8, 8, 16];
    const data = [
      randomData(shape, 1),
      randomData([3, 3, 16, 16], 2),
      randomData([3, 3, 16, 16], 3),
      randomData(shape, 4),
      randomData(shape, 5),
    ];
    const f = (x: tf.Tensor, wa: tf.Tensor, wb: tf.Tensor, dya: tf.Tensor, dyb: tf.Tensor) => {
      const conv = (w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same");
      const input = (dy: tf.Tensor, w: tf.Tensor) =>
        tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, shape as never, 1, "same");
      const filter = (dy: tf.Tensor) =>
        tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
          strides: [1, 1],
          pad: "same",
          dataFormat: "NHWC",
          dilations: [1, 1],
          filterShape: [3, 3, 16, 16],
        }) as tf.Tensor;
      const ya = conv(wa);
      const yb = conv(wb);
      const dxb = input(dyb, wb);
      const dxa = input(dya, wa);
      const dwa = filter(dya);
      const dwb = filter(dyb);
      return [ya, yb, dxb, dxa, dwa, dwb, conv(wb), input(dya, wb), filter(dya)];
    };
    await assertMatchesCpu(f, data, (i) => `result ${i}`);
  },
});
