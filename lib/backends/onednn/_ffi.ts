// Typed bindings to oneDNN 2.x's C API (libdnnl.so.2), the only module that touches FFI.
//
// oneDNN 2.x asks the caller to allocate its descriptor structs: a memory descriptor is 696 bytes
// and a convolution descriptor 5976 (x86-64, DNNL_MAX_NDIMS = 12); dimension arrays are 12
// int64 values. Handles (engine, stream, primitive descriptors, primitives, memory objects) are
// opaque pointers. Every call returns a status, which `check` turns into an Error naming the call.

import { readEnv } from "../../util/env.ts";

/** Sizes and constants of oneDNN 2.6's C API (dnnl_types.h). */
export const DNNL = {
  memoryDescBytes: 696,
  convDescBytes: 5976,
  maxDims: 12,
  bf16: 2,
  f32: 3,
  binaryDescBytes: 2096,
  eltwiseDescBytes: 1416,
  poolingDescBytes: 3288,
  batchNormDescBytes: 3496,
  batchNormFlags: { useScale: 8, useShift: 16 },
  tag: { any: 1, x: 2, nhwc: 20, hwio: 30 },
  engineCpu: 1,
  streamInOrder: 1,
  prop: {
    forwardTraining: 64,
    forwardInference: 96,
    backward: 128,
    backwardData: 160,
    backwardWeights: 192,
  },
  alg: {
    relu: 31,
    pow: 32,
    square: 79,
    abs: 95,
    sqrt: 111,
    linear: 127,
    exp: 191,
    log: 239,
    poolMax: 511,
    poolAvgIncludePadding: 767,
    poolAvgExcludePadding: 1023,
    add: 131056,
    mul: 131057,
    max: 131058,
    min: 131059,
    div: 131060,
    sub: 131061,
  },
  convolutionDirect: 1,
  convolutionWinograd: 2,
  query: {
    implInfo: 8,
    src: 129,
    diffSrc: 130,
    weights: 131,
    diffWeights: 132,
    dst: 133,
    diffDst: 134,
    workspace: 135,
  },
  arg: {
    src: 1,
    src1: 2,
    dst: 17,
    workspace: 64,
    mean: 49,
    variance: 50,
    scale: 51,
    shift: 52,
    diffScale: 255,
    diffShift: 256,
    weights: 33,
    bias: 41,
    diffSrc: 129,
    diffDst: 145,
    diffWeights: 161,
    from: 1,
    to: 17,
  },
} as const;

const STATUS = [
  "success",
  "out of memory",
  "invalid arguments",
  "unimplemented",
  "iterator ends",
  "runtime error",
  "not required",
];

// transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc
const GEMM = {
  parameters: [
    "u8",
    "u8",
    "i64",
    "i64",
    "i64",
    "f32",
    "buffer",
    "i64",
    "buffer",
    "i64",
    "f32",
    "buffer",
    "i64",
  ],
  result: "i32",
} as const;

