// One oneDNN primitive (its descriptor and the primitive itself) and how to run it on
// Float32Arrays, plus a bounded cache of primitives keyed by shape.
import { check, DNNL, type Dnnl, outPointer } from "./_ffi.ts";

type Pointer = Deno.PointerValue;

/** The address of a memory descriptor, as primitive arguments pass it. */
export function descPointer(md: Uint8Array): Pointer {
  return Deno.UnsafePointer.of(md);
}

/** Values a primitive reads or writes: float32, or bfloat16 held as 16-bit integers. */
export type Values = Float32Array | Uint16Array;

/** One argument of an execution: the argument index, its memory descriptor, its values. */
export type Argument = [number, Pointer, Values];

/** The 12 int64 values oneDNN takes for dimensions, strides and paddings. */
export function dims(values: readonly number[]): BigInt64Array {
  const out = new BigInt64Array(DNNL.maxDims);
  values.forEach((v, i) => (out[i] = BigInt(v)));
  return out;
}

/** A dense row-major memory descriptor of f32 values (or of `dataType`, a `DNNL` type). */
export function denseDesc(
  dnnl: Dnnl,
  shape: readonly number[],
  what: string,
  dataType: number = DNNL.f32,
): Uint8Array {
  const dense = shape.length === 0 ? [1] : shape;
  const strides: number[] = new Array(dense.length);
  let stride = 1;
  for (let i = dense.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= dense[i];
  }
  const md = new Uint8Array(DNNL.memoryDescBytes);
  check(
    dnnl.fn.dnnl_memory_desc_init_by_strides(
      md,
      dense.length,
      dims(dense),
      dataType,
      dims(strides),
    ),
    `memory descriptor [${dense}] (${what})`,
  );
  return md;
}

/** A memory descriptor with the given format tag (`DNNL.tag`), of f32 values or `dataType`. */
export function taggedDesc(
  dnnl: Dnnl,
  shape: readonly number[],
  tag: number,
  what: string,
  dataType: number = DNNL.f32,
) {
  const md = new Uint8Array(DNNL.memoryDescBytes);
  check(
    dnnl.fn.dnnl_memory_desc_init_by_tag(md, shape.length, dims(shape), dataType, tag),
    `memory descriptor [${shape}] (${what})`,
  );
  return md;
}

// V8 keeps typed arrays of up to 64 bytes inside its moving heap, where their address can change
// between two calls: such arrays are copied into a larger one before native code sees them.
const SMALL_BYTES = 256;

/** `values` itself, or a copy at a stable address when it is small. */
export function pinned<T extends Values>(values: T): T {
  if (values.byteLength > SMALL_BYTES) return values;
  const copy = new (values.constructor as new (length: number) => T)(SMALL_BYTES);
  copy.set(values);
  return copy;
}

/** Whether two memory descriptors (as primitives report them) describe the same layout. */
export function sameDesc(a: Pointer, b: Pointer): boolean {
  if (!a || !b) return a === b;
  const bytes = DNNL.memoryDescBytes;
  const x = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(a, bytes));
  const y = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(b, bytes));
  return x.every((v, i) => v === y[i]);
}

/**
 * `length` float32 values (zeros) starting at an address that is a multiple of 64 bytes, as some
 * of oneDNN's kernels (Winograd's) require of the memory they are given.
 */
export function alignedFloats(length: number): Float32Array {
  const buffer = new ArrayBuffer(4 * length + 64);
  const address = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
  const offset = (64 - (address % 64)) % 64;
  return new Float32Array(buffer, offset, length);
}

/**
 * Runs `fill` on an array that native code writes: `out` itself, or for a small `out` a larger
 * array whose first values are copied back (and, with `read`, copied in first).
 */
export function writeInto(
  out: Float32Array,
  fill: (target: Float32Array) => void,
  read = false,
): void {
  if (out.byteLength > SMALL_BYTES) return fill(out);
  const target = new Float32Array(SMALL_BYTES / 2);
  if (read) target.set(out);
  fill(target);
  out.set(target.subarray(0, out.length));
}

const [N, T] = ["N".charCodeAt(0), "T".charCodeAt(0)];

/**
 * Row-major c [m, n] = alpha · op(a) · op(b) + beta · c, op transposing where `trans` says (`ld`:
 * the distance between rows of a, b and c where it is not their row length; the values between
 * c's rows are left as they are),
 * through oneDNN's sgemm, or its gemm_bf16bf16f32 where a and b hold bfloat16 values (products of
 * bfloat16 summed in float32); `what` names the product in an error.
 */
