/**
 * The parts the models are built from where TF.js's own layers differ from Keras's: batch
 * normalisation with Keras's defaults and an optional fixed mode (Keras's `training=` argument),
 * and a first convolution that computes no gradient for the model's input (its computation, a
 * Conv2D layer's as separate ops, is there too). Models and the Keras file format both build on
 * them.
 *
 * @module
 */
export * from "./batch_norm.ts";
export * from "./input_conv.ts";
export * from "./apply.ts";
