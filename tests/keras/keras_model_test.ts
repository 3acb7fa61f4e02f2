import { assert, assertEquals, assertLess, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import * as tf from "@lib/tf.ts";
import { loadKerasModel, loadKerasModelIfPresent, saveKerasModel } from "@lib/keras/keras_model.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { convolutionalBlock, identityBlock } from "@lib/models/resnet.ts";
import { batchNormalization, batchNormLayers } from "@lib/layers/batch_norm.ts";
import { inputConv2d } from "@lib/layers/input_conv.ts";
import { type File, h5wasm } from "@lib/hdf5/hdf5_file.ts";
import type { Dataset, Group } from "h5wasm";

await tf.setBackend("cpu");

const fixtures = join(import.meta.dirname!, "..", "fixtures");
// Written by tests/fixtures/make_keras_model.py, which also reads Keras files and runs them in numpy.
const FIXTURE = join(fixtures, "keras_small.h5");
const SCRIPT = join(fixtures, "make_keras_model.py");
const PYTHON = Deno.env.get("KERAS_TEST_PYTHON") ?? "/usr/bin/python3";
const TOLERANCE = 1e-5;

interface Encoded {
  shape: number[];
  values: number[];
}

const expected: { input: Encoded; output: Encoded } = JSON.parse(
  await Deno.readTextFile(join(fixtures, "keras_small_expected.json")),
);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keras-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length, "as many values");
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

// The independent reader: the fixture script's numpy forward pass of a Keras file.
let pythonChecked: Promise<void> | undefined;

