// Adam's update of one variable as one kernel. TF.js's optimizer runs about ten element-wise
// kernels per variable (each allocating a full-size result); for ResNet-50's 23.5M weights that
// costs more than the batch normalisations. The optimizer below is TF.js's Adam, state and
// serialisation included, whose update runs as the one kernel ADAM_UPDATE names where the active
// backend registers it (lib/backends/wasm/_optimizer.ts; `onednn` inherits it); elsewhere TF.js's
// own update runs.
import * as tf from "../tf.ts";

/** Kernel name of the fused update: inputs value, m, v, gradient, accBeta1, accBeta2; attributes
 * beta1, beta2, epsilon, learningRate; outputs the new value, m and v. */
export const ADAM_UPDATE = "FusedAdamUpdate";

let classRegistered = false;

/** Registers {@linkcode FusedAdamOptimizer} as the class of saved "Adam" optimizers, so that
 * loaded checkpoints use it too (once). */
export function registerFusedAdamClass(): void {
  if (classRegistered) return;
  classRegistered = true;
  tf.serialization.registerClass(FusedAdamOptimizer);
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
