// Batch normalisation with the Keras defaults, and an optional fixed mode.
//
// In Keras, `BatchNormalization()(x, training=True)` inside a functional model fixes the layer's
// mode in the graph. TF.js models pass the phase (fit: training, predict/evaluate: inference) to
// every layer and ignore per-call arguments, so a fixed mode has to live in the layer itself: the
// subclass below takes a `training` setting that, when given, replaces the phase on every call, and
// saves it in its config. Without it, the layer behaves exactly as TF.js's own.
import * as tf from "../tf.ts";
import { batchNormLayerCall } from "../ops/batch_norm.ts";

/** Keras's `BatchNormalization` momentum (TF.js's default is the same, spelled out here). */
export const BATCH_NORM_MOMENTUM = 0.99;
/** Keras's `BatchNormalization` epsilon. */
export const BATCH_NORM_EPSILON = 0.001;

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0] & { training?: boolean };
type Kwargs = Record<string, unknown>;
type BatchNormClass = new (args: BatchNormArgs) => tf.layers.Layer;

let modeClass: BatchNormClass | undefined;

// Built on first use (no work at import time): TF.js does not export the BatchNormalization
// class itself, so it is taken from an instance.
function batchNormClass(): BatchNormClass {
  if (modeClass) return modeClass;
  const base = tf.layers.batchNormalization({}).constructor as unknown as new (
    args: BatchNormArgs,
  ) => tf.layers.Layer & {
    call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[];
    getConfig(): tf.serialization.ConfigDict;
  };
  class BatchNormalization extends base {
    static className = "BatchNormalization";
    fixedTraining: boolean | undefined;
    constructor(args: BatchNormArgs) {
      super(args);
      this.fixedTraining = args.training;
    }
    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
      const phase = this.fixedTraining === undefined
        ? kwargs
        : { ...kwargs, training: this.fixedTraining };
      // On the oneDNN backend, training mode runs as one native kernel (and one for its gradient).
      const native = batchNormLayerCall(this, inputs, phase.training === true);
      return native ?? super.call(inputs, phase);
    }
    override getConfig(): tf.serialization.ConfigDict {
      const config = super.getConfig();
      return this.fixedTraining === undefined
        ? config
        : { ...config, training: this.fixedTraining };
    }
  }
  tf.serialization.registerClass(
    BatchNormalization as unknown as tf.serialization.SerializableConstructor<
      tf.serialization.Serializable
    >,
  );
  modeClass = BatchNormalization;
  return modeClass;
}

/** The batch-normalisation modes {@linkcode setBatchNormMode} can set. */
export type BatchNormMode = "training" | "inference" | "phase";

/**
 * Sets the mode of every batch-normalisation layer of `model` built by this library (or loaded
 * from its checkpoints): "training" uses the batch's statistics, "inference" the moving
 * averages, "phase" follows fit / predict. Resolves to the number of layers changed.
 */
export function setBatchNormMode(model: tf.LayersModel, mode: BatchNormMode): number {
  const fixed = { training: true, inference: false, phase: undefined }[mode];
  if (!(mode in { training: 1, inference: 1, phase: 1 })) {
    throw new RangeError(
      `Cannot set batch normalisation to "${mode}": expected training, inference or phase`,
    );
  }
  const layers = batchNormLayers(model);
  for (const layer of layers) layer.fixedTraining = fixed;
  return layers.length;
}

/** A batch-normalisation layer of this library, with its fixed mode (`undefined`: the phase). */
export type BatchNormLayer = tf.layers.Layer & { fixedTraining: boolean | undefined };

/** The batch-normalisation layers of `model` built by this library, in the model's order. */
export function batchNormLayers(model: tf.LayersModel): BatchNormLayer[] {
  const Layer = batchNormClass();
  return model.layers.filter((layer) => layer instanceof Layer) as BatchNormLayer[];
}

/** Registers the layer class for deserialisation (loading a saved model needs it). */
export function registerBatchNormalization(): void {
  batchNormClass();
}

/** Options of {@linkcode batchNormalization}. */
export interface BatchNormOptions {
  /**
   * Fixes the mode, as Keras's `training=` argument: `true` normalises with the batch's statistics,
   * `false` with the moving averages; left out or `null`, the phase decides (training in `fit`,
   * inference in `predict` and `evaluate`).
   */
  training?: boolean | null;
  /** The layer's name; TF.js names it when left out. */
  name?: string;
  /** Momentum of the moving averages. Default Keras's, {@linkcode BATCH_NORM_MOMENTUM}. */
  momentum?: number;
  /** Added to the variance before its square root. Default Keras's, {@linkcode BATCH_NORM_EPSILON}. */
  epsilon?: number;
  /** Whether the layer has the offset `beta`. Default true. */
  center?: boolean;
  /** Whether the layer has the scale `gamma`. Default true. */
  scale?: boolean;
}

/**
 * A batch-normalisation layer over the channel axis (NHWC: axis 3) with Keras's momentum and
 * epsilon unless told otherwise. `training` fixes its mode (true: batch statistics; false: moving
 * averages) whatever the phase; left out, it follows the phase as usual.
 */
export function batchNormalization(options: BatchNormOptions = {}): tf.layers.Layer {
  const Layer = batchNormClass();
  return new Layer({
    axis: 3,
    momentum: options.momentum ?? BATCH_NORM_MOMENTUM,
    epsilon: options.epsilon ?? BATCH_NORM_EPSILON,
    center: options.center,
    scale: options.scale,
    training: options.training ?? undefined,
    name: options.name,
  });
}
