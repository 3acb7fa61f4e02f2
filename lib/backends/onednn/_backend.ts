// The `onednn` backend: TF.js's WebAssembly backend (with this project's training kernels) whose
// heavy kernels (the table in _kernels.ts) are run by oneDNN on the tensors in the WebAssembly
// heap. It shares the wasm backend's instance, so tensors never move between the two. Cases
// oneDNN is not asked to cover (dilation, channels-first data, fused activations other than ReLU,
// other dtypes, small tensors) run the wasm kernels.
import * as tf from "../../tf.ts";
import { registerTrainingKernels } from "../wasm/mod.ts";
import type { Dnnl } from "./_ffi.ts";
import { ONEDNN_KERNELS } from "./_kernels.ts";

let registered = false;

/** Registers the `onednn` backend and its kernels (once). */
export async function registerBackend(dnnl: Dnnl): Promise<void> {
  if (registered) return;
  await import("@tensorflow/tfjs-backend-wasm");
  registerTrainingKernels();
  // Start the wasm backend (without leaving it active) and share its instance.
  const engine = tf.engine();
  const previous = engine.backendName;
  if (!(await tf.setBackend("wasm"))) throw new Error("the WebAssembly backend could not start");
  const instance = engine.registry["wasm"];
  if (previous && previous !== "wasm") await tf.setBackend(previous);
  tf.registerBackend("onednn", () => instance, 0);
  for (const kernel of tf.getKernelsForBackend("wasm")) {
    tf.registerKernel({ ...kernel, backendName: "onednn" });
  }
  for (const { name, make } of ONEDNN_KERNELS) {
    tf.unregisterKernel(name, "onednn");
    tf.registerKernel({
      kernelName: name,
      backendName: "onednn",
      kernelFunc: make(dnnl) as unknown as tf.KernelFunc,
    });
  }
  registered = true;
}
