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

/**
 * The numbers 0 to `count - 1` in a random order (a Fisher-Yates shuffle), drawn from `random`
 * (default `Math.random`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(shuffledIndices(4).toSorted(), [0, 1, 2, 3]);
 * ```
 */
export function shuffledIndices(count: number, random: () => number = Math.random): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * The random numbers of one epoch of a seeded run: a generator seeded with the run's seed and the
 * epoch's number (counted from 1), the same every time it is asked for.
 */
export function epochRandom(seed: number, epoch: number): () => number {
  return seedrandom(`${seed}/epoch ${epoch}`);
}
