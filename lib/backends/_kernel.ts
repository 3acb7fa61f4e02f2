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