function checkPython(): Promise<void> {
  pythonChecked ??= (async () => {
    let problem: string;
    try {
      const result = await new Deno.Command(PYTHON, {
        args: ["-c", "import h5py, numpy"],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (result.success) return;
      problem = new TextDecoder().decode(result.stderr).trim();
    } catch (error) {
      problem = (error as Error).message;
    }
    throw new Error(
      `These tests check files against an independent reader that needs Python with h5py and ` +
        `numpy at ${PYTHON} (Debian: apt-get install python3-h5py; or set KERAS_TEST_PYTHON): ` +
        problem,
    );
  })();
  return pythonChecked;
}

async function predictInPython(
  path: string,
  x: tf.Tensor,
  options: { layers?: boolean } = {},
): Promise<{ output: Encoded; layers?: Record<string, Encoded> }> {
  await checkPython();
  const dir = await Deno.makeTempDir({ prefix: "keras-input-" });
  try {
    const input = join(dir, "input.json");
    await Deno.writeTextFile(
      input,
      JSON.stringify({ shape: x.shape, values: Array.from(await x.data()) }),
    );
    const result = await new Deno.Command(PYTHON, {
      args: [SCRIPT, "--predict", path, input, ...(options.layers ? ["--layers"] : [])],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    if (!result.success) {
      throw new Error(`The Python reader failed on "${path}":\n${decode(result.stderr)}`);
    }
    return JSON.parse(decode(result.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function fixtureInput(): tf.Tensor4D {
  return tf.tensor4d(
    expected.input.values,
    expected.input.shape as [number, number, number, number],
  );
}

async function predictValues(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const y = model.predict(x) as tf.Tensor;
  const values = await y.data() as Float32Array;
  y.dispose();
  return values;
}

// Every weight of `model` drawn anew from a seed (variances positive), so that round trips and
// comparisons are not helped by zeros and ones.
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  tf.tidy(() => {
    for (const layer of model.layers) {
      layer.setWeights(layer.weights.map((w, i) => {
        const name = w.originalName;
        const [low, high] = name.endsWith("variance") || name.endsWith("gamma")
          ? [0.5, 1.5]
          : [-0.5, 0.5];
        return tf.randomUniform(
          w.shape as number[],
          low,
          high,
          "float32",
          seed + 101 * i + layer.name.length,
        );
      }));
    }
  });
}

// A ResNet-50 in miniature, built as resNet50() builds its own: the stem (zero padding, the input
// convolution, batch normalisation following the phase, ReLU, max pooling), blocks with their
// batch normalisation fixed in training mode (the course's default) and one fixed in inference
// mode, average pooling, flatten and a softmax layer.
function smallResNet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3], name: "input" });
  let x = tf.layers.zeroPadding2d({ padding: 3, name: "zero_padding" }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = inputConv2d({
    filters: 4,
    kernelSize: 7,
    strides: 2,
    padding: "valid",
    kernelInitializer: tf.initializers.glorotUniform({}),
    name: "conv1",
  })
    .apply(x) as tf.SymbolicTensor;
  x = batchNormalization({ name: "bn_conv1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: "relu", name: "relu_conv1" }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: "pool1" }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = convolutionalBlock(x, 3, [2, 2, 8], { s: 1, name: "res2a" });
  x = identityBlock(x, 3, [2, 2, 8], { name: "res2b" });
  x = convolutionalBlock(x, 3, [4, 4, 8], { s: 2, name: "res3a" });
  x = identityBlock(x, 3, [4, 4, 8], { training: false, name: "res3b" });
  x = tf.layers.averagePooling2d({ poolSize: 2, name: "avg_pool" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 6, activation: "softmax", name: "fc" })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: "SmallResNet" });
}

// Opens a copy of a Keras file for writing with h5wasm, for the tests of damaged files.
async function editCopy(from: string, to: string, edit: (file: File) => void): Promise<void> {
  const { FS } = await h5wasm.ready;
  const name = `keras-edit-${Math.random().toString(36).slice(2)}.h5`;
  FS!.writeFile(name, await Deno.readFile(from));
  const file = new h5wasm.File(name, "a");
  try {
    edit(file);
  } finally {
    file.close();
  }
  await Deno.writeFile(to, FS!.readFile(name));
  FS!.unlink(name);
}

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[][][];
}

interface ModelJson {
  class_name: string;
  config: { layers: LayerJson[]; output_layers: unknown };
}

function editModelConfig(file: File, change: (config: ModelJson) => void): void {
  const config = JSON.parse(String(file.attrs.model_config.value));
  change(config);
  file.delete_attribute("model_config");
  file.create_attribute("model_config", JSON.stringify(config));
}

function layerConfig(config: ModelJson, name: string): LayerJson {
  return config.config.layers.find((layer) => layer.name === name)!;
}

// ---------------------------------------------------------------------------------------------

Deno.test("loadKerasModel() builds the Keras 2 fixture and matches numpy's forward pass to 1e-5", async () => {
  const before = tf.memory().numTensors;
  const model = await loadKerasModel(FIXTURE);
  assertEquals(model.name, "small");
  assertEquals(model.layers.map((layer) => layer.getClassName()), [
    "InputLayer",
    "ZeroPadding2D",
    "Conv2D",
    "BatchNormalization",
    "Activation",
    "Conv2D",
    "BatchNormalization",
    "ReLU",
    "Conv2D",
    "BatchNormalization",
    "Add",
    "Activation",
    "AveragePooling2D",
    "MaxPooling2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "Flatten",
    "Dense",
  ]);
  // {"training": true}, no argument (the phase), {"training": false}, as the calls recorded them.
  assertEquals(batchNormLayers(model).map((layer) => layer.fixedTraining), [
    true,
    undefined,
    false,
  ]);
  assertEquals(model.countParams(), 1366);
  // The first convolution, which reads the (padded) input, is the project's input convolution.
  const convs = model.layers.filter((layer) => layer.getClassName() === "Conv2D");
  assertEquals(convs.map((layer) => Object.hasOwn(layer, "call")), [true, false, false]);

  const x = fixtureInput();
  const y = await predictValues(model, x);
  const difference = maxAbsDifference(y, expected.output.values);
  console.log(`fixture: max |TF.js - numpy| = ${difference.toExponential(2)}`);
  assertLess(difference, TOLERANCE);
  x.dispose();
  model.dispose();
  assertEquals(tf.memory().numTensors, before, "no tensor left behind");
});

Deno.test("loadKerasModel() matches the Python reader layer by layer to 1e-5", async () => {
  const model = await loadKerasModel(FIXTURE);
  const x = fixtureInput();
  const python = await predictInPython(FIXTURE, x, { layers: true });
  const layers = model.layers.slice(1);
  const outputs = model.execute(
    x,
    layers.map((l) => (l.output as tf.SymbolicTensor).name),
  ) as tf.Tensor[];
  const differences: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const theirs = python.layers![layer.name];
    assertEquals(outputs[i].shape, theirs.shape, `shape of ${layer.name}`);
    const difference = maxAbsDifference(await outputs[i].data(), theirs.values);
    differences.push(`${layer.name} ${difference.toExponential(1)}`);
    assertLess(difference, TOLERANCE, `layer ${layer.name}`);
  }
  console.log(`max |TF.js - numpy| per layer: ${differences.join(", ")}`);
  assertLess(maxAbsDifference(await outputs.at(-1)!.data(), expected.output.values), TOLERANCE);
  tf.dispose([x, ...outputs]);
  model.dispose();
});

Deno.test("saveKerasModel() writes the fixture's model so that the Python reader predicts what TF.js does", async () => {
  await withDir(async (dir) => {
    const model = await loadKerasModel(FIXTURE);
    const path = join(dir, "saved.h5");
    await saveKerasModel(model, path);
    const x = fixtureInput();
    const ours = await predictValues(model, x);
    const python = await predictInPython(path, x);
    const difference = maxAbsDifference(ours, python.output.values);
    console.log(`saved fixture: max |TF.js - numpy| = ${difference.toExponential(2)}`);
    assertLess(difference, TOLERANCE);
    x.dispose();
    model.dispose();
  });
});

Deno.test("saveKerasModel() writes Keras 2's layout: attributes, layer and weight names, call modes", async () => {
  await withDir(async (dir) => {
    const model = smallResNet();
    const path = join(dir, "small_resnet.h5");
    await saveKerasModel(model, path);
    const { FS } = await h5wasm.ready;
    FS!.writeFile("keras-layout.h5", await Deno.readFile(path));
    const file = new h5wasm.File("keras-layout.h5", "r");
    try {
      assertEquals(file.attrs.keras_version.value, "2.15.0");
      assertEquals(file.attrs.backend.value, "tensorflow");
      const config = JSON.parse(String(file.attrs.model_config.value));
      assertEquals(config.class_name, "Functional");
      assertEquals(config.config.input_layers, [["input", 0, 0]]);
      assertEquals(config.config.output_layers, [["fc", 0, 0]]);
      const names = model.layers.map((layer) => layer.name);
      assertEquals(config.config.layers.map((layer: { name: string }) => layer.name), names);
      const weights = file.get("model_weights") as Group;
      assertEquals(weights.attrs.layer_names.value, names);
      assertEquals(weights.attrs.keras_version.value, "2.15.0");
      // The input convolution is a Conv2D; batch normalisation is Keras's, its mode in the call.
      const conv1 = layerConfig(config, "conv1");
      assertEquals(conv1.class_name, "Conv2D");
      assertEquals(conv1.config.kernel_initializer, {
        class_name: "GlorotUniform",
        config: { seed: null },
      });
      const bn = layerConfig(config, "res2a_bn_a");
      assertEquals(bn.config.axis, [3]);
      assert(!("training" in bn.config), "no training key in the layer's config");
      assertEquals(bn.inbound_nodes, [[["res2a_conv_a", 0, 0, { training: true }]]]);
      assertEquals(layerConfig(config, "res3b_bn_a").inbound_nodes[0][0][3], { training: false });
      assertEquals(layerConfig(config, "bn_conv1").inbound_nodes[0][0][3], {});
      assertEquals(layerConfig(config, "res2b_add").inbound_nodes, [[
        ["res2b_bn_c", 0, 0, {}],
        ["res2a_out", 0, 0, {}],
      ]]);
      assertEquals(layerConfig(config, "input").config, {
        batch_input_shape: [null, 16, 16, 3],
        dtype: "float32",
        sparse: false,
        ragged: false,
        name: "input",
      });
      const bnGroup = weights.get("res2a_bn_a") as Group;
      assertEquals(bnGroup.attrs.weight_names.value, [
        "res2a_bn_a/gamma:0",
        "res2a_bn_a/beta:0",
        "res2a_bn_a/moving_mean:0",
        "res2a_bn_a/moving_variance:0",
      ]);
      assertEquals((file.get("model_weights/conv1/conv1/kernel:0") as Dataset).shape, [7, 7, 3, 4]);
      assertEquals((weights.get("flatten") as Group).attrs.weight_names.shape, [0]);
    } finally {
      file.close();
      FS!.unlink("keras-layout.h5");
    }
    model.dispose();
  });
});

for (
  const [what, build] of [
    ["a ResNet-style model of identityBlock and convolutionalBlock", smallResNet],
    ["the baseline convolutionalModel", () => convolutionalModel([16, 16, 3])],
  ] as const
) {
  Deno.test(`saveKerasModel() then loadKerasModel() gives identical predictions: ${what}`, async () => {
    await withDir(async (dir) => {
      const before = tf.memory().numTensors;
      const model = build();
      randomizeWeights(model, 7);
      const path = join(dir, "model.h5");
      await saveKerasModel(model, path);
      const loaded = await loadKerasModel(path);
      assertEquals(loaded.name, model.name);
      // The same layers with the same configs (an initializer without a seed may say null or
      // undefined, which TF.js treats alike).
      const describe = (m: tf.LayersModel) =>
        JSON.stringify(
          m.layers.map((layer) => [layer.name, layer.getClassName(), layer.getConfig()]),
          (_key, value) => value ?? null,
        );
      assertEquals(JSON.parse(describe(loaded)), JSON.parse(describe(model)));
      assertEquals(
        batchNormLayers(loaded).map((layer) => layer.fixedTraining),
        batchNormLayers(model).map((layer) => layer.fixedTraining),
      );
      assertEquals(
        loaded.layers.map((layer) => Object.hasOwn(layer, "call")),
        model.layers.map((layer) => Object.hasOwn(layer, "call")),
        "the input convolution where the model had it",
      );
      for (const [i, layer] of model.layers.entries()) {
        for (const [j, weight] of layer.weights.entries()) {
          assertEquals(
            await loaded.layers[i].weights[j].read().data(),
            await weight.read().data(),
            weight.originalName,
          );
        }
      }
      const x = tf.randomUniform([4, 16, 16, 3], 0, 1, "float32", 3);
      const ours = await predictValues(model, x);
      assertEquals(await predictValues(loaded, x), ours, "identical predictions");
      // The independent reader runs the saved file to the same predictions.
      const python = await predictInPython(path, x);
      const difference = maxAbsDifference(ours, python.output.values);
      console.log(`${what}: max |TF.js - numpy| = ${difference.toExponential(2)}`);
      assertLess(difference, TOLERANCE);
      tf.dispose(x);
      model.dispose();
      loaded.dispose();
      assertEquals(tf.memory().numTensors, before, "no tensor left behind");
    });
  });
}

Deno.test("saveKerasModel() refuses an existing file unless told to overwrite it", async () => {
  await withDir(async (dir) => {
    const model = await loadKerasModel(FIXTURE);
    const path = join(dir, "mine.h5");
    await Deno.writeTextFile(path, "the user's own file");
    await assertRejects(
      () => saveKerasModel(model, path),
      Deno.errors.AlreadyExists,
      `Cannot save "${path}": the file exists; pass { overwrite: true } to replace it`,
    );
    assertEquals(await Deno.readTextFile(path), "the user's own file");
    await saveKerasModel(model, path, { overwrite: true });
    const again = await loadKerasModel(path);
    assertEquals(again.countParams(), model.countParams());
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, ["mine.h5"], "no temporary file left");
    again.dispose();
    model.dispose();
  });
});

Deno.test("saveKerasModel() creates the parent folder", async () => {
  await withDir(async (dir) => {
    const model = await loadKerasModel(FIXTURE);
    const path = join(dir, "runs", "small.h5");
    await saveKerasModel(model, path);
    (await loadKerasModel(path)).dispose();
    model.dispose();
  });
});

Deno.test("saveKerasModel() refuses a layer kind the layout does not know, writing nothing", async () => {
  await withDir(async (dir) => {
    const input = tf.input({ shape: [4] });
    const hidden = tf.layers.dropout({ rate: 0.5, name: "dropout" }).apply(
      input,
    ) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 2, name: "out" }).apply(hidden) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const path = join(dir, "dropout.h5");
    await assertRejects(
      () => saveKerasModel(model, path),
      TypeError,
      `Cannot save "${path}": layer "dropout" is a Dropout, expected one of Activation, Add, `,
    );
    assertEquals([...Deno.readDirSync(dir)], []);
    model.dispose();
  });
});

