/**
 * Training on TF.js's WebAssembly backend. As shipped, `wasm` cannot train a convolutional network
 * well: it has no kernel for the filter gradient of a convolution, and several kernels that
 * gradients, mini-batches and optimizers use are slow reference loops, copy what they could share,
 * or (its cast to bool) are wrong. TF.js's Adam runs about ten kernels per variable and step, its
 * batch normalisation about twenty per layer. {@linkcode registerTrainingKernels} adds and
 * replaces kernels with ones built from the backend's fast XNNPACK convolutions and matrix
 * products, and with SIMD kernels of the project's own (lib/backends/wasm/_simd.c, compiled by
 * tools/build_simd.sh) that work on the backend's memory in place. The one list of them, by
 * operation family, is `WASM_KERNELS` in lib/backends/wasm/_kernels.ts; each family's file
 * (_conv.ts, _pooling.ts, _batch_norm.ts, _elementwise.ts, _gather.ts, _matmul.ts, _optimizer.ts)
 * says how its kernels work.
 *
 * Threads: the backend runs on one thread under Deno. Its multi-threaded build starts its workers
 * from a `blob:` URL through Node's worker API, which Deno's Node compatibility does not accept;
 * making it start needs the worker script written to disk and the loader patched, which depends on
 * Emscripten internals of one TF.js version. That is not robust enough to ship, so the project
 * uses one thread and leaves the fast CPU path to native kernels.
 *
 * @module
 */
import { registerWasmTrainingKernels, WASM_KERNELS } from "./_kernels.ts";

/** Names of the kernels {@linkcode registerTrainingKernels} provides for `wasm`. */
export const WASM_TRAINING_KERNELS: readonly string[] = WASM_KERNELS.map((k) => k.name);

/**
 * Registers the training kernels for the `wasm` backend (importing `@tensorflow/tfjs-backend-wasm`
 * first is the caller's job; `useBackend("wasm")` does both). Safe to call again: resolves to the
 * number of kernels this call registered (0 the second time).
 */
export function registerTrainingKernels(): number {
  return registerWasmTrainingKernels();
}
