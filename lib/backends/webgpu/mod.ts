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
import * as tf from "../../tf.ts";
import { registerWebgpuKernels, WEBGPU_KERNELS } from "./_kernels.ts";
import { sharedConv2DBackpropFilter, sharesSum } from "./_conv.ts";
import { shippedWebgpuKernel } from "../_kernel.ts";
import { convGeometry } from "../_conv_geometry.ts";

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

/**
 * The two filter-gradient kernels on `webgpu`, for timing one against the other: TF.js's own
 * (`shipped`, once `useBackend("webgpu")` has run) and this project's (`shared`), and which of
 * them the registered kernel runs for the shapes and attributes of a convolution.
 */
export const FILTER_GRADIENT_KERNELS = {
  shipped: (): tf.KernelFunc => shippedWebgpuKernel("Conv2DBackpropFilter"),
  shared: sharedConv2DBackpropFilter as unknown as tf.KernelFunc,
  registered(
    xShape: readonly number[],
    filterShape: readonly number[],
    attrs: { strides: number; pad: "same" | "valid" },
  ): "shared" | "shipped" {
    const g = convGeometry([...xShape], [...filterShape], attrs);
    return g && sharesSum(g) ? "shared" : "shipped";
  },
};
