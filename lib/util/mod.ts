/**
 * Small helpers every layer may use: environment variables, file checks, the project's paths, and
 * numbers and shapes as the course prints them.
 *
 * @module
 */
export * from "./env.ts";
export * from "./fs.ts";
export * from "./paths.ts";
export * from "./format.ts";