Deno.test("saveKerasModel() leaves no tensor behind", async () => {
  await withDir(async (dir) => {
    const model = smallResNet();
    const before = tf.memory().numTensors;
    await saveKerasModel(model, join(dir, "model.h5"));
    assertEquals(tf.memory().numTensors, before);
    model.dispose();
  });
});

Deno.test("loadKerasModel() names a missing file", async () => {
  await assertRejects(
    () => loadKerasModel("/nonexistent/model.h5"),
    Deno.errors.NotFound,
    `Cannot load "/nonexistent/model.h5": file not found`,
  );
});

Deno.test("loadKerasModelIfPresent() is null without a file, and loads one that is there", async () => {
  assertEquals(await loadKerasModelIfPresent("/nonexistent/model.h5"), null);
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    const model = smallResNet();
    await saveKerasModel(model, path);
    const loaded = await loadKerasModelIfPresent(path);
    assertEquals(loaded?.countParams(), model.countParams());
    loaded?.dispose();
    model.dispose();
    await Deno.writeTextFile(path, "not a model", {});
    await assertRejects(() => loadKerasModelIfPresent(path), TypeError, "not an HDF5 file");
  });
});

Deno.test("loadKerasModel() refuses a file that is not HDF5", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await Deno.writeTextFile(path, "not a model");
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `Cannot load "${path}": not an HDF5 file`,
    );
  });
});

