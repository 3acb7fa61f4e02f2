/**
 * The data: the SIGNS files, their preprocessing as the course does it (normalising, one-hot
 * labels), and a learner's own photo read from a JPEG or PNG file.
 *
 * @module
 */
export * from "./signs_dataset.ts";
export * from "./preprocessing.ts";
export * from "./image_file.ts";
