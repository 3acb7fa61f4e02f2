// The files of a checkpoint folder: their names, the record in checkpoint.json, the model and
// weights read back with their sizes and checksums checked.
import xxhash from "xxhash-wasm";
import * as tf from "../../tf.ts";
import { type RandomState, randomState } from "../random.ts";
import { historyProblem, type TrainingHistory } from "../fit.ts";

/** What `checkpoint.json` records beside the model. */
export interface CheckpointInfo {
  /** Epochs completed. */
  epoch: number;
  /** The history up to that epoch. */
  history: TrainingHistory;
  /** The seed the run was started with, if known. */
  seed?: number;
  /**
   * Where the generator of `seedRandom` stood when it was saved (absent when `Math.random` was
   * not seeded): loading puts it back, so that a run without `fitModel`'s `seed` option, whose
   * batches are drawn from `Math.random`, resumes with the batches it would have drawn.
   */
  random?: RandomState;
  /** The backend that trained it. */
  backend: string;
  /** When it was written (ISO 8601). */
  savedAt: string;
  /**
   * Size and xxHash64 (hex) of `model.json` and `weights.bin`, checked on loading. Absent in
   * checkpoints written before checksums were recorded, which load unchecked.
   */
  files?: Record<string, FileDigest>;
}

/** Size and checksum of one file of a checkpoint. */
export interface FileDigest {
  /** Size in bytes. */
  bytes: number;
  /** xxHash64 of the contents, 16 hex digits. */
  xxh64: string;
}

export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";
export const INFO_FILE = "checkpoint.json";

export interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  trainingConfig?: tf.io.TrainingConfig;
  format?: string;
  generatedBy?: string;
}

export const BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

const hasher = xxhash();

/** The size and xxHash64 of `bytes`, hashed in slices so that no copy of them is made. */
export async function digestOf(bytes: Uint8Array): Promise<FileDigest> {
  const hash = (await hasher).create64();
  const slice = 1 << 22;
  for (let start = 0; start < bytes.length; start += slice) {
    hash.update(bytes.subarray(start, start + slice));
  }
  return { bytes: bytes.length, xxh64: hash.digest().toString(16).padStart(16, "0") };
}

// The bytes as an ArrayBuffer of their own: the one they fill (as Deno.readFile leaves them), else
// a copy. (The weights file is the largest thing a load holds; a copy of it would double that.)
export function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes.buffer as ArrayBuffer : bytes.slice().buffer;
}

// An IOHandler that reads a checkpoint's model and weights from `paths` (by file name), checking
// them against the digests in `expected` when given; `name` is the folder named in errors.
export function folderHandler(
  paths: Record<string, string>,
  expected: Record<string, FileDigest> | undefined,
  name: string,
): tf.io.IOHandler {
  const check = async (file: string, bytes: Uint8Array) => {
    const wanted = expected?.[file];
    if (!wanted) return;
    const actual = await digestOf(bytes);
    if (actual.bytes !== wanted.bytes || actual.xxh64 !== wanted.xxh64) {
      throw new Error(
        `Cannot load checkpoint "${name}": ${file} does not match the checksum that ` +
          `${INFO_FILE} records (${actual.bytes} bytes with xxHash64 ${actual.xxh64}, expected ` +
          `${wanted.bytes} bytes with ${wanted.xxh64}); the file was changed or damaged ` +
          `after it was saved`,
      );
    }
  };
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: ModelJson;
      try {
        const modelBytes = await Deno.readFile(paths[MODEL_FILE]);
        await check(MODEL_FILE, modelBytes);
        json = JSON.parse(new TextDecoder().decode(modelBytes));
      } catch (error) {
        if ((error as Error).message.startsWith("Cannot load")) throw error;
        throw new Error(`Cannot load checkpoint "${name}": ${MODEL_FILE} is ${describe(error)}`);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest?.[0]?.weights)) {
        throw new Error(
          `Cannot load checkpoint "${name}": ${MODEL_FILE} has no model topology or weight manifest`,
        );
      }
      const weightSpecs = json.weightsManifest[0].weights;
      const expected = weightSpecs.reduce(
        (n, spec) => n + spec.shape.reduce((a, b) => a * b, 1) * (BYTES[spec.dtype] ?? 4),
        0,
      );
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(paths[WEIGHTS_FILE]);
      } catch (error) {
        throw new Error(`Cannot load checkpoint "${name}": ${WEIGHTS_FILE} is ${describe(error)}`);
      }
      if (bytes.byteLength !== expected) {
        throw new Error(
          `Cannot load checkpoint "${name}": ${WEIGHTS_FILE} has ${bytes.byteLength} bytes, ` +
            `the manifest in ${MODEL_FILE} expects ${expected}`,
        );
      }
      await check(WEIGHTS_FILE, bytes);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: wholeBuffer(bytes),
        trainingConfig: json.trainingConfig,
        format: json.format,
        generatedBy: json.generatedBy,
      };
    },
  };
}

export function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "missing";
  if (error instanceof SyntaxError) return `not valid JSON (${error.message})`;
  return `unreadable (${(error as Error).message})`;
}

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveOptions {
  /** Epochs completed. */
  epoch: number;
  /** The history so far. */
  history: TrainingHistory;
  /** The run's seed, recorded for reference. */
  seed?: number;
}

export const OWN_FILES = new Set([MODEL_FILE, WEIGHTS_FILE, INFO_FILE]);

/** The record a save writes into `checkpoint.json`, taken when the snapshot is. */
export function recordOf(options: SaveOptions, files: Record<string, FileDigest>): string {
  const random = randomState();
  const info: CheckpointInfo = {
    epoch: options.epoch,
    history: options.history,
    seed: options.seed,
    ...(random === null ? {} : { random }),
    backend: tf.getBackend(),
    savedAt: new Date().toISOString(),
    files,
  };
  return JSON.stringify(info, null, 1);
}

// Refuses an epoch and history that do not make a checkpoint.
export function checkRecord(dir: string, { epoch, history }: SaveOptions): void {
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new RangeError(
      `Cannot save checkpoint "${dir}": epoch ${epoch} is not a non-negative integer`,
    );
  }
  if (history.epoch.length !== epoch) {
    throw new RangeError(
      `Cannot save checkpoint "${dir}": the history has ${history.epoch.length} epochs, expected ${epoch}`,
    );
  }
  const problem = historyProblem(epoch, history);
  if (problem) throw new RangeError(`Cannot save checkpoint "${dir}": a ${problem}`);
}
