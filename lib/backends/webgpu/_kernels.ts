// The kernels the project registers for TF.js's webgpu backend: the one list of them, by operation
// family (each family's file says how its kernels work). Each replaces the backend's kernel of the
// same name and hands the cases it does not cover to it.
import * as tf from "../../tf.ts";
import { keepShippedWebgpuKernel, type KernelEntry } from "../_kernel.ts";
import { conv2DBackpropFilter } from "./_conv.ts";

/** The kernels, in the order they are registered. */
export const WEBGPU_KERNELS: readonly KernelEntry[] = [
  { name: "Conv2DBackpropFilter", family: "convolution", kernel: conv2DBackpropFilter },
];

/**
 * Registers the project's kernels for the webgpu backend, replacing the backend's own (kept to
 * hand them the cases they do not cover). Idempotent: returns the number of kernels this call
 * registered.
 */
export function registerWebgpuKernels(): number {
  let added = 0;
  for (const { name, kernel } of WEBGPU_KERNELS) {
    const existing = tf.getKernelsForBackend("webgpu").find((k) => k.kernelName === name);
    if (existing?.kernelFunc === (kernel as unknown)) continue;
    if (existing) {
      keepShippedWebgpuKernel(name, existing.kernelFunc);
      tf.unregisterKernel(name, "webgpu");
    }
    tf.registerKernel({
      kernelName: name,
      backendName: "webgpu",
      kernelFunc: kernel as unknown as tf.KernelFunc,
      setupFunc: existing?.setupFunc,
      disposeFunc: existing?.disposeFunc,
    });
    added++;
  }
  return added;
}
