// The SIMD kernels of _simd.c, instantiated on the wasm backend's own memory so that they read
// and write its tensors in place. They run on the main thread; the backend's worker threads, where
// it has them, only work inside TF.js's own kernels. Arguments are byte offsets into that memory
// (a tensor's `typedArrayFromHeap(...).byteOffset`) and sizes; see _simd.c for what each computes.
import { SIMD_SHARED_WASM_BASE64, SIMD_WASM_BASE64 } from "./_simd_binary.ts";

/** The kernels of _simd.c (pointers are byte offsets into the backend's memory). */
export interface SimdKernels {
  pad_nhwc(
    x: number,
    xp: number,
    n: number,
    h: number,
    w: number,
    c: number,
    hp: number,
    wp: number,
    top: number,
    left: number,
  ): void;
  conv_filter_grad(
    xp: number,
    dy: number,
    dw: number,
    acc: number,
    n: number,
    hp: number,
    wp: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
  ): void;
  max_pool_grad(
    x: number,
    y: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): number;
  sum_rows(x: number, out: number, rows: number, cols: number, scale: number, acc: number): void;
  add_rows(x: number, v: number, out: number, rows: number, cols: number): void;
  bn_stats(x: number, mean: number, variance: number, rows: number, c: number, acc: number): void;
  bn_normalize(
    x: number,
    mean: number,
    variance: number,
    scale: number,
    offset: number,
    y: number,
    rows: number,
    c: number,
    epsilon: number,
    factor: number,
  ): void;
  bn_grad(
    dy: number,
    x: number,
    mean: number,
    variance: number,
    scale: number,
    dx: number,
    dscale: number,
    doffset: number,
    rows: number,
    c: number,
    epsilon: number,
    acc: number,
    coefficients: number,
  ): void;
  relu_grad(dy: number, x: number, out: number, n: number): void;
  adam_update(
    w0: number,
    m0: number,
    v0: number,
    g: number,
    w1: number,
    m1: number,
    v1: number,
    n: number,
    beta1: number,
    beta2: number,
    r1: number,
    r2: number,
    step: number,
    root: number,
    epsilon: number,
  ): void;
}

// The backend's memory: exported by the one-thread build, created in JavaScript (and shared with
// the worker threads) by the multi-threaded one.
type EmscriptenBackend = {
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown };
};

const compiled = new Map<string, WebAssembly.Module>();
const instances = new WeakMap<object, SimdKernels>();

function compile(base64: string): WebAssembly.Module {
  let module = compiled.get(base64);
  if (!module) {
    module = new WebAssembly.Module(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    compiled.set(base64, module);
  }
  return module;
}

/** The SIMD kernels working on the memory of `backend`, a wasm backend instance. */
export function simdKernels(backend: object): SimdKernels {
  let kernels = instances.get(backend);
  if (!kernels) {
    const wasm = (backend as EmscriptenBackend).wasm;
    const memory = wasm?.wasmMemory ?? wasm?.asm?.memory;
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new Error(
        "The wasm backend's memory was not found (wasm.wasmMemory or wasm.asm.memory)",
      );
    }
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const module = compile(shared ? SIMD_SHARED_WASM_BASE64 : SIMD_WASM_BASE64);
    kernels = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as SimdKernels;
    instances.set(backend, kernels);
  }
  return kernels;
}
