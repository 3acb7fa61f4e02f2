// The Keras layer kinds that `loadKerasModel` and `saveKerasModel` know, both ways: from the config
// Keras 2 writes for a layer to the project's TF.js layer, and from a TF.js layer to the config
// Keras 2 writes. `LAYER_KINDS` is the only list of them.
//
// Loading gives the project's layers where it has its own: batch normalisation is the layer of
// `_batch_norm.ts`, with the mode its call recorded (`{"training": true}`) fixed in it, and a
// convolution whose input needs no gradient (the model's input, maybe padded) is the input
// convolution of `_input_conv.ts`. Saving writes both as Keras's own `BatchNormalization` and
// `Conv2D`, the fixed mode in the call's arguments, where Keras keeps it.
import * as tf from "../tf.ts";
import { batchNormalization } from "../layers/batch_norm.ts";
import { inputConv2d } from "../layers/input_conv.ts";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

type Initializer = ReturnType<typeof tf.initializers.zeros>;
type Activation = "linear" | "relu" | "softmax" | "sigmoid" | "tanh";
const ACTIVATIONS: readonly Activation[] = ["linear", "relu", "softmax", "sigmoid", "tanh"];

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/**
 * Reads the fields of one layer's Keras config; every error names the file, the layer, the field
 * and what was expected.
 */
export class ConfigReader {
  constructor(
    /** Starts every error message, such as `Cannot load "x.h5": layer "conv2d" (Conv2D)`. */
    readonly where: string,
    readonly name: string,
    readonly config: JsonObject,
  ) {}

  fail(field: string, expected: string, error: "type" | "range" = "range"): never {
    const message = `${this.where} has ${field} ${show(this.config[field])}, expected ${expected}`;
    throw error === "type" ? new TypeError(message) : new RangeError(message);
  }

  has(field: string): boolean {
    return this.config[field] !== undefined && this.config[field] !== null;
  }

  integer(field: string, fallback?: number): number {
    const value = this.config[field] ?? fallback;
    if (!Number.isInteger(value) || (value as number) < 1) this.fail(field, "a positive integer");
    return value as number;
  }

  number(field: string, fallback: number): number {
    const value = this.config[field] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(field, "a number", "type");
    return value;
  }

  bool(field: string, fallback: boolean): boolean {
    const value = this.config[field] ?? fallback;
    if (typeof value !== "boolean") this.fail(field, "true or false", "type");
    return value;
  }

  /** A positive integer or a pair of them, as a pair. */
  pair(field: string, fallback?: [number, number]): [number, number] {
    const value = this.config[field] ?? fallback;
    const pair = Number.isInteger(value) ? [value, value] : value;
    if (
      !Array.isArray(pair) || pair.length !== 2 ||
      !pair.every((n) => Number.isInteger(n) && (n as number) > 0)
    ) {
      this.fail(field, "a positive integer or a pair of them");
    }
    return pair as [number, number];
  }

  oneOf<T extends string>(field: string, values: readonly T[], fallback?: T): T {
    const value = this.config[field] ?? fallback;
    if (!values.includes(value as T)) {
      this.fail(field, values.map((v) => `"${v}"`).join(" or ").replace(/ or (?=.* or )/g, ", "));
    }
    return value as T;
  }

  /** Fails unless the field is absent or `expected` (compared as JSON). */
  only(field: string, expected: Json): void {
    if (this.config[field] === undefined) return;
    if (JSON.stringify(this.config[field]) !== JSON.stringify(expected)) {
      this.fail(field, `${show(expected)} (the only value supported here)`);
    }
  }

  activation(field: string): Activation {
    return this.oneOf(field, ACTIVATIONS, "linear");
  }

  /** The initializer the config names, or `fallback` for one TF.js has no equivalent of. */
  initializer(field: string, fallback: () => Initializer): Initializer {
    return initializerFromKeras(this.config[field]) ?? fallback();
  }
}

// ---------------------------------------------------------------------------------------------
// Initializers: they do not change a loaded model (its weights come from the file), but they are
// part of its config and go back into the file it is saved to.

type InitializerJson = { class_name: string; config: JsonObject };

