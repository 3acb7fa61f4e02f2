/**
 * The TensorFlow.js API used throughout the project: the core ops (`tf.add`, `tf.tidy`, …) and the
 * layers API (`tf.layers.conv2d`, `tf.model`, …) in one namespace, as `@tensorflow/tfjs` offers it,
 * without the WebGL backend that cannot run outside a browser.
 *
 * Operations are called as functions (`tf.mean(x, 3)`, `tf.reshape(x, shape)`): the chained forms
 * (`x.mean(3)`) that the `@tensorflow/tfjs` bundle adds to tensors are not registered here.
 *
 * Importing this module registers the pure-JavaScript `cpu` backend (as TF.js packages do on import)
 * but selects none; see `useBackend()` for that.
 *
 * @module
 */
import "@tensorflow/tfjs-backend-cpu";

export * from "@tensorflow/tfjs-core";
export * from "@tensorflow/tfjs-layers";
