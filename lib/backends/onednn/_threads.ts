// How oneDNN's OpenMP threads run. Their waiting is the setting that matters: at the end of every
// parallel region each thread waits for the others, and libgomp's default is to spin while it
// waits. On a machine where another process is busy, a spinning thread burns the share of a core
// that its slower partner needs, and every kernel stalls, while passive threads slow down about as
// little as one thread does; on a quiet machine passive threads are as fast as spinning ones (the
// README gives the figures). So: as many threads as cores, passive waiting, both unless the
// user's environment says otherwise. libgomp
// reads the waiting policy once, when libdnnl loads it; the thread count is set through its API.
import { readEnv } from "../../util/env.ts";

/** The thread count and the waiting policy, and why each was chosen. */
export interface ThreadChoice {
  /** Threads for oneDNN. */
  threads: number;
  /** Why, in a few words. */
  why: string;
  /** OpenMP's waiting policy, as OMP_WAIT_POLICY spells it ("passive" unless the user set it). */
  waiting: string;
}

/**
 * Chooses oneDNN's threads (OMP_NUM_THREADS when it is a positive integer, else one a core) and
 * its waiting (OMP_WAIT_POLICY when set, else passive).
 */
export function chooseThreads(): ThreadChoice {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const text = (readEnv("OMP_NUM_THREADS") ?? "").trim();
  const fixed = /^[0-9]+$/.test(text) ? Number(text) : 0;
  const [threads, why] = fixed > 0
    ? [fixed, "OMP_NUM_THREADS"]
    : [cores, cores === 1 ? "one core" : "one a core"];
  const waiting = (readEnv("OMP_WAIT_POLICY")?.trim() || "passive").toLowerCase();
  return { threads, why, waiting };
}

/**
 * Runs `load` (the loading of libdnnl, and with it libgomp, which reads its settings once) with
 * OMP_WAIT_POLICY set to `choice.waiting`, then puts the variable back as it was, so that the
 * processes a notebook starts keep their own defaults. Where the environment cannot be written,
 * `load` runs as it is and libgomp keeps its spinning default.
 */
export function withWaitPolicy<T>(choice: ThreadChoice, load: () => T): T {
  const previous = readEnv("OMP_WAIT_POLICY");
  try {
    Deno.env.set("OMP_WAIT_POLICY", choice.waiting);
  } catch {
    return load();
  }
  try {
    return load();
  } finally {
    if (previous === undefined) Deno.env.delete("OMP_WAIT_POLICY");
    else Deno.env.set("OMP_WAIT_POLICY", previous);
  }
}
