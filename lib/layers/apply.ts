// A layer applied to a tensor, as Keras's `Layer()(x)`.
import * as tf from "../tf.ts";

/**
 * Applies `layer` to `x` (a tensor, or a list of them for layers such as `add`) and returns its
 * output, of the same kind as `x`: symbolic while a model is built, real when a block is tried on
 * data. Keras's `X = Flatten()(X)` is `X = applyLayer(tf.layers.flatten(), X)`, and
 * `Add()([X, shortcut])` is `applyLayer(tf.layers.add(), [X, shortcut])`. (TF.js's own
 * `layer.apply` is typed for every kind at once, so its result would need a cast.)
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const input = tf.input({ shape: [4, 4, 3] });
 * const flat = applyLayer(tf.layers.flatten(), input);
 * assertEquals(flat.shape, [null, 48]);
 * const sum = applyLayer(tf.layers.add(), [input, input]);
 * assertEquals(sum.shape, [null, 4, 4, 3]);
 * ```
 */
export function applyLayer<T extends tf.SymbolicTensor | tf.Tensor>(
  layer: tf.layers.Layer,
  x: T | T[],
): T {
  return layer.apply(x as tf.Tensor | tf.Tensor[]) as T;
}