Deno.test("loadKerasModel() refuses a file without model_config, and says when it holds weights only", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) => file.delete_attribute("model_config"));
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `Cannot load "${path}": it has no "model_config" attribute, so it is not a Keras model file`,
    );
    await editCopy(FIXTURE, path, (file) => {
      file.delete_attribute("model_config");
      file.create_attribute("layer_names", ["conv2d"]);
    });
    await assertRejects(() => loadKerasModel(path), TypeError, "it holds weights only");
  });
});

Deno.test("loadKerasModel() refuses model_config that is not JSON, or not a functional model", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) => {
      file.delete_attribute("model_config");
      file.create_attribute("model_config", "{not json");
    });
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `its "model_config" is not valid JSON`,
    );
    await editCopy(
      FIXTURE,
      path,
      (file) => editModelConfig(file, (c) => Object.assign(c, { class_name: "Sequential" })),
    );
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `its model is a "Sequential", expected a functional model ("Functional" or "Model")`,
    );
  });
});

Deno.test("loadKerasModel() names a layer of a kind it does not know, and lists those it knows", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) =>
      editModelConfig(file, (config) => {
        layerConfig(config, "re_lu").class_name = "LSTM";
      }));
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `Cannot load "${path}": layer "re_lu" is a LSTM, expected one of Activation, Add, ` +
        `AveragePooling2D, BatchNormalization, Conv2D, Dense, Flatten, InputLayer, MaxPooling2D, ` +
        `ReLU, ZeroPadding2D`,
    );
  });
});

