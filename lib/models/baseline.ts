/**
 * The baseline ConvNet of the first notebook, built with the functional API as in the course:
 * `CONV2D -> RELU -> MAXPOOL -> CONV2D -> RELU -> MAXPOOL -> FLATTEN -> DENSE`.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { inputConv2d } from "../layers/input_conv.ts";
import { applyLayer } from "../layers/apply.ts";
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
  const glorot = () => tf.initializers.glorotUniform({});
  const inputImg = tf.input({ shape: inputShape, name: "input" });
  // CONV2D: 8 filters 4x4, stride 1, padding 'same'
  const Z1 = applyLayer(
    inputConv2d({
      filters: 8,
      kernelSize: 4,
      strides: 1,
      padding: "same",
      kernelInitializer: glorot(),
      name: "conv2d_1",
    }),
    inputImg,
  );
  // RELU
  const A1 = applyLayer(tf.layers.reLU({ name: "re_lu_1" }), Z1);
  // MAXPOOL: window 8x8, stride 8, padding 'same'
  const P1 = applyLayer(
    tf.layers.maxPooling2d({ poolSize: 8, strides: 8, padding: "same", name: "max_pooling2d_1" }),
    A1,
  );
  // CONV2D: 16 filters 2x2, stride 1, padding 'same'
  const Z2 = applyLayer(
    tf.layers.conv2d({
      filters: 16,
      kernelSize: 2,
      strides: 1,
      padding: "same",
      kernelInitializer: glorot(),
      name: "conv2d_2",
    }),
    P1,
  );
  // RELU
  const A2 = applyLayer(tf.layers.reLU({ name: "re_lu_2" }), Z2);
  // MAXPOOL: window 4x4, stride 4, padding 'same'
  const P2 = applyLayer(
    tf.layers.maxPooling2d({ poolSize: 4, strides: 4, padding: "same", name: "max_pooling2d_2" }),
    A2,
  );
  // FLATTEN
  const F = applyLayer(tf.layers.flatten({ name: "flatten" }), P2);
  // Dense layer: 6 neurons, softmax activation
  const outputs = applyLayer(
    tf.layers.dense({
      units: 6,
      activation: "softmax",
      kernelInitializer: glorot(),
      name: "dense",
    }),
    F,
  );
  return tf.model({ inputs: inputImg, outputs, name: "convolutional_model" });
}
