// Adam's update of one variable as one pass over its values. TF.js's optimizer runs about ten
// element-wise kernels per variable (each allocating a full-size result); for ResNet-50's 23.5M
// weights that costs more than the batch normalisations. The optimizer below is TF.js's Adam,
// state and serialisation included; only its update runs as one kernel, on the backends that
// keep their tensors in the WebAssembly heap (`wasm`, and `onednn`, which inherits the kernel).
import * as tf from "../../tf.ts";
import { heapOf } from "../_heap.ts";

/** Kernel name of the fused update: inputs value, m, v, gradient, accBeta1, accBeta2. */
export const ADAM_UPDATE = "FusedAdamUpdate";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap };

/**
 * Registers the fused update for the `wasm` backend, and the optimizer below as the class of
 * saved "Adam" optimizers, so that loaded checkpoints use it too. Returns 1, or 0 when the kernel
 * already was registered.
 */
export function registerAdamKernel(): number {
  if (tf.getKernel(ADAM_UPDATE, "wasm")) return 0;
  tf.serialization.registerClass(FusedAdamOptimizer);
  tf.registerKernel({
    kernelName: ADAM_UPDATE,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs): tf.TensorInfo[] => {
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
    }) as unknown as tf.KernelFunc,
  });
  return 1;
}

type VariableGradients = Parameters<tf.AdamOptimizer["applyGradients"]>[0];

// The state TF.js's AdamOptimizer keeps (private in its typings).
interface AdamState {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

/**
 * TF.js's Adam optimizer whose update runs as one fused kernel per variable when the active
 * backend has that kernel (`wasm`, `onednn`) and every gradient is float32; elsewhere it is TF.js's
 * own, and it saves and loads as "Adam".
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({
        name,
        tensor: tensor as tf.Tensor,
      }));
    if (
      !tf.getKernel(ADAM_UPDATE, tf.getBackend()) ||
      list.some(({ name, tensor }) =>
        tensor != null &&
        (tensor.dtype !== "float32" || tf.engine().registeredVariables[name]?.dtype !== "float32")
      )
    ) {
      return super.applyGradients(variableGradients);
    }
    const state = this as unknown as AdamState;
    const attrs = {
      beta1: state.beta1,
      beta2: state.beta2,
      epsilon: state.epsilon,
      learningRate: state.learningRate,
    };
    tf.tidy(() => {
      list.forEach(({ name, tensor: gradient }, i) => {
        const value = tf.engine().registeredVariables[name];
        for (
          const [moments, suffix] of [[state.accumulatedFirstMoment, "m"], [
            state.accumulatedSecondMoment,
            "v",
          ]] as const
        ) {
          moments[i] ??= {
            originalName: `${name}/${suffix}`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const [w1, m1, v1] = tf.engine().runKernel(
          ADAM_UPDATE,
          {
            value,
            m,
            v,
            gradient,
            accBeta1: state.accBeta1,
            accBeta2: state.accBeta2,
          } as unknown as tf.NamedTensorMap,
          attrs,
        ) as tf.Tensor[];
        m.assign(m1);
        v.assign(v1);
        value.assign(w1);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, state.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, state.beta2));
    });
    this.incrementIterations();
  }
}
