/**
 * Keras HDF5 model files, both ways: {@linkcode loadKerasModel} builds the model that a file
 * written by Keras 2's `model.save("model.h5")` describes and gives it the file's weights, and
 * {@linkcode saveKerasModel} writes a model in that layout, for Keras or for this library to load.
 *
 * The layout (Keras 2, TensorFlow 2.x): the root attribute `model_config` holds the model as JSON
 * (`{"class_name": "Functional", "config": {"name", "layers", "input_layers", "output_layers"}}`,
 * each layer with its `class_name`, `config` and `inbound_nodes`), beside `keras_version` and
 * `backend`; the group `model_weights` lists the layers in its attribute `layer_names` and has one
 * group per layer, whose attribute `weight_names` (such as `conv2d/kernel:0`) names the datasets
 * under it that hold the weights. A layer called as `BatchNormalization()(x, training=True)`
 * records `{"training": true}` in its inbound node; loading fixes that mode in the layer, as the
 * course's blocks need, and saving writes the mode of this library's batch-normalisation layers
 * back there.
 *
 * The layer kinds both notebooks use are known: `InputLayer`, `ZeroPadding2D`, `Conv2D`,
 * `BatchNormalization` (over the channels), `Activation` and `ReLU`, `Add`, `MaxPooling2D`,
 * `AveragePooling2D`, `Flatten` and `Dense` (activations linear, relu, softmax, sigmoid, tanh).
 * Anything else, and anything malformed, is refused with an error that names the file, the layer
 * and the value. Models are functional (Keras's `Sequential` files are refused) and are neither
 * compiled nor given the file's `training_config`.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import * as tf from "../tf.ts";
import type { BatchNormLayer } from "../layers/batch_norm.ts";
import { exists } from "../util/fs.ts";
import {
  createHdf5Bytes,
  type Dataset,
  type File,
  h5wasm,
  withHdf5File,
} from "../hdf5/hdf5_file.ts";
import {
  ConfigReader,
  inputShape,
  type Json,
  type JsonObject,
  kindNames,
  LAYER_KINDS,
} from "./_layers.ts";

/**
 * The `keras_version` a saved file records. Keras only asks whether it starts with "1" (then it
 * converts the weights of Keras 1 files), so this says which layout the file has: the one of
 * Keras 2 in TensorFlow 2.x, up to its last release.
 */
const KERAS_VERSION = "2.15.0";
const BACKEND = "tensorflow";
// H5T_class_t's value for floating-point types, as h5wasm reports it in `metadata.type`.
const H5T_FLOAT = 1;

/** Throws a `TypeError` whose message is the prefix ("Cannot load "x.h5"") and `message`. */
type Fail = (message: string) => never;

