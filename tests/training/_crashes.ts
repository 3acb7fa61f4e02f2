// Crashes simulated in the middle of a save, shared by the checkpoint tests.

/**
 * Runs `save` with Deno.rename and Deno.remove failing at their `k`-th call, as a crash at that
 * moment would leave things (what the failed call would have done is not done). Resolves to
 * whether the save stopped there.
 */
export async function crashingAt(k: number, save: () => Promise<void>): Promise<boolean> {
  const { rename, remove } = Deno;
  let calls = 0;
  const crash = () => {
    if (++calls === k) throw new Error(`crash at call ${k}`);
  };
  Object.assign(Deno, {
    rename: (...args: Parameters<typeof rename>) => (crash(), rename(...args)),
    remove: (...args: Parameters<typeof remove>) => (crash(), remove(...args)),
  });
  try {
    await save();
    return false;
  } catch (error) {
    if (!(error as Error).message.startsWith("crash at call")) throw error;
    return true;
  } finally {
    Object.assign(Deno, { rename, remove });
  }
}

/**
 * Runs `save` with the disk filling up half-way through the first file it writes with
 * Deno.writeFile (an array, or a stream as the weights are written): half the bytes land, then
 * the write fails with "disk full".
 */
export async function diskFullHalfway<T>(save: () => Promise<T>): Promise<T> {
  const { writeFile } = Deno;
  Object.assign(Deno, {
    writeFile: async (path: string | URL, data: Uint8Array | ReadableStream<Uint8Array>) => {
      const bytes = data instanceof Uint8Array
        ? data
        : new Uint8Array(await new Response(data).arrayBuffer());
      await writeFile(path, bytes.subarray(0, bytes.length >> 1));
      throw new Error("disk full");
    },
  });
  try {
    return await save();
  } finally {
    Object.assign(Deno, { writeFile });
  }
}

/** The record of a run of `epoch` epochs, for saving. */
export function recordOf(epoch: number) {
  return {
    epoch,
    history: {
      epoch: Array.from({ length: epoch }, (_, i) => i + 1),
      loss: Array(epoch).fill(1),
      accuracy: Array(epoch).fill(0),
    },
  };
}