const SYMBOLS = {
  dnnl_engine_create: { parameters: ["buffer", "i32", "usize"], result: "i32" },
  dnnl_stream_create: { parameters: ["buffer", "pointer", "u32"], result: "i32" },
  dnnl_memory_desc_init_by_tag: {
    parameters: ["buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  dnnl_memory_desc_init_by_strides: {
    parameters: ["buffer", "i32", "buffer", "i32", "buffer"],
    result: "i32",
  },
  dnnl_binary_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_eltwise_forward_desc_init: {
    parameters: ["buffer", "i32", "i32", "buffer", "f32", "f32"],
    result: "i32",
  },
  // Row-major C = alpha * op(A) * op(B) + beta * C; transa/transb are the characters N or T.
  dnnl_sgemm: GEMM,
  // The same with A and B in bfloat16 (16-bit values) and C in float32.
  dnnl_gemm_bf16bf16f32: GEMM,
  dnnl_pooling_v2_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_pooling_v2_backward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_batch_normalization_forward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "f32", "u32"],
    result: "i32",
  },
  dnnl_batch_normalization_backward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "f32", "u32"],
    result: "i32",
  },
  dnnl_convolution_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_convolution_backward_data_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_convolution_backward_weights_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_primitive_desc_create: {
    parameters: ["buffer", "buffer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_reorder_primitive_desc_create: {
    parameters: ["buffer", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_primitive_desc_query: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  dnnl_primitive_desc_query_md: { parameters: ["pointer", "i32", "i32"], result: "pointer" },
  dnnl_primitive_desc_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_create: { parameters: ["buffer", "pointer"], result: "i32" },
  dnnl_primitive_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_execute: { parameters: ["pointer", "pointer", "i32", "buffer"], result: "i32" },
  dnnl_memory_create: { parameters: ["buffer", "pointer", "pointer", "pointer"], result: "i32" },
  dnnl_memory_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: ["pointer"], result: "usize" },
  dnnl_stream_wait: { parameters: ["pointer"], result: "i32" },
  // The instruction set oneDNN's kernels use here (a dnnl_cpu_isa_t bit mask).
  dnnl_get_effective_cpu_isa: { parameters: [], result: "i32" },
} as const;

/** The opened library: its functions, a CPU engine and an in-order stream. */
export interface Dnnl {
  fn: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
  engine: Deno.PointerValue;
  stream: Deno.PointerValue;
  path: string;
}

/** Throws an Error naming `what` when `status` is not success. */
export function check(status: number, what: string): void {
  if (status !== 0) {
    throw new Error(`oneDNN ${what} failed: ${STATUS[status] ?? `status ${status}`}`);
  }
}

/** Reads the pointer a oneDNN call wrote into an 8-byte out-parameter. */
export function outPointer(cell: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(cell[0]);
}

const CANDIDATES = [
  "libdnnl.so.2",
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
  "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
];

let opened: Dnnl | null | undefined;
let openError = "";

/**
 * Opens libdnnl (ONEDNN_LIBRARY, else the usual names) once, with a CPU engine and a stream.
 * Resolves to null, with the reason in `openFailure()`, when it cannot be opened.
 */
export function openDnnl(): Dnnl | null {
  if (opened !== undefined) return opened;
  const path = readEnv("ONEDNN_LIBRARY");
  const errors: string[] = [];
  for (const candidate of path ? [path] : CANDIDATES) {
    try {
      const lib = Deno.dlopen(candidate, SYMBOLS);
      const cell = new BigUint64Array(1);
      check(lib.symbols.dnnl_engine_create(cell, DNNL.engineCpu, 0n), "engine creation");
      const engine = outPointer(cell);
      check(lib.symbols.dnnl_stream_create(cell, engine, DNNL.streamInOrder), "stream creation");
      opened = { fn: lib.symbols, engine, stream: outPointer(cell), path: candidate };
      return opened;
    } catch (error) {
      errors.push(`${candidate}: ${String((error as Error).message).split("\n")[0]}`);
    }
  }
  openError = `libdnnl.so.2 not found (install Debian's libdnnl2, or set ONEDNN_LIBRARY): ${
    errors.join("; ")
  }`;
  opened = null;
  return null;
}

/**
 * Sets the number of OpenMP threads oneDNN runs with, through libgomp (Debian's oneDNN is built
 * with it): call it before the first primitive is created. Returns the count in effect, or null
 * when the OpenMP runtime cannot be reached (another threading runtime; its own default then).
 */
export function setOpenMpThreads(threads: number): number | null {
  try {
    const gomp = Deno.dlopen("libgomp.so.1", {
      omp_set_num_threads: { parameters: ["i32"], result: "void" },
      omp_get_max_threads: { parameters: [], result: "i32" },
    });
    gomp.symbols.omp_set_num_threads(threads);
    const inEffect = gomp.symbols.omp_get_max_threads();
    gomp.close();
    return inEffect;
  } catch {
    return null;
  }
}

/** Why `openDnnl()` returned null. */
export function openFailure(): string {
  return openError;
}
