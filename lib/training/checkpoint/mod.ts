/**
 * Saving and resuming training runs: a trained model, its optimizer state and its history go to a
 * folder on disk (no `tfjs-node` needed), after every epoch if asked, so that an interrupted run
 * continues where it stopped and a finished one can be loaded instead of trained again.
 *
 * A checkpoint folder holds `model.json` (topology, training configuration and weight manifest),
 * `weights.bin` (model and optimizer weights) and `checkpoint.json` (epoch, history, seed, the
 * state of `seedRandom`'s generator, backend, time, and the size and xxHash64 of the other two
 * files). It holds nothing else: saving refuses a folder with anything else in it. A checkpoint is
 * written under a temporary name beside its folder and renamed into place, and the one it replaces
 * is kept under `.NAME.previous` until then; the next save or load starts from whichever of the two
 * is complete, so a process killed at any moment of a save, or of two saves in a row, leaves the
 * last good checkpoint. A mount point cannot be renamed, so it is saved into instead, as safely: the
 * new checkpoint is written into a temporary folder inside it, renamed to `.checkpoint.next` once
 * complete, and its files then replace the old ones one rename at a time; a load reads the files
 * still waiting there, and the next save moves them in. Anything else in a mount point stays as it
 * is. (The files are not flushed to the disk: a power cut during a save is not covered.) Loading
 * checks the record and the checksums and names the file that fails them.
 *
 * @module
 */
export type { CheckpointInfo, FileDigest, SaveOptions } from "./_format.ts";
export * from "./save_load.ts";
export * from "./callbacks.ts";
