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