function initializerFromKeras(json: Json | undefined): Initializer | null {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
  const { class_name: name, config = {} } = json as InitializerJson;
  // No seed is null, as in the initializers TF.js makes from their names.
  const seed = (typeof config.seed === "number" ? config.seed : null) as number | undefined;
  const num = (key: string, fallback: number) =>
    typeof config[key] === "number" ? config[key] as number : fallback;
  const init = tf.initializers;
  switch (name) {
    case "Zeros":
      return init.zeros();
    case "Ones":
      return init.ones();
    case "Constant":
      return init.constant({ value: num("value", 0) });
    case "GlorotUniform":
      return init.glorotUniform({ seed });
    case "GlorotNormal":
      return init.glorotNormal({ seed });
    case "HeUniform":
      return init.heUniform({ seed });
    case "HeNormal":
      return init.heNormal({ seed });
    case "LecunUniform":
      return init.leCunUniform({ seed });
    case "LecunNormal":
      return init.leCunNormal({ seed });
    case "RandomUniform":
      return init.randomUniform({
        minval: num("minval", -0.05),
        maxval: num("maxval", 0.05),
        seed,
      });
    case "RandomNormal":
      return init.randomNormal({ mean: num("mean", 0), stddev: num("stddev", 0.05), seed });
    case "TruncatedNormal":
      return init.truncatedNormal({ mean: num("mean", 0), stddev: num("stddev", 0.05), seed });
    case "VarianceScaling": {
      const mode = { fan_in: "fanIn", fan_out: "fanOut", fan_avg: "fanAvg" }[String(config.mode)];
      const distribution = { truncated_normal: "normal", normal: "normal", uniform: "uniform" }[
        String(config.distribution)
      ];
      if (!mode || !distribution) return null;
      return init.varianceScaling({
        scale: num("scale", 1),
        mode: mode as "fanIn",
        distribution: distribution as "normal",
        seed,
      });
    }
  }
  return null;
}

// TF.js's variance-scaling initializers all serialise as VarianceScaling; Keras names these.
const VARIANCE_SCALING_NAMES: Record<string, string> = {
  "1 fanAvg uniform": "GlorotUniform",
  "1 fanAvg normal": "GlorotNormal",
  "2 fanIn uniform": "HeUniform",
  "2 fanIn normal": "HeNormal",
  "1 fanIn uniform": "LecunUniform",
  "1 fanIn normal": "LecunNormal",
};

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The Keras config of a TF.js initializer, from its serialised TF.js form. */
function initializerToKeras(json: unknown): Json {
  const { className, config = {} } = json as { className: string; config?: JsonObject };
  const seed = config.seed ?? null;
  if (className === "VarianceScaling") {
    const named = VARIANCE_SCALING_NAMES[`${config.scale} ${config.mode} ${config.distribution}`];
    if (named) return { class_name: named, config: { seed } };
    return {
      class_name: "VarianceScaling",
      config: {
        scale: config.scale,
        mode: snakeCase(String(config.mode)),
        distribution: config.distribution === "normal" ? "truncated_normal" : config.distribution,
        seed,
      },
    };
  }
  const keys: Record<string, string[]> = {
    Zeros: [],
    Ones: [],
    Constant: ["value"],
    RandomUniform: ["minval", "maxval", "seed"],
    RandomNormal: ["mean", "stddev", "seed"],
    TruncatedNormal: ["mean", "stddev", "seed"],
  };
  const own = keys[className];
  const entries = own
    ? own.map((key) => [key, config[key] ?? null])
    : Object.entries(config).map(([key, value]) => [snakeCase(key), value]);
  return { class_name: className, config: Object.fromEntries(entries) };
}

// ---------------------------------------------------------------------------------------------
// The layer kinds

/** What a layer's first call tells its construction. */
export interface CallInfo {
  /** The mode the call fixed (`{"training": true}` in Keras), `undefined` for the phase. */
  training: boolean | undefined;
  /** Whether no input of the call depends on a weight (so it needs no gradient). */
  gradientFree: boolean;
}

/** One Keras layer class, both ways. */
export interface LayerKind {
  /** How many inputs a call takes: 1, or "many" (two or more). */
  inputs: 1 | "many";
  /** The rank its inputs must have, where it matters (4: NHWC images). */
  rank?: number;
  /** Its weights' names in Keras's order (`layer.weights`), for the weights it has. */
  weights: readonly string[];
  /** The TF.js layer for a Keras config. */
  load(read: ConfigReader, call: CallInfo): tf.layers.Layer;
  /** The Keras config of a TF.js layer of this kind, without the fields all layers share. */
  save(layer: tf.layers.Layer, config: tf.serialization.ConfigDict, fail: SaveFail): JsonObject;
}

/** Throws the error of a layer that cannot be saved, ending with `reason`. */
export type SaveFail = (reason: string) => never;

const NO_REGULARIZERS = (...names: string[]) =>
  Object.fromEntries(names.map((name) => [`${name}_regularizer`, null]));

