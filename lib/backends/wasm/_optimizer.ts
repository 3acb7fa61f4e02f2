// The fused Adam update (lib/ops/adam.ts) for the `wasm` backend: one pass over each variable's
// values in the WebAssembly heap (`onednn` inherits it).
import * as tf from "../../tf.ts";
import { heapOf } from "../_heap.ts";
import type { KernelArgs } from "../_kernel.ts";

/** The update of one variable: its new value, m and v (lib/ops/adam.ts has the inputs). */
export function adamUpdate(args: KernelArgs): tf.TensorInfo[] {
  const { value, m, v, gradient, accBeta1, accBeta2 } = args.inputs as Record<
    string,
    tf.TensorInfo
  >;
  const attrs = args.attrs as Record<string, number>;
  const { make, view } = heapOf(args);
  const outputs = [value, m, v].map((t) => make(t.shape));
  const [w0, m0, v0, g, a1, a2] = [value, m, v, gradient, accBeta1, accBeta2].map(view);
  const [w1, m1, v1] = outputs.map(view);
  // The constants as TF.js rounds them: float32 scalars.
  const f = Math.fround;
  const b1 = f(attrs.beta1);
  const b2 = f(attrs.beta2);
  const c1 = f(1 - a1[0]);
  const c2 = f(1 - a2[0]);
  const r1 = f(1 - attrs.beta1);
  const r2 = f(1 - attrs.beta2);
  const epsilon = f(attrs.epsilon);
  // w - lr * (m / c1) / (sqrt(v / c2) + epsilon), with the divisions by c1 and c2 hoisted
  const step = -attrs.learningRate / c1;
  const root = 1 / Math.sqrt(c2);
  for (let i = 0; i < g.length; i++) {
    const gi = g[i];
    const mi = (m1[i] = m0[i] * b1 + gi * r1);
    const vi = (v1[i] = v0[i] * b2 + gi * gi * r2);
    w1[i] = w0[i] + (step * mi) / (Math.sqrt(vi) * root + epsilon);
  }
  return outputs;
}
