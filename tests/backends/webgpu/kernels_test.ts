// The project's own WGSL kernels for webgpu against cpu on the same inputs.
import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { convGeometry } from "@lib/backends/_conv_geometry.ts";
import {
  conv2DBackpropFilter,
  sharedConv2DBackpropFilter,
  sharesSum,
} from "@lib/backends/webgpu/_conv.ts";
import { CONV_CASES, type Data, randomData, relativeError, runOn } from "../../_compare.ts";

// An explicit choice: fails this module, with the reason, where no adapter is found.
await useBackend("webgpu", { log: null });

// Relative L2 error against cpu: float32 sums in another order (64 partial sums added pairwise
// here, one running sum on cpu).
const TOLERANCE = 1e-6;

type Case = [[number, number, number, number], number, number, "same" | "valid", number];

// The filter gradient of x [n, h, w, ci] and dy as the kernel registered for the backend computes
// it, or as `kernel` does when given.
function filterGradient(testCase: Case, kernel?: typeof sharedConv2DBackpropFilter) {
  const [, k, s, pad, co] = testCase;
  return (x: tf.Tensor, dy: tf.Tensor): tf.Tensor[] => {
    const attrs = { strides: s, pad, dataFormat: "NHWC", filterShape: [k, k, x.shape[3]!, co] };
    if (!kernel) {
      return [tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor];
    }
    const info = kernel({ inputs: { x, dy }, backend: tf.backend(), attrs });
    return [tf.engine().makeTensorFromTensorInfo(info)];
  };
}

function inputs([shape, k, s, pad, co]: Case): Data[] {
  const output = tf.tidy(() =>
    tf.conv2d(tf.zeros(shape) as tf.Tensor4D, tf.zeros([k, k, shape[3], co]), s, pad)
  );
  const data = [randomData([...shape], 1), randomData(output.shape, 2)];
  output.dispose();
  return data;
}

async function assertMatchesCpu(testCase: Case, kernel?: typeof sharedConv2DBackpropFilter) {
  const data = inputs(testCase);
  const expected = await runOn("cpu", filterGradient(testCase), data);
  const actual = await runOn("webgpu", filterGradient(testCase, kernel), data);
  assertEquals(actual.leaked, 0, "tensors leaked");
  const error = relativeError(actual.values[0], expected.values[0]);
  assert(error < TOLERANCE, `dW error ${error}`);
}

// ResNet-50's filter gradients on 64x64 images at batch 8 or 16 (32 in training; fewer keep cpu
// quick) where the registered kernel shares its sums (sharesSum): the stem (7x7, stride 2), stage
// 2 (15x15: 1x1, and 3x3 with padding) and the strided 1x1 convolution that starts stage 3.
const RESNET50_CASES: Case[] = [
  [[8, 70, 70, 3], 7, 2, "valid", 64],
  [[8, 15, 15, 64], 1, 1, "valid", 256],
  [[8, 15, 15, 64], 3, 1, "same", 64],
  [[16, 15, 15, 256], 1, 2, "valid", 128],
];

Deno.test("the webgpu backend runs the project's Conv2DBackpropFilter", () => {
  assertEquals(
    tf.getKernel("Conv2DBackpropFilter", "webgpu")?.kernelFunc,
    conv2DBackpropFilter as unknown as tf.KernelFunc,
  );
});

Deno.test("sharesSum() leaves short sums and large filters to TF.js's kernel", () => {
  const shares = (shape: number[], k: number, s: number, co: number) =>
    sharesSum(convGeometry(shape, [k, k, shape[3], co], { strides: s, pad: "same" })!);
  assert(shares([32, 15, 15, 64], 3, 1, 64), "stage 2 at batch 32");
  assert(!shares([32, 8, 8, 128], 3, 1, 128), "stage 3's 3x3 filter: 147,456 weights");
  assert(!shares([32, 4, 4, 256], 1, 1, 64), "stage 4 at batch 32: 512 positions");
  assert(!shares([2, 9, 9, 4], 3, 1, 5), "162 positions");
});

for (const testCase of RESNET50_CASES) {
  const [shape, k, s, pad, co] = testCase;
  Deno.test(`Conv2DBackpropFilter on webgpu shares its sums and matches cpu: x ${shape}, ${k}x${k}x${co}, stride ${s}, ${pad}`, async () => {
    assert(sharesSum(convGeometry(shape, [k, k, shape[3], co], { strides: s, pad })!));
    await assertMatchesCpu(testCase);
  });
}

// The shared sum on odd shapes too, where the registered kernel runs TF.js's (too few positions;
// tests/backends/webgpu/conv_test.ts compares that one).
for (const [shape, k, s, pad, co = 5] of CONV_CASES) {
  Deno.test(`the shared filter gradient on webgpu matches cpu: x ${shape}, ${k}x${k}x${co}, stride ${s}, ${pad}`, async () => {
    await assertMatchesCpu([shape, k, s, pad, co], sharedConv2DBackpropFilter);
  });
}