function failing(prefix: string): Fail {
  return (message) => {
    throw new TypeError(`${prefix}: ${message}`);
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Reading the file

/** One weight as the file holds it. */
interface StoredWeight {
  /** Its name in `weight_names`, such as "conv2d/kernel:0". */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** The weight's own name: "kernel" for "conv2d/kernel:0" (and for TF.js's "conv2d/kernel"). */
function shortName(name: string): string {
  return name.split("/").at(-1)!.replace(/:\d+$/, "");
}

type Attributes = Record<string, { value: unknown }>;

/** An attribute holding strings, maybe split as NAME0, NAME1, … (Keras splits long lists). */
function stringList(attrs: Attributes, name: string, fail: Fail, owner: string): string[] | null {
  const parts = name in attrs ? [attrs[name]] : [];
  while (`${name}${parts.length}` in attrs) parts.push(attrs[`${name}${parts.length}`]);
  if (parts.length === 0) return null;
  return parts.flatMap(({ value }) => {
    if (typeof value === "string") return [value];
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
    // Keras writes an empty list as an empty array of floats.
    if (ArrayBuffer.isView(value) && (value as Float64Array).length === 0) return [];
    return fail(`${owner} has a "${name}" attribute that is not a list of strings`);
  });
}

function readModelConfig(file: File, fail: Fail): JsonObject {
  const attrs = file.attrs as Attributes;
  if (!("model_config" in attrs)) {
    fail(
      "layer_names" in attrs
        ? `it has no "model_config" attribute: it holds weights only (as Keras's ` +
          `save_weights() writes them); a model needs the file model.save("model.h5") writes`
        : `it has no "model_config" attribute, so it is not a Keras model file (one written ` +
          `by Keras's model.save("model.h5") or by saveKerasModel)`,
    );
  }
  const text = attrs.model_config.value;
  if (typeof text !== "string") fail(`its "model_config" attribute is not a string`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`its "model_config" is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(json) || !isObject(json.config)) {
    fail(`its "model_config" is not {"class_name": ..., "config": {...}}`);
  }
  if (json.class_name !== "Functional" && json.class_name !== "Model") {
    fail(
      `its model is a ${JSON.stringify(json.class_name)}, expected a functional model ` +
        `("Functional" or "Model")`,
    );
  }
  if (!Array.isArray(json.config.layers) || json.config.layers.length === 0) {
    fail(`its "model_config" has no list of layers (config.layers)`);
  }
  return json.config;
}

function readWeights(
  file: File,
  read: (name: string) => unknown,
  fail: Fail,
): Map<string, StoredWeight[]> {
  const group = file.get("model_weights");
  if (!(group instanceof h5wasm.Group)) fail(`it has no "model_weights" group`);
  const layerNames = stringList(group.attrs as Attributes, "layer_names", fail, "model_weights");
  if (layerNames === null) fail(`its "model_weights" group has no "layer_names" attribute`);
  const weights = new Map<string, StoredWeight[]>();
  for (const layer of layerNames) {
    const layerGroup = group.get(layer);
    if (!(layerGroup instanceof h5wasm.Group)) {
      fail(`"model_weights" lists layer "${layer}" but has no group for it`);
    }
    const owner = `model_weights/${layer}`;
    const names = stringList(layerGroup.attrs as Attributes, "weight_names", fail, owner) ?? [];
    weights.set(
      layer,
      names.map((name) => {
        const path = `model_weights/${layer}/${name}`;
        const dataset = file.get(path);
        if (!(dataset instanceof h5wasm.Dataset)) {
          fail(`layer "${layer}" lists weight "${name}" but there is no dataset "${path}"`);
        }
        const { type, size } = (dataset as Dataset).metadata;
        if (type === H5T_FLOAT && size === 2) {
          fail(
            `dataset "${path}" holds float16 weights (a model saved in mixed precision), ` +
              `expected float32: in Keras, set the policy to "float32", rebuild the model, ` +
              `load these weights into it and save it again`,
          );
        }
        const value = read(path);
        if (
          type !== H5T_FLOAT || !(value instanceof Float32Array || value instanceof Float64Array)
        ) {
          fail(`dataset "${path}" has dtype "${dataset.dtype}" (${size} bytes), expected float32`);
        }
        const values = value instanceof Float32Array ? value : Float32Array.from(value);
        return { name, shape: dataset.shape ?? [], values };
      }),
    );
  }
  return weights;
}

// ---------------------------------------------------------------------------------------------
// Building the model from model_config

interface Ref {
  layer: string;
  node: number;
  tensor: number;
}

interface NodeSpec {
  refs: Ref[];
  kwargs: JsonObject;
}

interface LayerSpec {
  className: string;
  name: string;
  read: ConfigReader;
  nodes: NodeSpec[];
}

function parseRef(json: unknown, what: string, fail: Fail): Ref & { kwargs: JsonObject } {
  if (
    !Array.isArray(json) || json.length < 3 || typeof json[0] !== "string" ||
    !Number.isInteger(json[1]) || !Number.isInteger(json[2]) ||
    (json[3] !== undefined && !isObject(json[3]))
  ) {
    fail(
      `${what} is ${JSON.stringify(json)}, expected [layer name, node index, tensor index, ` +
        `{call arguments}] as Keras 2 writes it`,
    );
  }
  return { layer: json[0], node: json[1], tensor: json[2], kwargs: json[3] ?? {} };
}

function parseLayers(model: JsonObject, prefix: string, fail: Fail): LayerSpec[] {
  const specs = (model.layers as Json[]).map((json, i): LayerSpec => {
    const name = isObject(json)
      ? json.name ?? (isObject(json.config) ? json.config.name : null)
      : null;
    if (!isObject(json) || typeof name !== "string" || !isObject(json.config)) {
      fail(`layer ${i} of its "model_config" has no name, class_name or config`);
    }
    const className = String(json.class_name);
    if (!(className in LAYER_KINDS)) {
      fail(`layer "${name}" is a ${className}, expected one of ${kindNames()}`);
    }
    const nodes = json.inbound_nodes ?? [];
    if (!Array.isArray(nodes)) fail(`layer "${name}" has inbound_nodes that are not a list`);
    const where = `${prefix}: layer "${name}" (${className})`;
    return {
      className,
      name,
      read: new ConfigReader(where, name, json.config),
      nodes: nodes.map((node, n) => {
        const what = `layer "${name}" has an inbound node that`;
        if (isObject(node)) fail(`${what} is in Keras 3's format, expected Keras 2's [[...]]`);
        if (!Array.isArray(node) || node.length === 0) fail(`${what} is not a list of inputs`);
        const refs = node.map((ref) => parseRef(ref, `an input of layer "${name}"`, fail));
        const kwargs = Object.assign({}, ...refs.map((ref) => ref.kwargs)) as JsonObject;
        const extra = Object.keys(kwargs).filter((key) => key !== "training");
        if (
          extra.length > 0 || ![undefined, null, true, false].includes(kwargs.training as never)
        ) {
          fail(
            `layer "${name}" is called (node ${n}) with ${JSON.stringify(kwargs)}, expected no ` +
              `arguments but "training" (true, false or null)`,
          );
        }
        return { refs: refs.map(({ layer, node, tensor }) => ({ layer, node, tensor })), kwargs };
      }),
    };
  });
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) fail(`layer name "${spec.name}" is used twice`);
    names.add(spec.name);
  }
  for (const spec of specs) {
    for (const ref of spec.nodes.flatMap((node) => node.refs)) {
      if (!names.has(ref.layer)) {
        fail(`layer "${spec.name}" takes its input from "${ref.layer}", which is not a layer`);
      }
    }
  }
  return specs;
}

// A layer's mode in all its calls (a layer has one mode, so all calls must agree).
function fixedTraining(spec: LayerSpec, fail: Fail): boolean | undefined {
  const modes = new Set(spec.nodes.map((node) => node.kwargs.training ?? undefined));
  if (modes.size > 1) {
    fail(
      `layer "${spec.name}" is called with different training modes, which one layer cannot have`,
    );
  }
  return [...modes][0] as boolean | undefined;
}

// Builds the graph: one TF.js layer per Keras layer, applied once per inbound node, in an order
// where every node's inputs exist (Keras's config lists layers in such an order, but need not).
function buildModel(model: JsonObject, specs: LayerSpec[], fail: Fail): tf.LayersModel {
  const tensors = new Map<string, tf.SymbolicTensor>(); // "layer#node" -> output
  const gradientFree = new Set<tf.SymbolicTensor>();
  const layers: tf.layers.Layer[] = [];
  const created = new Map<string, tf.layers.Layer>();
  try {
    for (const spec of specs.filter((s) => s.className === "InputLayer")) {
      const shape = inputShape(spec.read);
      const input = tf.input({ batchShape: shape, name: spec.name });
      tensors.set(`${spec.name}#0`, input);
      gradientFree.add(input);
    }
    let pending = specs.filter((s) => s.className !== "InputLayer").flatMap((spec) =>
      spec.nodes.map((node, index) => ({ spec, node, index }))
    );
    while (pending.length > 0) {
      const waiting = pending.filter(({ spec, node, index }) => {
        const inputs = node.refs.map((ref) => tensors.get(`${ref.layer}#${ref.node}`));
        if (inputs.some((t) => t === undefined)) return true;
        const bad = node.refs.find((ref) => ref.tensor !== 0);
        if (bad) {
          fail(`layer "${spec.name}" takes output ${bad.tensor} of "${bad.layer}", which has one`);
        }
        const free = inputs.every((t) => gradientFree.has(t!));
        const output = applyLayer(spec, inputs as tf.SymbolicTensor[], free, created, layers, fail);
        tensors.set(`${spec.name}#${index}`, output);
        if (free && created.get(spec.name)!.weights.length === 0) gradientFree.add(output);
        return false;
      });
      if (waiting.length === pending.length) {
        const { spec, node } = waiting[0];
        const missing = node.refs.find((ref) => !tensors.has(`${ref.layer}#${ref.node}`))!;
        fail(
          `layer "${spec.name}" takes node ${missing.node} of "${missing.layer}", which is never ` +
            `computed (the layers form a cycle, or that layer has fewer calls)`,
        );
      }
      pending = waiting;
    }
    const endpoints = (key: "input_layers" | "output_layers") => {
      const refs = model[key];
      const list = Array.isArray(refs) && typeof refs[0] === "string" ? [refs] : refs;
      if (!Array.isArray(list) || list.length === 0) fail(`its "model_config" has no ${key}`);
      return list.map((json) => {
        const ref = parseRef(json, `an entry of ${key}`, fail);
        const tensor = tensors.get(`${ref.layer}#${ref.node}`);
        if (!tensor || ref.tensor !== 0) fail(`${key} names ${JSON.stringify(json)}, not a tensor`);
        return tensor;
      });
    };
    const inputs = endpoints("input_layers");
    const outputs = endpoints("output_layers");
    const name = typeof model.name === "string" ? model.name : undefined;
    try {
      return tf.model({ inputs, outputs: outputs.length === 1 ? outputs[0] : outputs, name });
    } catch (error) {
      return fail(`its layers do not make a model (${(error as Error).message})`);
    }
  } catch (error) {
    for (const layer of layers) disposeLayer(layer);
    throw error;
  }
}

function applyLayer(
  spec: LayerSpec,
  inputs: tf.SymbolicTensor[],
  gradientFree: boolean,
  created: Map<string, tf.layers.Layer>,
  layers: tf.layers.Layer[],
  fail: Fail,
): tf.SymbolicTensor {
  const kind = LAYER_KINDS[spec.className];
  const shapes = inputs.map((t) => `[${t.shape.map((d) => d ?? "null").join(", ")}]`).join(", ");
  if (kind.inputs === 1 ? inputs.length !== 1 : inputs.length < 2) {
    fail(
      `layer "${spec.name}" (${spec.className}) is called on ${inputs.length} inputs, expected ` +
        `${kind.inputs === 1 ? "one" : "two or more"}`,
    );
  }
  if (kind.rank !== undefined && inputs.some((t) => t.shape.length !== kind.rank)) {
    fail(
      `layer "${spec.name}" (${spec.className}) is called on shape ${shapes}, expected a ` +
        `${kind.rank}-D input [batch, height, width, channels]`,
    );
  }
  let layer = created.get(spec.name);
  if (!layer) {
    for (const [field, value] of Object.entries(spec.read.config)) {
      if (/_(regularizer|constraint)$/.test(field) && value !== null) {
        spec.read.fail(field, "null (regularizers and constraints are not supported here)");
      }
    }
    layer = kind.load(spec.read, { training: fixedTraining(spec, fail), gradientFree });
    if (spec.read.config.trainable === false) layer.trainable = false;
    created.set(spec.name, layer);
    layers.push(layer);
  }
  try {
    return layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.SymbolicTensor;
  } catch (error) {
    return fail(
      `layer "${spec.name}" (${spec.className}) cannot be applied to inputs of shape ${shapes} ` +
        `(${(error as Error).message})`,
    );
  }
}

// Frees a layer of a model that could not be built (the layer is counted once per call).
function disposeLayer(layer: tf.layers.Layer): void {
  if (!layer.built || layer.weights.length === 0) return;
  try {
    while (layer.dispose().refCountAfterDispose > 0);
  } catch {
    // Already disposed, or never used.
  }
}

// Gives every layer with weights the file's, matched by name ("kernel", "gamma", …), after checking
// them all: nothing is assigned unless everything fits.
function assignWeights(
  model: tf.LayersModel,
  stored: Map<string, StoredWeight[]>,
  fail: Fail,
): void {
  const assignments: { layer: tf.layers.Layer; values: StoredWeight[] }[] = [];
  for (const layer of model.layers) {
    const expected = layer.weights;
    const file = stored.get(layer.name) ?? [];
    if (expected.length === 0) {
      if (file.length > 0) {
        fail(`"model_weights" has weights for layer "${layer.name}", which has none`);
      }
      continue;
    }
    const wanted = expected.map((w) => shortName(w.originalName));
    if (!stored.has(layer.name)) {
      fail(
        `"model_weights" has no weights for layer "${layer.name}" (expected ${wanted.join(", ")})`,
      );
    }
    const byName = new Map(file.map((w) => [shortName(w.name), w]));
    const unknown = file.find((w) => !wanted.includes(shortName(w.name)));
    if (unknown || byName.size !== file.length || file.length !== wanted.length) {
      fail(
        `layer "${layer.name}" (${layer.getClassName()}) has weights ${
          file.map((w) => `"${w.name}"`).join(", ") || "none"
        } in "model_weights", expected ${wanted.join(", ")}`,
      );
    }
    const values = expected.map((w, i) => {
      const value = byName.get(wanted[i])!;
      if (JSON.stringify(value.shape) !== JSON.stringify(w.shape)) {
        fail(
          `weight "model_weights/${layer.name}/${value.name}" has shape [${
            value.shape.join(", ")
          }], ` +
            `layer "${layer.name}" (${layer.getClassName()}) expects [${w.shape.join(", ")}]`,
        );
      }
      return value;
    });
    assignments.push({ layer, values });
  }
  const layers = new Set(model.layers.map((layer) => layer.name));
  for (const [name, weights] of stored) {
    if (weights.length > 0 && !layers.has(name)) {
      fail(`"model_weights" has weights for layer "${name}", which "model_config" does not have`);
    }
  }
  for (const { layer, values } of assignments) {
    tf.tidy(() => layer.setWeights(values.map((w) => tf.tensor(w.values, w.shape, "float32"))));
  }
}

/**
 * Loads a Keras model from the HDF5 file at `path`, as Keras 2's `model.save("model.h5")` (or
 * {@linkcode saveKerasModel}) writes it: the model that its `model_config` describes, with the
 * weights of its `model_weights`. Layers are this library's where it has its own: batch
 * normalisation keeps the mode its call fixed (`BatchNormalization()(x, training=True)` stays in
 * training mode in `predict` too; see `setBatchNormMode` to change it), and a convolution that
 * reads the model's input is the input convolution the library's models use.
 *
 * The caller owns the model (`model.dispose()` frees its weights). It is not compiled: compile it
 * (e.g. with `compileModel`) to train or evaluate it; the file's `training_config` is not used.
 *
 * Throws `Deno.errors.NotFound` for a missing file, and a `TypeError` (a `RangeError` for a value
 * outside what is supported) naming the file, the layer and the value for anything else: not an
 * HDF5 file (saying so for a Keras 3 `.keras` zip and a TensorFlow SavedModel folder), no
 * `model_config` (a weights-only file), a layer kind other than those listed in the
 * module documentation, a weight missing or of the wrong shape.
 *
 * @example
 * ```ts ignore
 * const model = await loadKerasModel("ResNet50.h5");
 * console.log(model.outputs[0].shape); // [null, 6]
 * model.dispose();
 * ```
 */
export async function loadKerasModel(path: string): Promise<tf.LayersModel> {
  const fail = failing(`Cannot load "${path}"`);
  const info = await Deno.stat(path).catch(() => null);
  if (info?.isDirectory) {
    const savedModel = await exists(join(path, "saved_model.pb"));
    fail(
      savedModel
        ? `it is a TensorFlow SavedModel folder, not a Keras 2 HDF5 file; in Keras, load it and ` +
          `save it with model.save("model.h5")`
        : `it is a folder, not a Keras 2 HDF5 file`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot load "${path}": file not found`);
    }
    throw error;
  }
  // A zip archive ("PK\x03\x04"): the ".keras" format of Keras 3 (and Keras 2.13 and later).
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    fail(
      `it is a Keras 3 ".keras" file (a zip archive), not the Keras 2 HDF5 format this loader ` +
        `reads; in Keras, load it and save it with model.save("model.h5")`,
    );
  }
  const { config, weights } = await withHdf5File(path, bytes, ({ file, read }) => {
    const config = readModelConfig(file, fail);
    return { config, weights: readWeights(file, read, fail) };
  });
  const specs = parseLayers(config, `Cannot load "${path}"`, fail);
  const model = buildModel(config, specs, fail);
  try {
    assignWeights(model, weights, fail);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

// ---------------------------------------------------------------------------------------------
// Saving

/**
 * {@linkcode loadKerasModel}, or `null` when there is no file at `path` (the course's pretrained
 * model is optional). Any other problem with the file throws as `loadKerasModel` does.
 */
export async function loadKerasModelIfPresent(path: string): Promise<tf.LayersModel | null> {
  if (!(await exists(path))) return null;
  return await loadKerasModel(path);
}

/** Options of {@linkcode saveKerasModel}. */
export interface SaveKerasOptions {
  /** Replace a file that exists at the path. Default false: an existing file is refused. */
  overwrite?: boolean;
}

interface PythonicTopology {
  config: {
    name: string;
    layers: { name: string; inbound_nodes: Json[][][] }[];
    input_layers: Json;
    output_layers: Json;
  };
}

/** The `model_config` Keras 2 would write for `model`, checking that every layer is known. */
function kerasModelConfig(model: tf.LayersModel, fail: Fail): JsonObject {
  // TF.js's own Keras-style JSON gives the graph (layer order, inbound nodes, endpoints); each
  // layer's config is then written as Keras 2 writes it for its class.
  const topology = model.toJSON(null, false) as unknown as PythonicTopology;
  const byName = new Map(model.layers.map((layer) => [layer.name, layer]));
  const layers = topology.config.layers.map((entry): JsonObject => {
    const layer = byName.get(entry.name)!;
    const className = layer.getClassName();
    const kind = LAYER_KINDS[className];
    if (!kind) fail(`layer "${layer.name}" is a ${className}, expected one of ${kindNames()}`);
    const failLayer = (reason: string): never =>
      fail(`layer "${layer.name}" (${className}) ${reason}`);
    if (layer.name.includes("/")) failLayer(`has a "/" in its name, which HDF5 reads as a path`);
    const config = layer.getConfig();
    for (const [key, value] of Object.entries(config)) {
      if (/(Regularizer|Constraint)$/.test(key) && value != null) {
        failLayer(`has a ${key}, which this file layout does not keep`);
      }
    }
    for (const node of layer.inboundNodes) {
      const shapes =
        (Array.isArray(node.inputShapes[0]) ? node.inputShapes : [node.inputShapes]) as (
          | number
          | null
        )[][];
      if (kind.rank !== undefined && shapes.some((s) => s.length !== kind.rank)) {
        failLayer(`takes an input of shape [${shapes[0].join(", ")}], expected ${kind.rank}-D`);
      }
    }
    const training = className === "BatchNormalization"
      ? (layer as BatchNormLayer).fixedTraining
      : undefined;
    const own = kind.save(layer, config, failLayer);
    return {
      class_name: className,
      // Keras's InputLayer takes no "trainable" and lists its name last.
      config: className === "InputLayer"
        ? { ...own, name: layer.name }
        : { name: layer.name, trainable: layer.trainable, dtype: "float32", ...own },
      name: layer.name,
      inbound_nodes: entry.inbound_nodes.map((node) =>
        node.map((ref) => [ref[0], ref[1], ref[2], training === undefined ? {} : { training }])
      ),
    };
  });
  return {
    class_name: "Functional",
    config: {
      name: topology.config.name,
      layers,
      input_layers: topology.config.input_layers,
      output_layers: topology.config.output_layers,
    },
  };
}

interface LayerWeights {
  layer: string;
  weights: { name: string; shape: number[]; values: Float32Array }[];
}

/** Every layer's weights in Keras's order, named as Keras names them ("conv2d/kernel:0"). */
async function layerWeights(model: tf.LayersModel, fail: Fail): Promise<LayerWeights[]> {
  const result: LayerWeights[] = [];
  for (const layer of model.layers) {
    const order = LAYER_KINDS[layer.getClassName()].weights;
    const variables = [...layer.weights].sort((a, b) =>
      order.indexOf(shortName(a.originalName)) - order.indexOf(shortName(b.originalName))
    );
    const weights = [];
    for (const variable of variables) {
      const short = shortName(variable.originalName);
      if (!order.includes(short) || variable.dtype !== "float32") {
        fail(
          `layer "${layer.name}" has a weight "${variable.originalName}" (${variable.dtype}), ` +
            `expected float32 weights named ${order.join(", ")}`,
        );
      }
      const values = await variable.read().data() as Float32Array;
      weights.push({ name: `${layer.name}/${short}:0`, shape: variable.shape as number[], values });
    }
    result.push({ layer: layer.name, weights });
  }
  return result;
}

function writeLayout(file: File, config: JsonObject, layers: LayerWeights[]): void {
  file.create_attribute("keras_version", KERAS_VERSION);
  file.create_attribute("backend", BACKEND);
  file.create_attribute("model_config", JSON.stringify(config));
  file.create_attribute("saved_by", `saveKerasModel, TensorFlow.js layers ${tf.version_layers}`);
  const group = file.create_group("model_weights");
  group.create_attribute("layer_names", layers.map((l) => l.layer));
  group.create_attribute("backend", BACKEND);
  group.create_attribute("keras_version", KERAS_VERSION);
  for (const { layer, weights } of layers) {
    const layerGroup = group.create_group(layer);
    if (weights.length === 0) {
      // As Keras writes an empty list: an empty array of floats.
      layerGroup.create_attribute("weight_names", new Float64Array(0), [0]);
      continue;
    }
    layerGroup.create_attribute("weight_names", weights.map((w) => w.name));
    const inner = layerGroup.create_group(layer);
    for (const weight of weights) {
      inner.create_dataset({
        name: weight.name.slice(layer.length + 1),
        data: weight.values,
        shape: weight.shape,
        dtype: "<f",
      });
    }
  }
}

async function refuseExisting(path: string, overwrite: boolean): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.isDirectory) throw new TypeError(`Cannot save "${path}": it is a folder`);
  if (!overwrite) {
    throw new Deno.errors.AlreadyExists(
      `Cannot save "${path}": the file exists; pass { overwrite: true } to replace it`,
    );
  }
}

/**
 * Saves `model` as a Keras HDF5 file at `path`, in the layout of Keras 2's `model.save("x.h5")`
 * (see the module documentation), so that Keras's `load_model` and {@linkcode loadKerasModel} can
 * load it. Layers are written as Keras's own classes: this library's batch normalisation as
 * `BatchNormalization` with its fixed mode (if any) as the `{"training": ...}` of its call, its
 * input convolution as `Conv2D`. The optimizer and the training configuration are not saved.
 *
 * The file is written under a temporary name beside `path` and renamed into place; the parent
 * folder is created if needed. An existing file is refused with `Deno.errors.AlreadyExists`
 * unless `overwrite` is set. A layer kind this layout does not know (see the module
 * documentation), or a layer setting it cannot keep (a regularizer, a dilation), throws a
 * `TypeError` naming the layer, before anything is written.
 *
 * @example
 * ```ts ignore
 * const model = resNet50();
 * await saveKerasModel(model, "runs/resnet50.h5");
 * const again = await loadKerasModel("runs/resnet50.h5");
 * ```
 */
export async function saveKerasModel(
  model: tf.LayersModel,
  path: string,
  options: SaveKerasOptions = {},
): Promise<void> {
  const overwrite = options.overwrite ?? false;
  const fail = failing(`Cannot save "${path}"`);
  await refuseExisting(path, overwrite);
  const config = kerasModelConfig(model, fail);
  const weights = await layerWeights(model, fail);
  const bytes = await createHdf5Bytes(path, (file) => writeLayout(file, config, weights));
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.saving-${Deno.pid}-${Date.now()}`);
  try {
    await Deno.writeFile(temporary, bytes);
    if (overwrite) {
      await Deno.rename(temporary, path);
      return;
    }
    // A hard link is made only where nothing exists, so a file that appeared meanwhile is kept.
    try {
      await Deno.link(temporary, path);
    } catch {
      // Refused because a file appeared, or a file system without hard links: check, then rename.
      await refuseExisting(path, false);
      await Deno.rename(temporary, path);
    }
  } finally {
    if (await exists(temporary)) await Deno.remove(temporary);
  }
}
