/**
 * HDF5 files through h5wasm, for the data loader and the Keras format: reading a file from disk,
 * building a new one in memory, and HDF5's own diagnostics turned into one error.
 *
 * @module
 */
export * from "./hdf5_file.ts";
