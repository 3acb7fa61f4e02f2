// How oneDNN's OpenMP threads run. Their waiting is the setting that matters: at the end of every
// parallel region each thread waits for the others, and libgomp's default is to spin while it
// waits. On a machine where another process is busy, a spinning thread burns the share of a core
// that its slower partner needs, and every kernel stalls, while passive threads slow down about as
// little as one thread does. On a quiet machine, though, a passive thread is put to sleep between
// two kernels and woken by a system call for the next, which a training step does about a
// thousand times. So the threads wait passively after a short spin (GOMP_SPINCOUNT): long enough to
// span the gap between two kernels, too short to matter to a busy neighbour (the README gives the
// figures). As many threads as cores, and this waiting, unless the user's environment says
// otherwise. libgomp reads the waiting policy and the spin count once, when libdnnl loads it; the
// thread count is set through its API.
import { readEnv } from "../../util/env.ts";

/** Spins before a waiting thread sleeps, where the user sets neither variable (see above). */
export const DEFAULT_SPIN_COUNT = 3000;

/** The thread count and the waiting policy, and why each was chosen. */
export interface ThreadChoice {
  /** Threads for oneDNN. */
  threads: number;
  /** Why, in a few words. */
  why: string;
  /** OpenMP's waiting policy, as OMP_WAIT_POLICY spells it ("passive" unless the user set it). */
  waiting: string;
  /**
   * GOMP_SPINCOUNT: the user's, or {@linkcode DEFAULT_SPIN_COUNT} where neither it nor
   * OMP_WAIT_POLICY is set; absent where libgomp derives it from a policy the user set.
   */
  spins?: string;
}

/**
 * Chooses oneDNN's threads (OMP_NUM_THREADS when it is a positive integer, else one a core) and
 * its waiting (OMP_WAIT_POLICY when set, else passive after {@linkcode DEFAULT_SPIN_COUNT} spins;
 * GOMP_SPINCOUNT when set).
 */
export function chooseThreads(): ThreadChoice {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const text = (readEnv("OMP_NUM_THREADS") ?? "").trim();
  const fixed = /^[0-9]+$/.test(text) ? Number(text) : 0;
  const [threads, why] = fixed > 0
    ? [fixed, "OMP_NUM_THREADS"]
    : [cores, cores === 1 ? "one core" : "one a core"];
  const policy = readEnv("OMP_WAIT_POLICY")?.trim();
  const waiting = (policy || "passive").toLowerCase();
  const spins = readEnv("GOMP_SPINCOUNT")?.trim() ||
    (policy ? undefined : String(DEFAULT_SPIN_COUNT));
  return { threads, why, waiting, ...(spins === undefined ? {} : { spins }) };
}

/**
 * Runs `load` (the loading of libdnnl, and with it libgomp, which reads its settings once) with
 * OMP_WAIT_POLICY set to `choice.waiting` and GOMP_SPINCOUNT to `choice.spins`, then puts both
 * variables back as they were, so that the processes a notebook starts keep their own defaults.
 * Where the environment cannot be written, `load` runs as it is and libgomp keeps its spinning
 * default.
 */
export function withWaitPolicy<T>(choice: ThreadChoice, load: () => T): T {
  const settings: [string, string | undefined][] = [
    ["OMP_WAIT_POLICY", choice.waiting],
    ["GOMP_SPINCOUNT", choice.spins],
  ];
  const previous = settings.map(([name]) => [name, readEnv(name)] as const);
  const apply = (values: readonly (readonly [string, string | undefined])[]) => {
    for (const [name, value] of values) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  };
  try {
    apply(settings);
  } catch {
    return load();
  }
  try {
    return load();
  } finally {
    apply(previous);
  }
}
