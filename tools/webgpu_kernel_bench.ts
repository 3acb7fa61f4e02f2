// The project's webgpu kernels against TF.js's own, on ResNet-50's shapes at the notebook's batch
// size: one JSON line per shape, then one with the totals.
//
//   deno run -A tools/webgpu_kernel_bench.ts [--repeats=N] [--batch=N]
//
// For the filter gradients (Conv2DBackpropFilter) of ResNet-50 on 64x64 images with enough
// positions for the project's kernel to share their sums (lib/backends/webgpu/_conv.ts: the stem,
// stages 2 and 3; each shape once), the shared sum and TF.js's kernel run on the same random x and
// dy: one call each to compile, then N timed calls each (default 3), every call waited for with
// `await data()`. Each line gives the median milliseconds of both, their ratio (below 1: the
// shared sum is faster), the largest difference between their results relative to the largest
// value, and which of the two the registered kernel runs for that shape ("registered"). Runs on
// the adapter TF.js's webgpu backend gets, a software one included (whose times say nothing about
// a GPU's).
import * as tf from "../lib/tf.ts";
import { useBackend } from "../lib/backends/mod.ts";
import { FILTER_GRADIENT_KERNELS } from "../lib/backends/webgpu/mod.ts";
import { RESNET50_RECIPE } from "../lib/training/recipe.ts";
import { option } from "./_args.ts";

const repeats = Number(option("repeats") ?? 3);
const batch = Number(option("batch") ?? RESNET50_RECIPE.batchSize);
for (const [name, value] of [["repeats", repeats], ["batch", batch]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`webgpu_kernel_bench: --${name} must be a positive integer, got ${value}`);
    Deno.exit(2);
  }
}

// [layers, input [h, w, ci], kernel, stride, padding, output channels]
const SHAPES: [string, [number, number, number], number, number, "same" | "valid", number][] = [
  ["conv1", [70, 70, 3], 7, 2, "valid", 64],
  ["res2a conv_a", [15, 15, 64], 1, 1, "valid", 64],
  ["res2* conv_b", [15, 15, 64], 3, 1, "same", 64],
  ["res2* conv_c, res2a shortcut", [15, 15, 64], 1, 1, "valid", 256],
  ["res2b/c conv_a", [15, 15, 256], 1, 1, "valid", 64],
  ["res3a conv_a", [15, 15, 256], 1, 2, "valid", 128],
  ["res3* conv_b", [8, 8, 128], 3, 1, "same", 128],
  ["res3* conv_c", [8, 8, 128], 1, 1, "valid", 512],
  ["res3a shortcut", [15, 15, 256], 1, 2, "valid", 512],
  ["res3b/c/d conv_a", [8, 8, 512], 1, 1, "valid", 128],
];

await useBackend("webgpu");
const stock = FILTER_GRADIENT_KERNELS.shipped();
const sharedConv2DBackpropFilter = FILTER_GRADIENT_KERNELS.shared;

// Milliseconds of one call of `kernel`, its result read with await data(); the values.
async function timed(
  kernel: (args: never) => unknown,
  args: object,
): Promise<{ ms: number; values: Float32Array }> {
  const start = performance.now();
  const result = tf.engine().makeTensorFromTensorInfo(kernel(args as never) as tf.TensorInfo);
  const values = await result.data() as Float32Array;
  const ms = performance.now() - start;
  result.dispose();
  return { ms, values };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const totals = { stock: 0, shared: 0 };
for (const [layers, [h, w, ci], k, s, pad, co] of SHAPES) {
  const x = tf.randomNormal([batch, h, w, ci], 0, 1, "float32", 1) as tf.Tensor4D;
  const y = tf.tidy(() => tf.conv2d(x, tf.zeros([k, k, ci, co]), s, pad));
  const dy = tf.randomNormal(y.shape, 0, 1, "float32", 2);
  const args = {
    inputs: { x, dy },
    backend: tf.backend(),
    attrs: { strides: s, pad, dataFormat: "NHWC", filterShape: [k, k, ci, co] },
  };
  const runs = { stock: [] as number[], shared: [] as number[] };
  const first = {
    stock: await timed(stock, args),
    shared: await timed(sharedConv2DBackpropFilter, args),
  };
  for (let i = 0; i < repeats; i++) {
    runs.stock.push((await timed(stock, args)).ms);
    runs.shared.push((await timed(sharedConv2DBackpropFilter, args)).ms);
  }
  const largest = first.stock.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const difference = first.stock.values.reduce(
    (m, v, i) => Math.max(m, Math.abs(v - first.shared.values[i])),
    0,
  );
  const line = {
    layers,
    x: [batch, h, w, ci],
    filter: [k, k, ci, co],
    stride: s,
    padding: pad,
    positions: y.shape[0] * y.shape[1] * y.shape[2],
    stockMs: Math.round(median(runs.stock)),
    sharedMs: Math.round(median(runs.shared)),
    ratio: Number((median(runs.shared) / median(runs.stock)).toFixed(3)),
    relativeDifference: Number((difference / largest).toExponential(2)),
    registered: FILTER_GRADIENT_KERNELS.registered(x.shape, [k, k, ci, co], { strides: s, pad }),
  };
  totals.stock += line.stockMs;
  totals.shared += line.sharedMs;
  console.log(JSON.stringify(line));
  tf.dispose([x, y, dy]);
}
console.log(JSON.stringify({
  total: "the shapes above, each once",
  batch,
  stockMs: totals.stock,
  sharedMs: totals.shared,
  ratio: Number((totals.shared / totals.stock).toFixed(3)),
  tensorsLeft: tf.memory().numTensors,
}));
