/**
 * Kernels of the project's own for TF.js's WebGPU backend, in WGSL, where its own (4.22) leave a
 * GPU idle in training. The one list of them, by operation family, is `WEBGPU_KERNELS` in
 * lib/backends/webgpu/_kernels.ts; each family's file says how its kernels work. So far: the
 * filter gradient of a convolution (_conv.ts), whose sum over the batch and the output positions
 * a workgroup shares. Each is tested against the `cpu` backend on a software adapter; their speed
 * on a GPU has not been measured.
 *
 * @module
 */
import { registerWebgpuKernels, WEBGPU_KERNELS } from "./_kernels.ts";

/** Names of the kernels {@linkcode registerWebgpuTrainingKernels} provides for `webgpu`. */
export const WEBGPU_TRAINING_KERNELS: readonly string[] = WEBGPU_KERNELS.map((k) => k.name);

/**
 * Registers the project's kernels for the `webgpu` backend (importing
 * `@tensorflow/tfjs-backend-webgpu` first is the caller's job; `useBackend("webgpu")` does both).
 * Safe to call again: returns the number of kernels this call registered (0 the second time).
 */
export function registerWebgpuTrainingKernels(): number {
  return registerWebgpuKernels();
}
