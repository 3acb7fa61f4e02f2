// Element-wise kernels and reductions through oneDNN: binary operations (with broadcasting of the
// second operand), ReLU, and sums or means over the leading axes, on dense row-major Float32Arrays.
// The WebAssembly backend runs these on one thread, and its broadcasting add (a convolution's
// bias) and its reductions over leading axes (a bias gradient) take as long as the convolution
// itself; oneDNN runs them on every thread it has. Small tensors stay on WebAssembly, where a
// call costs less than oneDNN's memory objects.
import { check, DNNL, type Dnnl } from "./_ffi.ts";
import * as tf from "../../tf.ts";
import { Scope } from "../_heap.ts";
import { type KernelArgs, runWasmKernel } from "../_kernel.ts";
import { Cache, denseDesc, descPointer as ptr, gemm, pinned, Primitive } from "./_primitive.ts";

/** Tensors with fewer values than this stay on the WebAssembly kernels. */
export const NATIVE_MIN_SIZE = 1 << 15;

/** A primitive with the memory descriptors of its operands. */
interface Plan {
  op: Primitive;
  descs: Uint8Array[];
}

const plans = new Cache<Plan>(512, (plan) => plan.op.destroy());

/** The binary operations handled natively, by TF.js kernel name. */
export const BINARY_ALGS = {
  Add: DNNL.alg.add,
  Sub: DNNL.alg.sub,
  Multiply: DNNL.alg.mul,
} as const;

/** dst = a (op) b, where `bShape` has `aShape`'s rank and each of its dimensions is 1 or a's. */
function binaryInto(
  dnnl: Dnnl,
  kernel: keyof typeof BINARY_ALGS,
  aShape: readonly number[],
  bShape: readonly number[],
  a: Float32Array,
  b: Float32Array,
  dst: Float32Array,
): void {
  const plan = plans.get(`binary|${kernel}|${aShape}|${bShape}`, () => {
    const what = `${kernel} of [${aShape}] and [${bShape}]`;
    const descs = [denseDesc(dnnl, aShape, what), denseDesc(dnnl, bShape, what)];
    const desc = new Uint8Array(DNNL.binaryDescBytes);
    check(
      dnnl.fn.dnnl_binary_desc_init(desc, BINARY_ALGS[kernel], descs[0], descs[1], descs[0]),
      `${what}: descriptor`,
    );
    return { op: Primitive.create(dnnl, desc, what), descs };
  });
  const [aDesc, bDesc] = plan.descs;
  plan.op.execute([
    [DNNL.arg.src, ptr(aDesc), a],
    [DNNL.arg.src1, ptr(bDesc), b],
    [DNNL.arg.dst, ptr(aDesc), dst],
  ]);
}

/** dst = max(x, 0). */
function reluInto(dnnl: Dnnl, x: Float32Array, dst: Float32Array): void {
  // The values are dense, so one dimension describes any shape.
  const plan = plans.get(`relu|${x.length}`, () => {
    const what = `ReLU of ${x.length} values`;
    const descs = [denseDesc(dnnl, [x.length], what)];
    const desc = new Uint8Array(DNNL.eltwiseDescBytes);
    check(
      dnnl.fn.dnnl_eltwise_forward_desc_init(
        desc,
        DNNL.prop.forwardInference,
        DNNL.alg.relu,
        descs[0],
        0,
        0,
      ),
      `${what}: descriptor`,
    );
    return { op: Primitive.create(dnnl, desc, what), descs };
  });
  plan.op.execute([
    [DNNL.arg.src, ptr(plan.descs[0]), x],
    [DNNL.arg.dst, ptr(plan.descs[0]), dst],
  ]);
}

// A row of ones, grown on demand: a sum over rows is this row times the matrix.
let ones = new Float32Array(0);

/**
 * dst[c] = the sum (or mean, `mean`) of x[r, c] over the `rows` rows of x, a row-major
 * [rows, columns] matrix: a reduction over the leading axes of a tensor, as a bias gradient is.
 * It runs as oneDNN's matrix product of a row of ones with x.
 */
