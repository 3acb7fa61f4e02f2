/**
 * Training on TF.js's WebAssembly backend. As shipped, `wasm` cannot train a convolutional network:
 * it has no kernel for the filter gradient of a convolution, its input gradient is a slow reference
 * loop, and its `Tile`, transposed matrix products and per-channel sums (all used by gradients) are
 * slow, as is its `GatherV2` (which picks every mini-batch out of the training set) and its
 * broadcasting `Add` (a convolution's bias); its `Identity` copies what it could share; its cast
 * to bool is wrong (it truncates to a byte) and is replaced too. TF.js's Adam runs about ten
 * kernels per variable and step, its batch normalisation about twenty per layer.
 * {@linkcode registerTrainingKernels} adds and replaces those kernels with ones built from the
 * backend's fast XNNPACK convolutions and matrix products, and with SIMD kernels of the project's
 * own (lib/backends/wasm/_simd.c, compiled by tools/build_simd.sh) that work on the backend's memory in
 * place: the first layer's filter gradient, max pooling's gradient, per-channel sums and bias
 * additions, the ReLU's gradient (one pass instead of three kernels), and batch normalisation in
 * training mode with its gradient (two kernels instead of about twenty; lib/backends/wasm/_batch_norm.ts).
 * Adam's update runs as one kernel per variable (lib/backends/wasm/_optimizer.ts).
 *
 * Threads: the backend runs on one thread under Deno. Its multi-threaded build starts its workers
 * from a `blob:` URL through Node's worker API, which Deno's Node compatibility does not accept;
 * making it start needs the worker script written to disk and the loader patched, which depends on
 * Emscripten internals of one TF.js version. That is not robust enough to ship, so the project
 * uses one thread and leaves the fast CPU path to native kernels.
 *
 * @module
 */
import { registerWasmTrainingKernels, TRAINING_KERNEL_NAMES } from "./_kernels.ts";

/** Names of the kernels {@linkcode registerTrainingKernels} provides for `wasm`. */
export const WASM_TRAINING_KERNELS: readonly string[] = TRAINING_KERNEL_NAMES;

/**
 * Registers the training kernels for the `wasm` backend (importing `@tensorflow/tfjs-backend-wasm`
 * first is the caller's job; `useBackend("wasm")` does both). Safe to call again: resolves to the
 * number of kernels this call registered (0 the second time).
 */
export function registerTrainingKernels(): number {
  return registerWasmTrainingKernels();
}
