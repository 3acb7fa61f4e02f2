// Saves written in the background by the epoch callbacks, which loading and saving wait for.
import { resolve } from "node:path";

// Saves still being written by the epoch callbacks, by resolved folder.
export const writing = new Map<string, Promise<void>>();

// Waits until no save is being written into `dir` (its failure is reported to whoever started it).
export async function settled(dir: string): Promise<void> {
  await writing.get(resolve(dir))?.catch(() => {});
}
