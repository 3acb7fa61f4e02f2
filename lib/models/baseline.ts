/**
 * The baseline ConvNet of the first notebook, built with the functional API as in the course:
 * `CONV2D -> RELU -> MAXPOOL -> CONV2D -> RELU -> MAXPOOL -> FLATTEN -> DENSE`.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { inputConv2d } from "../layers/input_conv.ts";
import { checkInputShape } from "./_input_shape.ts";

/**
 * Builds the course's `convolutional_model(input_shape)`: Conv2D 8 filters 4x4 stride 1 'same',
 * ReLU, MaxPool 8x8 stride 8 'same', Conv2D 16 filters 2x2 stride 1 'same', ReLU, MaxPool 4x4
 * stride 4 'same', Flatten, Dense 6 softmax. Kernels use Glorot-uniform initialisation, as Keras
 * does by default. For a 64x64x3 input it has 1,310 parameters. The model is not compiled.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const model = convolutionalModel([64, 64, 3]);
 * assertEquals(model.countParams(), 1310);
 * assertEquals(model.outputs[0].shape, [null, 6]);
 * model.dispose();
 * ```
 */
export function convolutionalModel(
  inputShape: [number, number, number] = [64, 64, 3],
): tf.LayersModel {
  checkInputShape("the model", inputShape);
  const input = tf.input({ shape: inputShape, name: "input" });
  const glorot = () => tf.initializers.glorotUniform({});
  let x = inputConv2d({
    filters: 8,
    kernelSize: 4,
    strides: 1,
    padding: "same",
    kernelInitializer: glorot(),
    name: "conv2d_1",
  }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: "re_lu_1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 8, strides: 8, padding: "same", name: "max_pooling2d_1" })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({
    filters: 16,
    kernelSize: 2,
    strides: 1,
    padding: "same",
    kernelInitializer: glorot(),
    name: "conv2d_2",
  }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: "re_lu_2" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 4, strides: 4, padding: "same", name: "max_pooling2d_2" })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({
    units: 6,
    activation: "softmax",
    kernelInitializer: glorot(),
    name: "dense",
  }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: "convolutional_model" });
}
