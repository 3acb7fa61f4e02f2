// Element-wise kernels and reductions through oneDNN: binary operations (with broadcasting of the
// second operand), ReLU, and sums or means over the leading axes, on dense row-major Float32Arrays.
// The WebAssembly backend runs these on one thread, and its broadcasting add (a convolution's
// bias) and its reductions over leading axes (a bias gradient) take as long as the convolution
// itself; oneDNN runs them on every thread it has. Small tensors stay on WebAssembly, where a
// call costs less than oneDNN's memory objects.
import { check, DNNL, type Dnnl } from "./_ffi.ts";
import { Cache, denseDesc, descPointer as ptr, Primitive, writeInto } from "./_primitive.ts";

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
export function binaryInto(
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
export function reluInto(dnnl: Dnnl, x: Float32Array, dst: Float32Array): void {
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
export function sumRowsInto(
  dnnl: Dnnl,
  rows: number,
  columns: number,
  mean: boolean,
  x: Float32Array,
  dst: Float32Array,
): void {
  if (ones.length < rows) ones = new Float32Array(Math.max(rows, 64)).fill(1);
  const N = "N".charCodeAt(0);
  writeInto(dst, (target) =>
    check(
      dnnl.fn.dnnl_sgemm(
        N,
        N,
        1n,
        BigInt(columns),
        BigInt(rows),
        mean ? 1 / rows : 1,
        ones,
        BigInt(rows),
        x,
        BigInt(columns),
        0,
        target,
        BigInt(columns),
      ),
      `sum of [${rows}, ${columns}] over its rows`,
    ));
}