function sumRowsInto(
  dnnl: Dnnl,
  rows: number,
  columns: number,
  mean: boolean,
  x: Float32Array,
  dst: Float32Array,
): void {
  if (ones.length < rows) ones = new Float32Array(Math.max(rows, 64)).fill(1);
  // dst [1, columns] = (1 or 1 / rows) · ones [1, rows] · x [rows, columns]
  const what = `sum of [${rows}, ${columns}] over its rows`;
  gemm(dnnl, [false, false], [1, columns, rows], ones, x, dst, what, mean ? 1 / rows : 1);
}

const size = tf.util.sizeFromShape;

/** Add, Sub or Multiply of large float32 tensors (the second operand broadcast); others on wasm. */
export function binaryKernel(
  dnnl: Dnnl,
  name: keyof typeof BINARY_ALGS,
): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    let { a, b } = args.inputs as Record<string, tf.TensorInfo>;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const full = (t: tf.TensorInfo) =>
      t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    // oneDNN broadcasts the second operand only; add and multiply may swap theirs.
    if (!full(a) && name !== "Sub" && full(b)) [a, b] = [b, a];
    if (
      a.dtype !== "float32" || b.dtype !== "float32" || !full(a) ||
      size(shape) < NATIVE_MIN_SIZE || shape.length > 6
    ) {
      return runWasmKernel(name, args);
    }
    let aShape = shape;
    let bShape = [...new Array(shape.length - b.shape.length).fill(1), ...b.shape];
    const channels = shape[shape.length - 1];
    const rows = size(shape) / channels;
    // A per-channel operand (a bias) broadcasts slowly over rows as short as a few channels:
    // the operand is repeated `times` times and the rows joined in groups of as many.
    let times = 1;
    if (bShape.every((d, i) => d === 1 || i === shape.length - 1) && bShape.at(-1) === channels) {
      for (let r = Math.floor(1024 / channels); r > 1; r--) {
        if (rows % r === 0) {
          times = r;
          break;
        }
      }
      aShape = [rows / times, channels * times];
      bShape = [1, channels * times];
    }
    const { make, view } = Scope.of(args);
    const out = make(shape);
    let operand = view(b);
    if (times > 1) {
      const tiled = new Float32Array(channels * times);
      for (let r = 0; r < times; r++) tiled.set(operand, r * channels);
      operand = pinned(tiled);
    }
    binaryInto(dnnl, name, aShape, bShape, view(a), operand, view(out));
    return out;
  };
}

/** Relu of a large float32 tensor; others on wasm. */
export function reluKernel(dnnl: Dnnl): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const { x } = args.inputs as Record<string, tf.TensorInfo>;
    if (x.dtype !== "float32" || size(x.shape) < NATIVE_MIN_SIZE) {
      return runWasmKernel("Relu", args);
    }
    const { make, view } = Scope.of(args);
    const out = make(x.shape);
    reluInto(dnnl, view(x), view(out));
    return out;
  };
}

/** Sum or Mean over the leading axes of a large float32 tensor; others on wasm. */
export function reduceKernel(
  dnnl: Dnnl,
  kind: "sum" | "mean",
): (args: KernelArgs) => tf.TensorInfo {
  const name = kind === "sum" ? "Sum" : "Mean";
  return (args) => {
    const { x } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    // Only the leading axes: [rows, columns] with the reduced axes as rows.
    const leading = axes.length > 0 && [...axes].sort((i, j) => i - j).every((a, i) => a === i);
    if (x.dtype !== "float32" || size(x.shape) < NATIVE_MIN_SIZE || !leading) {
      return runWasmKernel(name, args);
    }
    const rows = size(x.shape.slice(0, axes.length));
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const outShape = attrs.keepDims ? kept : x.shape.slice(axes.length);
    const { make, view } = Scope.of(args);
    const out = make(outShape);
    sumRowsInto(dnnl, rows, size(x.shape) / rows, kind === "mean", view(x), view(out));
    return out;
  };
}