Deno.test("loadKerasModel() names a setting it does not support", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) =>
      editModelConfig(file, (config) => {
        layerConfig(config, "conv2d_1").config.padding = "causal";
      }));
    await assertRejects(
      () => loadKerasModel(path),
      RangeError,
      `Cannot load "${path}": layer "conv2d_1" (Conv2D) has padding "causal", expected "valid" or "same"`,
    );
    await editCopy(FIXTURE, path, (file) =>
      editModelConfig(file, (config) => {
        layerConfig(config, "batch_normalization").inbound_nodes[0][0][3] = { mask: null };
      }));
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `layer "batch_normalization" is called (node 0) with {"mask":null}, expected no arguments but "training"`,
    );
  });
});

Deno.test("loadKerasModel() names a weight of the wrong shape, and leaves no tensor behind", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) =>
      editModelConfig(file, (config) => {
        layerConfig(config, "dense").config.units = 7;
      }));
    const before = tf.memory().numTensors;
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `Cannot load "${path}": weight "model_weights/dense/dense/kernel:0" has shape [32, 6], ` +
        `layer "dense" (Dense) expects [32, 7]`,
    );
    assertEquals(tf.memory().numTensors, before);
  });
});

Deno.test("loadKerasModel() names float16 weights, written by h5py, as mixed precision", async () => {
  await checkPython();
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await Deno.copyFile(FIXTURE, path);
    const weight = "model_weights/dense/dense/kernel:0";
    const edit = [
      "import h5py, sys",
      "with h5py.File(sys.argv[1], 'r+') as f:",
      "    values = f[sys.argv[2]][()]",
      "    del f[sys.argv[2]]",
      "    f.create_dataset(sys.argv[2], data=values.astype('float16'))",
    ].join("\n");
    const result = await new Deno.Command(PYTHON, { args: ["-c", edit, path, weight] }).output();
    assert(result.success, "h5py could not write the float16 copy");
    const before = tf.memory().numTensors;
    await assertRejects(
      () => loadKerasModel(path),
      Error,
      `Cannot load "${path}": dataset "${weight}" holds float16 weights (a model saved in ` +
        `mixed precision), expected float32`,
    );
    assertEquals(tf.memory().numTensors, before);
  });
});

