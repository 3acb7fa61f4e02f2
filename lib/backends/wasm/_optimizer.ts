// The fused Adam update (lib/ops/adam.ts) for the `wasm` backend: one SIMD pass (_simd.c's
// adam_update) over each variable's values in the WebAssembly heap (`onednn` inherits it).
import * as tf from "../../tf.ts";
import { Scope } from "../_heap.ts";
import type { KernelArgs } from "../_kernel.ts";
import { simdKernels } from "./_simd.ts";

/** The update of one variable: its new value, m and v (lib/ops/adam.ts has the inputs). */
export function adamUpdate(args: KernelArgs): tf.TensorInfo[] {
  const { value, m, v, gradient, accBeta1, accBeta2 } = args.inputs as Record<
    string,
    tf.TensorInfo
  >;
  const attrs = args.attrs as Record<string, number>;
  const { make, view } = Scope.of(args);
  const outputs = [value, m, v].map((t) => make(t.shape));
  const [w0, m0, v0, g, a1, a2] = [value, m, v, gradient, accBeta1, accBeta2].map(view);
  const [w1, m1, v1] = outputs.map(view);
  // The constants as TF.js rounds them: float32 scalars.
  const f = Math.fround;
  const c1 = f(1 - a1[0]);
  const c2 = f(1 - a2[0]);
  // w - lr * (m / c1) / (sqrt(v / c2) + epsilon), with the divisions by c1 and c2 hoisted
  simdKernels(args.backend).adam_update(
    w0.byteOffset,
    m0.byteOffset,
    v0.byteOffset,
    g.byteOffset,
    w1.byteOffset,
    m1.byteOffset,
    v1.byteOffset,
    g.length,
    f(attrs.beta1),
    f(attrs.beta2),
    f(1 - attrs.beta1),
    f(1 - attrs.beta2),
    -attrs.learningRate / c1,
    1 / Math.sqrt(c2),
    f(attrs.epsilon),
  );
  return outputs;
}
