// The ReLU's gradient, dy · step(x), as one kernel: TF.js's gradient runs Step, Cast and Multiply,
// each a pass over the activations. This module names the kernel and registers TF.js's gradient of
// Relu again, to use it where the active backend has it (the same values); `wasm` registers it
// (lib/backends/wasm/_elementwise.ts), and `onednn` inherits it.
import * as tf from "../tf.ts";

/** Kernel name of the fused gradient: inputs dy and x, both float32 of one shape. */
export const RELU_GRAD = "ReluGrad";

let reluGradientRegistered = false;

/** TF.js's gradient of Relu, with the fused kernel where the active backend has it (once). */
export function registerReluGradient(): void {
  if (reluGradientRegistered) return;
  reluGradientRegistered = true;
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x] = saved;
      const g = Array.isArray(dy) ? dy[0] : dy;
      const fused = tf.getKernel(RELU_GRAD, tf.getBackend()) && x.dtype === "float32" &&
        g.dtype === "float32" && tf.util.arraysEqual(x.shape, g.shape);
      return {
        x: () =>
          fused
            ? tf.engine().runKernel(
              RELU_GRAD,
              { dy: g, x } as unknown as tf.NamedTensorMap,
            ) as tf.Tensor
            : tf.mul(g, tf.cast(tf.step(x), "float32")),
      };
    },
  });
}
