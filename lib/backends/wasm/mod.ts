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
 * Threads: {@linkcode startWasmBackend} starts the backend's multi-threaded build (XNNPACK's
 * thread pool on Emscripten's pthread workers), which TF.js leaves off outside browsers and whose
 * loader cannot start under Deno as shipped; lib/backends/wasm/_threads.ts says what it changes
 * while the backend starts, and checks first that the loader is the one it was written for. On
 * every CPU by default, at most 8 (`SIGNS_WASM_THREADS` sets the count; 1 is the one-thread build).
 * Results are the same on any count: XNNPACK splits outputs between threads, not sums. Where the
 * multi-threaded build does not start, the backend runs on one thread and its line says why.
 *
 * @module
 */
import { registerWasmTrainingKernels, WASM_KERNELS } from "./_kernels.ts";
export {
  MAX_WASM_THREADS,
  requestedWasmThreads,
  startWasmBackend,
  THREADED_WASM_VERSION,
  type WasmStart,
} from "./_threads.ts";

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