Deno.test("loadKerasModel() names a layer that cannot take its inputs, and leaves no tensor behind", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) =>
      editModelConfig(file, (config) => {
        layerConfig(config, "conv2d_2").config.filters = 4;
      }));
    const before = tf.memory().numTensors;
    const error = await assertRejects(() => loadKerasModel(path), TypeError);
    assertStringIncludes(
      error.message,
      `Cannot load "${path}": layer "add" (Add) cannot be applied to inputs of shape ` +
        `[null, 9, 9, 4], [null, 9, 9, 8]`,
    );
    assertEquals(tf.memory().numTensors, before);
  });
});

Deno.test("loadKerasModel() names a layer whose weights the file lacks", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) =>
      editModelConfig(file, (config) => {
        const dense = layerConfig(config, "dense");
        dense.name = dense.config.name = "fc";
        config.config.output_layers = [["fc", 0, 0]];
      }));
    const before = tf.memory().numTensors;
    await assertRejects(
      () => loadKerasModel(path),
      TypeError,
      `Cannot load "${path}": "model_weights" has no weights for layer "fc" (expected kernel, bias)`,
    );
    assertEquals(tf.memory().numTensors, before);
  });
});

Deno.test("loadKerasModel() names an input that no layer provides", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "model.h5");
    await editCopy(FIXTURE, path, (file) =>
      editModelConfig(file, (config) => {
        layerConfig(config, "flatten").inbound_nodes[0][0][0] = "pool";
      }));
    const error = await assertRejects(() => loadKerasModel(path), TypeError);
    assertStringIncludes(
      error.message,
      `layer "flatten" takes its input from "pool", which is not a layer`,
    );
  });
});

Deno.test("loadKerasModel() says what a file of another format is: a Keras 3 zip, a SavedModel", async () => {
  await withDir(async (dir) => {
    const zip = join(dir, "model.keras");
    await Deno.writeFile(zip, new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
    await assertRejects(
      () => loadKerasModel(zip),
      TypeError,
      `Cannot load "${zip}": it is a Keras 3 ".keras" file (a zip archive)`,
    );
    const savedModel = join(dir, "resnet50");
    await Deno.mkdir(savedModel);
    await Deno.writeFile(join(savedModel, "saved_model.pb"), new Uint8Array(4));
    await assertRejects(
      () => loadKerasModel(savedModel),
      TypeError,
      `Cannot load "${savedModel}": it is a TensorFlow SavedModel folder, not a Keras 2 HDF5 file`,
    );
  });
});
