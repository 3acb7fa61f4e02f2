// What every kernel of the project's backends receives and returns, and the kernels a backend
// started from: TF.js's registry keeps one kernel per name and backend, so a kernel replaced here
// is kept to hand the cases the replacement does not cover back to it.
import * as tf from "../tf.ts";

/** The arguments TF.js passes a kernel: its input tensors, the backend, its attributes. */
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: object;
  attrs?: tf.NamedAttrMap;
};

/** A kernel of one output, or of several. */
export type Kernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** The operation families the backends' files are split by (the same file name in each). */
export type KernelFamily =
  | "convolution"
  | "pooling"
  | "batch normalisation"
  | "element-wise"
  | "gather"
  | "matrix product"
  | "optimizer";

/** One kernel a backend registers: its TF.js name, its family and its function. */
export interface KernelEntry {
  /** The kernel's name in TF.js's registry (or a name from lib/ops/). */
  name: string;
  /** What kind of operation it is. */
  family: KernelFamily;
  /** The kernel. */
  kernel: Kernel;
}

/**
 * Runs the kernel registered on the `wasm` backend under `name` now: the project's own where it
 * replaced TF.js's, else TF.js's. The onednn backend hands the cases its kernels do not cover to
 * it.
 */
export function runWasmKernel(name: string, args: KernelArgs): tf.TensorInfo {
  return tf.getKernel(name, "wasm").kernelFunc(args as never) as tf.TensorInfo;
}

const shipped = new Map<string, tf.KernelFunc>();

/** Remembers TF.js's own wasm kernel before the project replaces it, so it can still be called. */
export function keepShippedWasmKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (!shipped.has(kernelName)) shipped.set(kernelName, kernelFunc);
}

/**
 * TF.js's own `wasm` kernel `kernelName`, also after the project replaced it: the replacements
 * hand it the cases they do not cover.
 */
export function shippedWasmKernel(kernelName: string): tf.KernelFunc {
  const kernel = shipped.get(kernelName) ?? tf.getKernel(kernelName, "wasm")?.kernelFunc;
  if (!kernel) throw new Error(`The wasm backend has no ${kernelName} kernel`);
  return kernel;
}

const shippedWebgpu = new Map<string, tf.KernelFunc>();

/** Remembers TF.js's own webgpu kernel before the project replaces it, so it can still be called. */
export function keepShippedWebgpuKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (!shippedWebgpu.has(kernelName)) shippedWebgpu.set(kernelName, kernelFunc);
}

/**
 * TF.js's own `webgpu` kernel `kernelName`, also after the project replaced it: the replacements
 * hand it the cases they do not cover.
 */
export function shippedWebgpuKernel(kernelName: string): tf.KernelFunc {
  const kernel = shippedWebgpu.get(kernelName) ?? tf.getKernel(kernelName, "webgpu")?.kernelFunc;
  if (!kernel) throw new Error(`The webgpu backend has no ${kernelName} kernel`);
  return kernel;
}
