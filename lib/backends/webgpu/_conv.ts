// The filter gradient of a convolution (Conv2DBackpropFilter) on `webgpu`, its sum shared by a
// workgroup.
//
// dW[a, b, i, o] = Σ x[n, a + s·p - pt, b + s·q - pl, i] · dy[n, p, q, o], over the batch and
// every output position (n, p, q). TF.js's webgpu kernel (4.22) runs one thread per filter weight,
// each summing all of them: for ResNet-50's early filters at batch 32 that is a few thousand
// threads, each summing thousands of products one after another (a 1x1 filter of 64x256 weights
// is 16,384 threads over 32·15·15 = 7,200 positions), which leaves most of a GPU idle. Here one
// workgroup of 64 threads computes one weight: each thread sums the rows of dy (an image and an
// output row each) numbered thread, thread + 64, …, and the workgroup adds the 64 partial sums in
// shared memory in 6 halving steps (the pattern of TF.js's own reductions on webgpu).
//
// Where the sum is short or the filter large, TF.js's kernel, which the registry kept, runs
// instead (see sharesSum): with few positions a thread has little to add, and with many weights
// one thread per weight already gives a GPU enough threads. Both limits are reasoned from the
// shapes, not measured on a GPU.
import * as tf from "../../tf.ts";
import { type ConvGeometry, convGeometry } from "../_conv_geometry.ts";
import { type KernelArgs, shippedWebgpuKernel } from "../_kernel.ts";

/** Threads per workgroup: the partial sums of one filter weight. */
export const WORKGROUP_SIZE = 64;

/**
 * The number of positions (batch × output height × output width) from which the sum is shared by
 * a workgroup: each thread then has at least 16 products to add.
 */
export const SHARE_FROM_POSITIONS = 16 * WORKGROUP_SIZE;

/**
 * The number of filter weights below which the sum is shared: TF.js's kernel runs one thread per
 * weight, so from 2^16 weights on it has as many threads as a large GPU runs at once.
 */
export const SHARE_BELOW_WEIGHTS = 2 ** 16;

/**
 * Whether the registered kernel shares the sum of a filter gradient of this geometry
 * ({@linkcode SHARE_FROM_POSITIONS}, {@linkcode SHARE_BELOW_WEIGHTS}); TF.js's kernel runs
 * otherwise.
 */
export function sharesSum(g: ConvGeometry): boolean {
  return g.n * g.oh * g.ow >= SHARE_FROM_POSITIONS &&
    g.kh * g.kw * g.ci * g.co < SHARE_BELOW_WEIGHTS;
}

/** What the kernel needs of TF.js's WebGPUBackend. */
interface WebgpuBackend {
  runWebGPUProgram(
    program: object,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms: { type: "int32"; data: number[] }[],
  ): tf.TensorInfo;
}

// A program as TF.js's webgpu backend compiles and runs it: it declares the inputs (x, dy), the
// uniforms and the output's shape, and supplies the body of `main`; the backend adds the bindings,
// getX/getDy, getCoordsFromIndex and setOutputAtIndex. With a flat dispatch layout `main` gets the
// global index: workgroup number × 64 + the thread's index in its workgroup.
class SharedFilterGradientProgram {
  readonly variableNames = ["x", "dy"];
  readonly uniforms =
    "pads : vec2<i32>, strides : vec2<i32>, outHeight : i32, outWidth : i32, inHeight : i32, " +
    "inWidth : i32, rows : i32, weights : i32,";
  readonly workgroupSize: [number, number, number] = [WORKGROUP_SIZE, 1, 1];
  readonly outputShape: number[];
  readonly dispatchLayout = { x: [0, 1, 2, 3] };
  dispatch: [number, number, number];
  shaderKey = "signsSharedConv2DFilterGradient";

  constructor(filterShape: number[]) {
    this.outputShape = filterShape;
    // One workgroup per weight (the backend folds a count above its per-dimension limit into
    // more dimensions; the workgroups past the last weight write nothing).
    this.dispatch = [tf.util.sizeFromShape(filterShape), 1, 1];
  }

  getUserCode(): string {
    return `
      var<workgroup> partial : array<f32, ${WORKGROUP_SIZE}>;

      fn main(index : i32) {
        let weight = index / ${WORKGROUP_SIZE};
        let thread = index % ${WORKGROUP_SIZE};
        let w = getCoordsFromIndex(min(weight, uniforms.weights - 1));
        // The thread's rows of dy (an image and an output row each), every 64th; in a row, the
        // output columns whose input column is inside the image.
        let firstColumn = max(0, (uniforms.pads[1] - w[1] + uniforms.strides[1] - 1) /
          uniforms.strides[1]);
        let endColumn = min(uniforms.outWidth, (uniforms.inWidth + uniforms.pads[1] - w[1] +
          uniforms.strides[1] - 1) / uniforms.strides[1]);
        var sum = 0.0;
        for (var row = thread; row < uniforms.rows; row = row + ${WORKGROUP_SIZE}) {
          let n = row / uniforms.outHeight;
          let yR = row % uniforms.outHeight;
          let xR = w[0] + yR * uniforms.strides[0] - uniforms.pads[0];
          if (xR < 0 || xR >= uniforms.inHeight) {
            continue;
          }
          for (var yC = firstColumn; yC < endColumn; yC = yC + 1) {
            let xC = w[1] + yC * uniforms.strides[1] - uniforms.pads[1];
            sum = sum + getX(n, xR, xC, w[2]) * getDy(n, yR, yC, w[3]);
          }
        }
        partial[thread] = sum;
        workgroupBarrier();
        for (var half = ${WORKGROUP_SIZE / 2}; half > 0; half = half / 2) {
          if (thread < half) {
            partial[thread] = partial[thread] + partial[thread + half];
          }
          workgroupBarrier();
        }
        if (thread == 0 && weight < uniforms.weights) {
          setOutputAtIndex(weight, partial[0]);
        }
      }
    `;
  }
}

/**
 * The filter gradient with the sum shared by a workgroup, whatever the shapes (the registered
 * kernel, {@linkcode conv2DBackpropFilter}, uses it where {@linkcode sharesSum}). NHWC data only;
 * the result is a new tensor of the backend.
 */
export function sharedConv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const filterShape = attrs.filterShape as number[];
  const g = convGeometry(x.shape, filterShape, attrs);
  if (!g) throw new RangeError("The shared filter gradient supports NHWC data only");
  const uniforms: { type: "int32"; data: number[] }[] = [
    { type: "int32", data: [g.top, g.left] },
    { type: "int32", data: [g.sh, g.sw] },
    { type: "int32", data: [g.oh] },
    { type: "int32", data: [g.ow] },
    { type: "int32", data: [g.h] },
    { type: "int32", data: [g.w] },
    { type: "int32", data: [g.n * g.oh] },
    { type: "int32", data: [tf.util.sizeFromShape(filterShape)] },
  ];
  const program = new SharedFilterGradientProgram(filterShape);
  return (args.backend as WebgpuBackend).runWebGPUProgram(program, [x, dy], "float32", uniforms);
}

/**
 * Conv2DBackpropFilter for `webgpu`: the shared sum for NHWC float32 data where
 * {@linkcode sharesSum}, TF.js's own kernel otherwise.
 */
export function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  const g = convGeometry(x.shape, attrs.filterShape as number[], attrs);
  const shared = g !== null && x.dtype === "float32" && dy.dtype === "float32" && sharesSum(g);
  return shared
    ? sharedConv2DBackpropFilter(args)
    : shippedWebgpuKernel("Conv2DBackpropFilter")(args as never) as tf.TensorInfo;
}
