/**
 * Reproducible runs. TF.js draws unseeded initial weights and `fit`'s shuffling from
 * `Math.random`; {@linkcode seedRandom} replaces it with a seeded generator (the `seedrandom`
 * package TF.js itself uses), so that with the same seed and backend two runs start from the same
 * weights and see the batches in the same order.
 *
 * @module
 */
import seedrandom from "seedrandom";

/**
 * Seeds `Math.random` for the rest of the process (a notebook's kernel session). Layers created
 * afterwards get the same initial weights, and `fit` shuffles the same way, for the same seed.
 * Throws a `RangeError` for a seed that is not a safe integer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * seedRandom(42);
 * const first = [Math.random(), Math.random()];
 * seedRandom(42);
 * assertEquals([Math.random(), Math.random()], first);
 * ```
 */
export function seedRandom(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`Cannot seed the random generator with ${seed}: expected an integer`);
  }
  const generator = seedrandom(String(seed));
  Math.random = () => generator();
}
