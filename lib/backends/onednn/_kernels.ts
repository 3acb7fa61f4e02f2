// The kernels the `onednn` backend runs in oneDNN, in place of the ones it inherits from `wasm`:
// the one list of them, by operation family (each family's file says how its kernels work and
// which cases it hands back to the wasm kernel). Every other kernel, the fused Adam update among
// them, is the wasm backend's (lib/backends/wasm/_kernels.ts).
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from "../../ops/batch_norm.ts";
import type { Kernel, KernelFamily } from "../_kernel.ts";
import type { Dnnl } from "./_ffi.ts";
import { convBackpropFilter, convBackpropInput, convForward } from "./_conv.ts";
import { poolBackward, poolForward } from "./_pooling.ts";
import { batchNormBackward, batchNormForward } from "./_batch_norm.ts";
import { binaryKernel, reduceKernel, reluKernel } from "./_elementwise.ts";

/** One oneDNN kernel: its TF.js name, its family, and how to make it for an opened libdnnl. */
export interface OnednnKernelEntry {
  /** The kernel's name in TF.js's registry (or a name from lib/ops/). */
  name: string;
  /** What kind of operation it is. */
  family: KernelFamily;
  /** The kernel, for the library `dnnl`. */
  make: (dnnl: Dnnl) => Kernel;
}

/** The kernels, in the order they are registered. */
export const ONEDNN_KERNELS: readonly OnednnKernelEntry[] = [
  { name: "Conv2D", family: "convolution", make: (dnnl) => convForward(dnnl, false) },
  { name: "FusedConv2D", family: "convolution", make: (dnnl) => convForward(dnnl, true) },
  { name: "Conv2DBackpropInput", family: "convolution", make: convBackpropInput },
  { name: "Conv2DBackpropFilter", family: "convolution", make: convBackpropFilter },
  { name: "MaxPool", family: "pooling", make: (dnnl) => poolForward(dnnl, true) },
  { name: "AvgPool", family: "pooling", make: (dnnl) => poolForward(dnnl, false) },
  { name: "MaxPoolGrad", family: "pooling", make: (dnnl) => poolBackward(dnnl, true) },
  { name: "AvgPoolGrad", family: "pooling", make: (dnnl) => poolBackward(dnnl, false) },
  { name: BATCH_NORM_TRAINING, family: "batch normalisation", make: batchNormForward },
  { name: BATCH_NORM_TRAINING_GRAD, family: "batch normalisation", make: batchNormBackward },
  { name: "Add", family: "element-wise", make: (dnnl) => binaryKernel(dnnl, "Add") },
  { name: "Sub", family: "element-wise", make: (dnnl) => binaryKernel(dnnl, "Sub") },
  { name: "Multiply", family: "element-wise", make: (dnnl) => binaryKernel(dnnl, "Multiply") },
  { name: "Relu", family: "element-wise", make: reluKernel },
  { name: "Sum", family: "element-wise", make: (dnnl) => reduceKernel(dnnl, "sum") },
  { name: "Mean", family: "element-wise", make: (dnnl) => reduceKernel(dnnl, "mean") },
];
