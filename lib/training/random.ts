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
  install(seedrandom(String(seed), { state: true }));
}

// The generator seedRandom installed, and the function it put in Math.random's place.
let seeded: { generator: seedrandom.prng; random: () => number } | null = null;

function install(generator: seedrandom.prng): void {
  const random = () => generator();
  seeded = { generator, random };
  Math.random = random;
}

/** The state of seedrandom's default generator (ARC4): two indices and a permutation of 0..255. */
export interface RandomState {
  i: number;
  j: number;
  S: number[];
}

/**
 * Where the generator of {@linkcode seedRandom} stands, to be given to
 * {@linkcode restoreRandomState} later (checkpoints record it), or `null` when `Math.random` is
 * not that generator (never seeded, or replaced since).
 */
export function randomState(): RandomState | null {
  if (!seeded || Math.random !== seeded.random) return null;
  return seeded.generator.state() as RandomState; // a copy, as seedrandom makes it
}

/**
 * Puts the seeded `Math.random` back where {@linkcode randomState} found it, so that what follows
 * draws the numbers that followed then. Throws a `RangeError` for a value that is not such a state.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * seedRandom(3);
 * const state = randomState()!;
 * const next = Math.random();
 * restoreRandomState(state);
 * assertEquals(Math.random(), next);
 * ```
 */
export function restoreRandomState(state: RandomState): void {
  const problem = randomStateProblem(state);
  if (problem) throw new RangeError(`Cannot restore the random generator: ${problem}`);
  install(seedrandom("", { state })); // seedrandom copies the state it starts from
}

/** What is wrong with `state` as a {@linkcode RandomState}, or `null` when nothing is. */
export function randomStateProblem(state: unknown): string | null {
  const { i, j, S } = (state ?? {}) as Partial<RandomState>;
  const byte = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 256;
  if (!byte(i) || !byte(j)) return "its indices i and j must be integers 0..255";
  if (!Array.isArray(S) || S.length !== 256 || !S.every(byte) || new Set(S).size !== 256) {
    return "its S must hold each of the numbers 0..255 once";
  }
  return null;
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
