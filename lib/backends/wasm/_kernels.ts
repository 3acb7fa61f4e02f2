// The training kernels the project registers for TF.js's wasm backend: the one list of them,
// by operation family (each family's file says how its kernels work). Kernels the backend has are
// replaced, and the replacement hands the cases it does not cover to the original; the others are
// new. `onednn` starts from this set and replaces some of them again (lib/backends/onednn/).
import * as tf from "../../tf.ts";
import { ADAM_UPDATE, registerFusedAdamClass } from "../../ops/adam.ts";
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  MOVING_AVERAGES,
  registerBatchNormGradient,
} from "../../ops/batch_norm.ts";
import { registerReluGradient, RELU_GRAD } from "../../ops/relu_grad.ts";
import { keepShippedWasmKernel, type KernelEntry } from "../_kernel.ts";
import { conv2DBackpropFilter, conv2DBackpropInput } from "./_conv.ts";
import { maxPoolGrad } from "./_pooling.ts";
import { batchNormBackward, batchNormForward, movingAverages } from "./_batch_norm.ts";
import { add, cast, identity, reduceLeading, reluGrad } from "./_elementwise.ts";
import { gatherV2, tileKernel } from "./_gather.ts";
import { batchMatMul } from "./_matmul.ts";
import { adamUpdate } from "./_optimizer.ts";

/** The kernels, in the order they are registered. */
export const WASM_KERNELS: readonly KernelEntry[] = [
  { name: "Conv2DBackpropFilter", family: "convolution", kernel: conv2DBackpropFilter },
  { name: "Conv2DBackpropInput", family: "convolution", kernel: conv2DBackpropInput },
  { name: "MaxPoolGrad", family: "pooling", kernel: maxPoolGrad },
  { name: BATCH_NORM_TRAINING, family: "batch normalisation", kernel: batchNormForward },
  { name: BATCH_NORM_TRAINING_GRAD, family: "batch normalisation", kernel: batchNormBackward },
  { name: MOVING_AVERAGES, family: "batch normalisation", kernel: movingAverages },
  { name: "Identity", family: "element-wise", kernel: identity },
  { name: "Add", family: "element-wise", kernel: add },
  { name: "Cast", family: "element-wise", kernel: cast },
  { name: "Sum", family: "element-wise", kernel: reduceLeading("Sum") },
  { name: "Mean", family: "element-wise", kernel: reduceLeading("Mean") },
  { name: RELU_GRAD, family: "element-wise", kernel: reluGrad },
  { name: "GatherV2", family: "gather", kernel: gatherV2 },
  { name: "Tile", family: "gather", kernel: tileKernel },
  { name: "BatchMatMul", family: "matrix product", kernel: batchMatMul },
  { name: ADAM_UPDATE, family: "optimizer", kernel: adamUpdate },
];

/**
 * Registers the training kernels for the wasm backend (replacing its slow ones), the gradients
 * that use them and the optimizer class saved models name. Idempotent: returns the number of
 * kernels this call registered.
 */
export function registerWasmTrainingKernels(): number {
  registerFusedAdamClass();
  registerBatchNormGradient();
  registerReluGradient();
  let added = 0;
  for (const { name, kernel } of WASM_KERNELS) {
    const existing = tf.getKernelsForBackend("wasm").find((k) => k.kernelName === name);
    if (existing?.kernelFunc === (kernel as unknown)) continue;
    if (existing) {
      keepShippedWasmKernel(name, existing.kernelFunc);
      tf.unregisterKernel(name, "wasm");
    }
    // The original's set-up (binding its WebAssembly function) still has to run when the backend
    // starts, since the replacement calls the original for the cases it does not cover.
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      kernelFunc: kernel as unknown as tf.KernelFunc,
      setupFunc: existing?.setupFunc,
      disposeFunc: existing?.disposeFunc,
    });
    added++;
  }
  return added;
}