export function gemm(
  dnnl: Dnnl,
  [transA, transB]: [boolean, boolean],
  [m, n, k]: [number, number, number],
  a: Values,
  b: Values,
  c: Float32Array,
  what: string,
  alpha = 1,
  beta = 0,
  ld: { a?: number; b?: number; c?: number } = {},
): void {
  const bf16 = a instanceof Uint16Array;
  if (bf16 !== b instanceof Uint16Array) {
    throw new TypeError(`${what}: both factors must be float32 or both bfloat16`);
  }
  const product = bf16 ? dnnl.fn.dnnl_gemm_bf16bf16f32 : dnnl.fn.dnnl_sgemm;
  writeInto(c, (target) =>
    check(
      product(
        transA ? T : N,
        transB ? T : N,
        BigInt(m),
        BigInt(n),
        BigInt(k),
        alpha,
        pinned(a),
        BigInt(ld.a ?? (transA ? m : k)),
        pinned(b),
        BigInt(ld.b ?? (transB ? k : n)),
        beta,
        target,
        BigInt(ld.c ?? n),
      ),
      bf16 ? `${what} (bfloat16)` : what,
    ), beta !== 0 || ld.c !== undefined);
}

/** A created primitive; `destroy()` frees its native objects. */
export class Primitive {
  private readonly cell = new BigUint64Array(1);

  private constructor(
    readonly dnnl: Dnnl,
    readonly pd: Pointer,
    readonly prim: Pointer,
    readonly what: string,
  ) {}

  /** Creates the primitive of an operation descriptor (`hint`: the forward one of a backward). */
  static create(dnnl: Dnnl, opDesc: Uint8Array, what: string, hint: Pointer = null): Primitive {
    const cell = new BigUint64Array(1);
    check(
      dnnl.fn.dnnl_primitive_desc_create(cell, opDesc, null, dnnl.engine, hint),
      `${what}: primitive descriptor`,
    );
    return Primitive.finish(dnnl, outPointer(cell), what);
  }

  /** Creates a reorder from one memory layout to another. */
  static reorder(dnnl: Dnnl, from: Pointer, to: Pointer, what: string): Primitive {
    const cell = new BigUint64Array(1);
    const e = dnnl.engine;
    check(
      dnnl.fn.dnnl_reorder_primitive_desc_create(cell, from, e, to, e, null),
      `${what}: reorder descriptor`,
    );
    return Primitive.finish(dnnl, outPointer(cell), what);
  }

  private static finish(dnnl: Dnnl, pd: Pointer, what: string): Primitive {
    const cell = new BigUint64Array(1);
    const status = dnnl.fn.dnnl_primitive_create(cell, pd);
    if (status !== 0) dnnl.fn.dnnl_primitive_desc_destroy(pd);
    check(status, `${what}: primitive creation`);
    return new Primitive(dnnl, pd, outPointer(cell), what);
  }

  /** The memory descriptor the primitive uses for `query` (`DNNL.query`). */
  md(query: number): Pointer {
    return this.dnnl.fn.dnnl_primitive_desc_query_md(this.pd, query, 0);
  }

  /** The name of the implementation oneDNN chose, such as "jit:avx2" or "x64:gemm:jit". */
  implementation(): string {
    const cell = new BigUint64Array(1);
    check(
      this.dnnl.fn.dnnl_primitive_desc_query(this.pd, DNNL.query.implInfo, 0, cell),
      `${this.what}: implementation query`,
    );
    const name = Deno.UnsafePointer.create(cell[0]);
    return name ? new Deno.UnsafePointerView(name).getCString() : "";
  }

  /** Size in bytes of the memory the primitive uses for `query`. */
  bytes(query: number): number {
    return Number(this.dnnl.fn.dnnl_memory_desc_get_size(this.md(query)));
  }

  /** Runs the primitive on memory objects wrapping the given arrays, then frees the objects. */
  execute(args: Argument[]): void {
    const fn = this.dnnl.fn;
    const memories: Pointer[] = [];
    const packed = new BigUint64Array(args.length * 2);
    try {
      args.forEach(([arg, md, data], i) => {
        check(
          fn.dnnl_memory_create(this.cell, md, this.dnnl.engine, Deno.UnsafePointer.of(data)),
          `${this.what}: memory object`,
        );
        const memory = outPointer(this.cell);
        memories.push(memory);
        packed[2 * i] = BigInt(arg);
        packed[2 * i + 1] = BigInt(Deno.UnsafePointer.value(memory));
      });
      check(fn.dnnl_primitive_execute(this.prim, this.dnnl.stream, args.length, packed), this.what);
      check(fn.dnnl_stream_wait(this.dnnl.stream), `${this.what} (wait)`);
    } finally {
      for (const memory of memories) fn.dnnl_memory_destroy(memory);
    }
  }

  /** Frees the primitive and its descriptor. */
  destroy(): void {
    this.dnnl.fn.dnnl_primitive_destroy(this.prim);
    this.dnnl.fn.dnnl_primitive_desc_destroy(this.pd);
  }
}

/** Values kept per key, at most `capacity` of them; the oldest is dropped (and freed) first. */
export class Cache<T> {
  private readonly entries = new Map<string, T>();

  constructor(readonly capacity: number, readonly free: (value: T) => void) {}

  /** The value for `key`, made by `make` when absent. */
  get(key: string, make: () => T): T {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = make();
      if (this.entries.size >= this.capacity) {
        const [oldest, old] = this.entries.entries().next().value as [string, T];
        this.entries.delete(oldest);
        this.free(old);
      }
      this.entries.set(key, value);
    }
    return value;
  }

  /** Number of values held. */
  get size(): number {
    return this.entries.size;
  }
}