function saveActivation(config: tf.serialization.ConfigDict, fail: SaveFail): string {
  const activation = String(config.activation);
  if (!ACTIVATIONS.includes(activation as Activation)) {
    fail(`has activation "${activation}", expected one of ${ACTIVATIONS.join(", ")}`);
  }
  return activation;
}

function channelsLast(config: tf.serialization.ConfigDict, fail: SaveFail): "channels_last" {
  const format = config.dataFormat ?? "channelsLast";
  if (format !== "channelsLast") fail(`has data format "${format}", expected "channelsLast"`);
  return "channels_last";
}

function pooling(kind: "max" | "average"): LayerKind {
  const make = kind === "max" ? tf.layers.maxPooling2d : tf.layers.averagePooling2d;
  return {
    inputs: 1,
    rank: 4,
    weights: [],
    load(read) {
      read.only("data_format", "channels_last");
      const poolSize = read.pair("pool_size", [2, 2]);
      return make({
        poolSize,
        strides: read.has("strides") ? read.pair("strides") : poolSize,
        padding: read.oneOf("padding", ["valid", "same"] as const, "valid"),
        name: read.name,
      });
    },
    save(_layer, config, fail) {
      return {
        pool_size: config.poolSize as Json,
        padding: config.padding as Json,
        strides: config.strides as Json,
        data_format: channelsLast(config, fail),
      };
    },
  };
}

/**
 * The Keras layer classes these functions know, by Keras class name (which TF.js's layers report
 * too). `InputLayer` is here for saving; loading makes it with `tf.input`.
 */
