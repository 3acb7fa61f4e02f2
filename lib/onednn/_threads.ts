// How many threads oneDNN should use. Its OpenMP threads wait for each other at the end of every
// parallel region, so one thread that shares its core with another busy process slows every
// kernel down: on a 2-core machine with one core taken, two threads made a ResNet-50 training
// step 3-5x slower than one thread. The choice is made once, before the first primitive is
// created (oneDNN sizes its kernels for the thread count of that moment): OMP_NUM_THREADS when it
// is set, else the number of cores that were idle during a short sample of /proc/stat.

/** The thread count and why it was chosen. */
export interface ThreadChoice {
  /** Threads for oneDNN. */
  threads: number;
  /** Why, in a few words. */
  why: string;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

// [idle, total] jiffies of all cores together, or null where /proc/stat cannot be read.
async function cpuTimes(): Promise<[number, number] | null> {
  try {
    const line = (await Deno.readTextFile("/proc/stat")).split("\n")[0];
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (fields.length < 5 || fields.some((f) => !Number.isFinite(f))) return null;
    const idle = fields[3] + fields[4];
    return [idle, fields.reduce((a, b) => a + b, 0)];
  } catch {
    return null;
  }
}

/** Chooses oneDNN's thread count (see the module comment); samples the load for `sampleMs`. */
export async function chooseThreads(sampleMs = 300): Promise<ThreadChoice> {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const fixed = Number(readEnv("OMP_NUM_THREADS"));
  if (Number.isInteger(fixed) && fixed > 0) {
    return { threads: fixed, why: "OMP_NUM_THREADS" };
  }
  if (cores === 1) return { threads: 1, why: "one core" };
  const before = await cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = await cpuTimes();
  if (!before || !after || after[1] <= before[1]) {
    return { threads: cores, why: `${cores} cores` };
  }
  const idle = (cores * (after[0] - before[0])) / (after[1] - before[1]);
  const threads = Math.max(1, Math.min(cores, Math.round(idle)));
  return { threads, why: `${idle.toFixed(1)} of ${cores} cores idle` };
}
