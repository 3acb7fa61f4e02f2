// Snapshots: a checkpoint's files as bytes, taken from a model at one moment in one pass.
import * as tf from "../../tf.ts";
import { valuesInPlace } from "../../backends/mod.ts";
import type { EpochResult } from "../fit.ts";
import {
  BYTES,
  digestOf,
  type FileDigest,
  MODEL_FILE,
  type ModelJson,
  WEIGHTS_FILE,
} from "./_format.ts";

/** A checkpoint's files as bytes, taken from a model at one moment, with their digests. */
export interface Snapshot {
  /** `model.json`. */
  model: Uint8Array;
  /** `weights.bin`. */
  weights: Uint8Array;
  /** Size and xxHash64 of both. */
  files: Record<string, FileDigest>;
  /** The writes of this snapshot, until they are over (the weights buffer is reused after). */
  writes: Promise<unknown>[];
  /** Where a completed write put `weights.bin`, for later writes of the same snapshot to link. */
  weightsAt?: string;
}

// The protected method of tfjs-layers' LayersModel that model.save() takes the training
// configuration from (loss, metrics and optimizer settings).
interface WithTrainingConfig {
  getTrainingConfig(): tf.io.TrainingConfig;
}

// Copies the values of `tensor` into `into` at `offset`, straight from the backend's memory where
// it offers a view (wasm, onednn), else through a copy; resolves to the number of bytes.
async function copyInto(tensor: tf.Tensor, into: Uint8Array, offset: number): Promise<number> {
  const data = valuesInPlace(tensor) ?? await tensor.data();
  into.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  return data.byteLength;
}

// The last snapshot of each model, whose weights buffer the next one reuses once its writes are
// over: a fresh buffer of a large model's size costs its page faults again at every epoch.
export const lastSnapshot = new WeakMap<tf.LayersModel, Snapshot>();

/**
 * The files that `model.save(handler, { includeOptimizer: true })` would give, written as this
 * module writes them, but read straight into one buffer: the model's weights under their original
 * names, then the optimizer's (group "optimizer"). TF.js's own save copies the 283 MB of a
 * ResNet-50 and its Adam state four times over; this copies it once. TF.js's optimizers report
 * their iteration count as a new scalar each time their weights are read; it is freed here.
 */
export async function snapshotOf(model: tf.LayersModel): Promise<Snapshot> {
  const named: { name: string; tensor: tf.Tensor; group?: tf.io.WeightGroup }[] = [];
  const values = model.getWeights();
  model.weights.forEach((w, i) => named.push({ name: w.originalName, tensor: values[i] }));
  const optimizer = model.optimizer;
  const optimizerWeights = optimizer ? await optimizer.getWeights() : [];
  try {
    for (const { name, tensor } of optimizerWeights) {
      named.push({ name, tensor, group: "optimizer" });
    }
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    let total = 0;
    for (const { name, tensor, group } of named) {
      if (!(tensor.dtype in BYTES)) {
        throw new TypeError(`Cannot save weight "${name}": its type ${tensor.dtype} is not saved`);
      }
      const dtype = tensor.dtype as tf.io.WeightsManifestEntry["dtype"];
      weightSpecs.push({ name, shape: tensor.shape, dtype, ...(group && { group }) });
      total += tensor.size * BYTES[tensor.dtype];
    }
    const last = lastSnapshot.get(model);
    if (last) await Promise.allSettled(last.writes);
    const weights = last?.weights.length === total ? last.weights : new Uint8Array(total);
    let offset = 0;
    for (const { tensor } of named) offset += await copyInto(tensor, weights, offset);
    const json: ModelJson = {
      modelTopology: model.toJSON(null, false) as object,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }],
      ...(optimizer &&
        { trainingConfig: (model as unknown as WithTrainingConfig).getTrainingConfig() }),
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    };
    const modelBytes = new TextEncoder().encode(JSON.stringify(json));
    const snapshot: Snapshot = {
      model: modelBytes,
      weights,
      files: { [MODEL_FILE]: await digestOf(modelBytes), [WEIGHTS_FILE]: await digestOf(weights) },
      writes: [],
    };
    lastSnapshot.set(model, snapshot);
    return snapshot;
  } finally {
    tf.dispose(optimizerWeights.filter((w) => w.name === "iter").map((w) => w.tensor));
  }
}

// Snapshots taken after an epoch, shared by the callbacks of that epoch (the best epoch's and the
// last epoch's checkpoints are the same model).
const snapshots = new WeakMap<
  EpochResult,
  { model: tf.LayersModel; snapshot: Promise<Snapshot> }
>();

export function snapshotAfter(result: EpochResult, model: tf.LayersModel): Promise<Snapshot> {
  const shared = snapshots.get(result);
  if (shared?.model === model) return shared.snapshot;
  const snapshot = snapshotOf(model);
  snapshots.set(result, { model, snapshot });
  return snapshot;
}
