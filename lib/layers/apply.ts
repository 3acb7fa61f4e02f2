// A layer applied to a symbolic tensor, as Keras's `Layer()(x)` while a model is built.
import * as tf from "../tf.ts";

/**
 * Applies `layer` to the symbolic tensor(s) `x` and returns its symbolic output: Keras's
 * `X = Flatten()(X)` is `X = applyLayer(tf.layers.flatten(), X)`. (TF.js's own `layer.apply` is
 * typed for concrete and symbolic tensors alike, so its result would need a cast.)
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const input = tf.input({ shape: [4, 4, 3] });
 * const flat = applyLayer(tf.layers.flatten(), input);
 * assertEquals(flat.shape, [null, 48]);
 * ```
 */
export function applyLayer(
  layer: tf.layers.Layer,
  x: tf.SymbolicTensor | tf.SymbolicTensor[],
): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
