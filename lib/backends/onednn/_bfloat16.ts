// Mixed precision as Keras's "mixed_bfloat16" policy names it, for the convolutions and matrix
// products oneDNN runs: their inputs are rounded to bfloat16 (float32's sign, exponent and top 7
// bits of mantissa) and their products summed in float32, into float32 results. Weights,
// gradients, batch normalisation and the optimizer stay in float32, as Keras keeps them.
//
// It is worth it only where the CPU multiplies bfloat16 in hardware (AVX-512 BF16, AMX); oneDNN
// 2.6 has no bfloat16 kernels below AVX-512. `bfloat16Support` says whether this CPU has them.
import { DNNL, type Dnnl } from "./_ffi.ts";
import { Cache, denseDesc, descPointer, pinned, Primitive } from "./_primitive.ts";

/** The precisions of the convolutions and matrix products. */
export type Precision = "float32" | "mixed_bfloat16";

let precision: Precision = "float32";

/** The precision convolutions and matrix products run in now. */
export function currentPrecision(): Precision {
  return precision;
}

/** Sets the precision of the convolutions and matrix products run after this call. */
export function setPrecision(value: Precision): void {
  precision = value;
}

// oneDNN's instruction sets (dnnl_cpu_isa_t): each one's mask holds the bits of those it extends.
const ISA_NAMES: [number, string][] = [
  [0x3e7, "AVX-512 with AMX"],
  [0xe7, "AVX-512 with BF16"],
  [0x67, "AVX-512 with VNNI"],
  [0x27, "AVX-512"],
  [0x7, "AVX2"],
];
const BFLOAT16_ISA = 0xe7;

/**
 * Whether oneDNN multiplies bfloat16 in hardware on this CPU (AVX-512 BF16, or AMX), from the
 * instruction set its kernels use (`dnnl_get_effective_cpu_isa`, which `ONEDNN_MAX_CPU_ISA` can
 * lower), with the reason in words.
 */
export function bfloat16Support(isa: number): { supported: boolean; why: string } {
  const name = ISA_NAMES.find(([mask]) => (isa & mask) === mask)?.[1] ?? "older than AVX2";
  return (isa & BFLOAT16_ISA) === BFLOAT16_ISA
    ? { supported: true, why: `oneDNN runs ${name} here` }
    : { supported: false, why: `oneDNN runs ${name} here, without bfloat16 multiplies` };
}

/** {@linkcode bfloat16Support} of the library `dnnl` on this CPU. */
export function bfloat16SupportOf(dnnl: Dnnl): { supported: boolean; why: string } {
  return bfloat16Support(dnnl.fn.dnnl_get_effective_cpu_isa());
}

// f32 -> bf16 reorders of dense arrays, by length; oneDNN rounds to nearest, ties to even.
const reorders = new Cache<Primitive>(128, (p) => p.destroy());

function reorder(dnnl: Dnnl, length: number): Primitive {
  return reorders.get(String(length), () => {
    const what = `bfloat16 rounding of ${length} values`;
    const from = denseDesc(dnnl, [length], what);
    const to = denseDesc(dnnl, [length], what, DNNL.bf16);
    return Primitive.reorder(dnnl, descPointer(from), descPointer(to), what);
  });
}

// Buffers the rounded values go to, reused (kernels run one at a time) and grown as needed: two
// for any values, one for an output gradient (below).
const slots: Uint16Array[] = [new Uint16Array(0), new Uint16Array(0), new Uint16Array(0)];
const GRADIENT_SLOT = 2;

// The output gradient rounded last, named by its tensor's data: TF.js computes a convolution's
// input gradient and then its filter gradient from the same tensor, and the second reads it as
// the first left it.
let gradient: { key: object; length: number } | undefined;

let roundedCount = 0;

/** How many values have been rounded to bfloat16 so far (to check what is rounded twice). */
export function roundedValues(): number {
  return roundedCount;
}

function roundInto(dnnl: Dnnl, values: Float32Array, slot: number): Uint16Array {
  const n = values.length;
  // (at least 512 bytes: V8 may move smaller arrays between two calls)
  if (slots[slot].length < Math.max(n, 256)) slots[slot] = new Uint16Array(Math.max(n, 256));
  const out = slots[slot].subarray(0, n);
  if (n === 0) return out;
  const r = reorder(dnnl, n);
  r.execute([
    [DNNL.arg.from, r.md(DNNL.query.src), pinned(values)],
    [DNNL.arg.to, r.md(DNNL.query.dst), slots[slot]],
  ]);
  roundedCount += n;
  return out;
}

/**
 * `values` rounded to bfloat16, in buffer `slot` (0 or 1; the result stays valid until that slot
 * is used again).
 */
export function toBfloat16(dnnl: Dnnl, values: Float32Array, slot: 0 | 1): Uint16Array {
  return roundInto(dnnl, values, slot);
}

/**
 * The output gradient `values` (of the tensor whose data `key` names) rounded to bfloat16, in a
 * buffer of its own: rounded again only where the last call had another tensor (the result stays
 * valid until the next call).
 */
export function gradientToBfloat16(dnnl: Dnnl, values: Float32Array, key: object): Uint16Array {
  if (gradient?.key === key && gradient.length === values.length) {
    return slots[GRADIENT_SLOT].subarray(0, values.length);
  }
  gradient = undefined;
  const out = roundInto(dnnl, values, GRADIENT_SLOT);
  gradient = { key, length: values.length };
  return out;
}