export const LAYER_KINDS: Readonly<Record<string, LayerKind>> = {
  Activation: {
    inputs: 1,
    weights: [],
    load: (read) =>
      tf.layers.activation({ activation: read.activation("activation"), name: read.name }),
    save: (_layer, config, fail) => ({ activation: saveActivation(config, fail) }),
  },
  Add: {
    inputs: "many",
    weights: [],
    load: (read) => tf.layers.add({ name: read.name }),
    save: () => ({}),
  },
  AveragePooling2D: pooling("average"),
  BatchNormalization: {
    inputs: 1,
    rank: 4,
    weights: ["gamma", "beta", "moving_mean", "moving_variance"],
    load(read, call) {
      const axis = read.config.axis;
      if (
        ![3, -1].includes((Array.isArray(axis) && axis.length === 1 ? axis[0] : axis) as number)
      ) {
        read.fail("axis", "3 or -1 (the channels of NHWC images)");
      }
      for (const field of ["renorm", "virtual_batch_size", "adjustment"]) {
        if (read.config[field]) read.fail(field, "nothing (not supported here)");
      }
      return batchNormalization({
        training: call.training,
        name: read.name,
        momentum: read.number("momentum", 0.99),
        epsilon: read.number("epsilon", 0.001),
        center: read.bool("center", true),
        scale: read.bool("scale", true),
      });
    },
    save(_layer, config, fail) {
      if (config.axis !== 3 && config.axis !== -1) {
        fail(`normalises axis ${config.axis}, expected 3`);
      }
      const init = (key: string) => initializerToKeras(config[`${key}Initializer`]);
      return {
        axis: [3],
        momentum: config.momentum as number,
        epsilon: config.epsilon as number,
        center: config.center as boolean,
        scale: config.scale as boolean,
        beta_initializer: init("beta"),
        gamma_initializer: init("gamma"),
        moving_mean_initializer: init("movingMean"),
        moving_variance_initializer: init("movingVariance"),
        ...NO_REGULARIZERS("beta", "gamma"),
        beta_constraint: null,
        gamma_constraint: null,
      };
    },
  },
  Conv2D: {
    inputs: 1,
    rank: 4,
    weights: ["kernel", "bias"],
    load(read, call) {
      read.only("data_format", "channels_last");
      if (read.pair("dilation_rate", [1, 1]).some((d) => d !== 1)) {
        read.fail("dilation_rate", "[1, 1] (dilated convolutions are not supported here)");
      }
      read.only("groups", 1);
      const args = {
        filters: read.integer("filters"),
        kernelSize: read.pair("kernel_size"),
        strides: read.pair("strides", [1, 1]),
        padding: read.oneOf("padding", ["valid", "same"] as const, "valid"),
        activation: read.activation("activation"),
        useBias: read.bool("use_bias", true),
        kernelInitializer: read.initializer(
          "kernel_initializer",
          () => tf.initializers.glorotUniform({}),
        ),
        biasInitializer: read.initializer("bias_initializer", tf.initializers.zeros),
        name: read.name,
      };
      // The model's first convolution: the project's layer that computes no input gradient.
      return call.gradientFree ? inputConv2d(args) : tf.layers.conv2d(args);
    },
    save(_layer, config, fail) {
      const dilation = config.dilationRate as number[];
      if (dilation.some((d) => d !== 1)) fail(`has dilation rate [${dilation}], expected [1, 1]`);
      return {
        filters: config.filters as number,
        kernel_size: config.kernelSize as Json,
        strides: config.strides as Json,
        padding: config.padding as Json,
        data_format: channelsLast(config, fail),
        dilation_rate: [1, 1],
        groups: 1,
        activation: saveActivation(config, fail),
        use_bias: config.useBias as boolean,
        kernel_initializer: initializerToKeras(config.kernelInitializer),
        bias_initializer: initializerToKeras(config.biasInitializer),
        ...NO_REGULARIZERS("kernel", "bias", "activity"),
        kernel_constraint: null,
        bias_constraint: null,
      };
    },
  },
  Dense: {
    inputs: 1,
    weights: ["kernel", "bias"],
    load: (read) =>
      tf.layers.dense({
        units: read.integer("units"),
        activation: read.activation("activation"),
        useBias: read.bool("use_bias", true),
        kernelInitializer: read.initializer("kernel_initializer", () =>
          tf.initializers.glorotUniform({})),
        biasInitializer: read.initializer("bias_initializer", tf.initializers.zeros),
        name: read.name,
      }),
    save: (_layer, config, fail) => ({
      units: config.units as number,
      activation: saveActivation(config, fail),
      use_bias: config.useBias as boolean,
      kernel_initializer: initializerToKeras(config.kernelInitializer),
      bias_initializer: initializerToKeras(config.biasInitializer),
      ...NO_REGULARIZERS("kernel", "bias", "activity"),
      kernel_constraint: null,
      bias_constraint: null,
    }),
  },
  Flatten: {
    inputs: 1,
    weights: [],
    load(read) {
      read.only("data_format", "channels_last");
      return tf.layers.flatten({ name: read.name });
    },
    save: (_layer, config, fail) => ({ data_format: channelsLast(config, fail) }),
  },
  InputLayer: {
    inputs: 1,
    weights: [],
    load() {
      throw new Error("InputLayer: loading makes inputs with tf.input (see inputShape)");
    },
    save: (_layer, config) => ({
      batch_input_shape: config.batchInputShape as Json,
      dtype: "float32",
      sparse: false,
      ragged: false,
    }),
  },
  MaxPooling2D: pooling("max"),
  ReLU: {
    inputs: 1,
    weights: [],
    load(read) {
      read.only("negative_slope", 0);
      read.only("threshold", 0);
      const maxValue = read.has("max_value") ? read.number("max_value", 0) : undefined;
      return tf.layers.reLU({ maxValue, name: read.name });
    },
    save: (_layer, config) => ({
      max_value: (config.maxValue as number | undefined) ?? null,
      negative_slope: 0,
      threshold: 0,
    }),
  },
  ZeroPadding2D: {
    inputs: 1,
    rank: 4,
    weights: [],
    load(read) {
      read.only("data_format", "channels_last");
      const p = read.config.padding ?? 1;
      const nonNegative = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
      const asPair = (v: Json) => (nonNegative(v) ? [v, v] : v) as [number, number];
      const padding = (Array.isArray(p) ? p.map(asPair) : [asPair(p), asPair(p)]) as [
        [number, number],
        [number, number],
      ];
      if (
        padding.length !== 2 ||
        !padding.every((d) => Array.isArray(d) && d.length === 2 && d.every(nonNegative))
      ) {
        read.fail("padding", "n, [rows, columns] or [[top, bottom], [left, right]] in pixels");
      }
      return tf.layers.zeroPadding2d({ padding, name: read.name });
    },
    save: (_layer, config, fail) => ({
      padding: config.padding as Json,
      data_format: channelsLast(config, fail),
    }),
  },
};

/** The input shape `[null, ...]` of a Keras `InputLayer` config (Keras 2's batch_input_shape). */
export function inputShape(read: ConfigReader): (number | null)[] {
  const shape = read.config.batch_input_shape ?? read.config.batch_shape;
  if (
    !Array.isArray(shape) || shape.length < 2 ||
    !shape.every((d, i) => (i === 0 && d === null) || (Number.isInteger(d) && (d as number) > 0))
  ) {
    read.fail("batch_input_shape", "[null, ...] with positive sizes", "type");
  }
  read.only("sparse", false);
  read.only("ragged", false);
  return shape as (number | null)[];
}

/** The Keras class names these functions know, for error messages. */
export function kindNames(): string {
  return Object.keys(LAYER_KINDS).join(", ");
}
