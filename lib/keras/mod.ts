/**
 * Keras 2 HDF5 model files (`model.save("x.h5")`), read and written: the layer kinds of both
 * notebooks, their weights in Keras's layout, batch normalisation's fixed mode kept.
 *
 * @module
 */
export * from "./keras_model.ts";
