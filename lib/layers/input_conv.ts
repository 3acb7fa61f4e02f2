// A Conv2D layer for the first convolution of a model, whose input needs no gradient.
//
// TF.js layers run every convolution as a fused conv+bias op, whose gradient computes the input
// gradient eagerly, even when nothing upstream needs it. For the first convolution that is pure
// waste (for ResNet-50's 7x7 stem, a convolution as large as the layer itself). This layer is an
// ordinary Conv2D (same class name, weights and config, so summaries and saved models are
// unchanged) whose call uses the separate conv2d and bias ops: their gradients are computed only
// for the inputs that need one. A model loaded from disk gets plain Conv2D layers back, which
// compute the same values.
import * as tf from "../tf.ts";

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
type ConvLayer = tf.layers.Layer & {
  kernel: { read(): tf.Tensor4D };
  bias: { read(): tf.Tensor1D } | null;
  strides: [number, number];
  padding: "same" | "valid";
  dilationRate: [number, number];
  dataFormat: string;
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string };
};

/** A Conv2D layer (NHWC) for a model's first convolution: see the module comment. */
export function inputConv2d(args: ConvArgs): tf.layers.Layer {
  const layer = tf.layers.conv2d({ ...args, dataFormat: "channelsLast" });
  layer.call = (inputs: tf.Tensor | tf.Tensor[]) =>
    conv2dBySeparateOps(layer, (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D);
  return layer;
}

/**
 * What a Conv2D layer (NHWC) computes for `x`, built from the separate conv2d, bias and
 * activation ops (see the module comment): the same values, with gradients computed only for
 * the inputs that need one. The caller owns the result; the layer must be built.
 */
export function conv2dBySeparateOps(layer: tf.layers.Layer, x: tf.Tensor4D): tf.Tensor {
  const conv = layer as ConvLayer;
  if (layer.getClassName() !== "Conv2D" || conv.dataFormat !== "channelsLast" || !conv.kernel) {
    throw new TypeError(
      `Cannot run layer "${layer.name}" (${layer.getClassName()}) as separate convolution ops: ` +
        "expected a built Conv2D layer with channels last",
    );
  }
  return tf.tidy(() => {
    let y: tf.Tensor = tf.conv2d(
      x,
      conv.kernel.read(),
      conv.strides,
      conv.padding,
      "NHWC",
      conv.dilationRate,
    );
    if (conv.bias) y = tf.add(y, conv.bias.read());
    return conv.activation.apply(y);
  });
}
