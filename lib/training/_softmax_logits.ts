// Categorical cross-entropy computed from the logits of a softmax output, as Keras computes it.
//
// Keras's softmax activation keeps its input (the logits) on its output tensor, and Keras's
// categorical cross-entropy uses them when they are there: the loss is -Σ y·log_softmax(z), with no
// ceiling, and its gradient with respect to the logits is exactly p - y. TF.js's cross-entropy
// works on the probabilities clipped to [1e-7, 1 - 1e-7]: an example whose true class gets a
// probability below 1e-7 counts as a loss of at most 16.1 and contributes no gradient at all, so a
// network that a bad step has made confidently wrong is not pulled back by those examples.
//
// `keepSoftmaxLogits(model)` makes every Dense layer with a softmax activation remember the logits
// of the probabilities it returns, and makes a model compiled with TF.js's categorical
// cross-entropy use them. The layers keep their class, weights and configuration, so summaries and
// saved models are unchanged; outputs are computed by the same operations as before.
import * as tf from "../tf.ts";

type LossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

// The logits of each softmax output made by a patched layer. The logits are made in the caller's
// scope (not inside the layer's own tidy), so they live exactly as long as the probabilities do in
// a training or evaluation step, which TF.js always runs inside a scope. Outside any scope (a
// layer applied eagerly at the top level) nothing would free them, so none are kept there.
const logitsOf = new WeakMap<tf.Tensor, tf.Tensor>();
const PATCHED = Symbol("keeps softmax logits");

interface DenseLayer {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  activation: { getClassName(): string } | null;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: unknown): tf.Tensor | tf.Tensor[];
  [PATCHED]?: boolean;
}

function patchDense(layer: DenseLayer): void {
  if (layer[PATCHED]) return;
  const original = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    // Dense's own computation for 2-D inputs: a matrix product, then the bias.
    if (x.rank !== 2 || tf.engine().state.activeScope == null) return original(inputs, kwargs);
    const logits = tf.tidy(() => {
      const product = tf.fused.matMul({
        a: x as tf.Tensor2D,
        b: layer.kernel.read() as tf.Tensor2D,
      });
      return layer.bias ? tf.add(product, layer.bias.read()) : product;
    });
    const probabilities = tf.softmax(logits);
    logitsOf.set(probabilities, logits);
    return probabilities;
  };
  layer[PATCHED] = true;
}

/** -Σ y·log_softmax(z) per example when `yPred`'s logits z are known, else `fallback`. */
function crossentropyFromLogits(fallback: LossFunction): LossFunction {
  const loss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => {
    const logits = logitsOf.get(yPred);
    if (!logits || logits.isDisposed) return fallback(yTrue, yPred);
    return tf.tidy(() => tf.neg(tf.sum(tf.mul(yTrue, tf.logSoftmax(logits)), -1)));
  };
  return Object.assign(loss, { [PATCHED]: true });
}

// The parts of a compiled LayersModel that hold its loss functions (private in TF.js's typings).
interface CompiledModel {
  loss?: unknown;
  lossFunctions?: LossFunction[];
  feedLossFns?: LossFunction[];
}

/**
 * Makes `model`'s softmax Dense layers keep their logits and, when it is compiled with TF.js's
 * categorical cross-entropy, makes that loss use them (see the module comment). Idempotent.
 * Returns the number of layers that keep their logits.
 */
export function keepSoftmaxLogits(model: tf.LayersModel): number {
  let kept = 0;
  for (const layer of model.layers) {
    const dense = layer as unknown as DenseLayer;
    if (layer.getClassName() === "Dense" && dense.activation?.getClassName() === "softmax") {
      patchDense(dense);
      kept++;
    }
  }
  const compiled = model as unknown as CompiledModel;
  const name = typeof compiled.loss === "string"
    ? compiled.loss.replace(/_/g, "").toLowerCase()
    : "";
  if (name === "categoricalcrossentropy" && compiled.lossFunctions) {
    const patch = (fns: LossFunction[] | undefined) =>
      fns?.map((
        fn,
      ) => ((fn as { [PATCHED]?: boolean })[PATCHED] ? fn : crossentropyFromLogits(fn)));
    compiled.lossFunctions = patch(compiled.lossFunctions);
    compiled.feedLossFns = patch(compiled.feedLossFns);
  }
  return kept;
}
