import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import * as tf from "@lib/tf.ts";
import { loadSignsDataset, readSignsFile } from "@lib/data/signs_dataset.ts";
import { signsSplit, writeHdf5 } from "../_hdf5.ts";

await tf.setBackend("cpu");

const sharedData = join(import.meta.dirname!, "..", "..", "..", "shared", "datasets");
const haveSharedData = await Deno.stat(join(sharedData, "train_signs.h5")).then(
  () => true,
  () => false,
);
if (!haveSharedData) {
  console.warn(
    `SKIPPED: the real SIGNS files are not at ${sharedData}; the loader tests on them do not run`,
  );
}

Deno.test({
  name: "loadSignsDataset() reads the real files: shapes, dtype, labels and classes",
  ignore: !haveSharedData,
  fn: async () => {
    const before = tf.memory().numTensors;
    const data = await loadSignsDataset({ dir: sharedData });
    assertEquals(data.xTrainOrig.shape, [1080, 64, 64, 3]);
    assertEquals(data.yTrainOrig.shape, [1, 1080]);
    assertEquals(data.xTestOrig.shape, [120, 64, 64, 3]);
    assertEquals(data.yTestOrig.shape, [1, 120]);
    assertEquals(data.classes, [0, 1, 2, 3, 4, 5]);
    const counts = new Array(6).fill(0);
    for (const label of await data.yTrainOrig.data()) counts[label]++;
    assertEquals(counts, [180, 180, 180, 180, 180, 180]);
    const pixels = await data.xTestOrig.data();
    assert(pixels.every((v) => v >= 0 && v <= 255));
    assert(pixels.some((v) => v > 200), "images are not all dark");
    data.dispose();
    assertEquals(tf.memory().numTensors, before);
  },
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "signs-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadSignsDataset() reads small files written by h5wasm, labels as a [1, m] row", async () => {
  await withDir(async (dir) => {
    await writeHdf5(join(dir, "train_signs.h5"), signsSplit("train", 7));
    await writeHdf5(join(dir, "test_signs.h5"), signsSplit("test", 3));
    const data = await loadSignsDataset({ dir });
    assertEquals(data.xTrainOrig.shape, [7, 64, 64, 3]);
    assertEquals(Array.from(await data.yTrainOrig.data()), [0, 1, 2, 3, 4, 5, 0]);
    assertEquals(data.yTestOrig.shape, [1, 3]);
    const pixels = await data.xTrainOrig.data();
    assertEquals(Array.from(pixels.slice(0, 4)), [0, 7, 14, 21]);
    assertEquals(pixels[40], (40 * 7) % 256);
    data.dispose();
  });
});

Deno.test("readSignsFile() accepts labels stored as a [1, m] row", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "t.h5");
    const labels = BigInt64Array.from([3n, 4n]);
    await writeHdf5(
      path,
      signsSplit("test", 2, { test_set_y: { data: labels, shape: [1, 2], dtype: "<q" } }),
    );
    assertEquals(Array.from((await readSignsFile(path, "test")).labels), [3, 4]);
  });
});

Deno.test("readSignsFile() names a missing file and how to get it", async () => {
  await assertRejects(
    () => readSignsFile("/nonexistent/train_signs.h5", "train"),
    Error,
    'Cannot load "/nonexistent/train_signs.h5": file not found. Run "deno task setup"',
  );
});

Deno.test("readSignsFile() rejects a file that is not HDF5", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "train_signs.h5");
    await Deno.writeTextFile(path, "these are not the images you are looking for");
    await assertRejects(
      () => readSignsFile(path, "train"),
      TypeError,
      `"${path}": not an HDF5 file`,
    );
  });
});

Deno.test("readSignsFile() names a missing dataset and lists what the file has", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "train_signs.h5");
    await writeHdf5(path, signsSplit("train", 2, { train_set_y: null }));
    await assertRejects(
      () => readSignsFile(path, "train"),
      Error,
      `dataset "train_set_y" not found (the file has "list_classes", "train_set_x")`,
    );
  });
});

Deno.test("readSignsFile() rejects images of the wrong shape", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "train_signs.h5");
    const small = { data: new Uint8Array(2 * 32 * 32 * 3), shape: [2, 32, 32, 3], dtype: "<B" };
    await writeHdf5(path, signsSplit("train", 2, { train_set_x: small }));
    await assertRejects(
      () => readSignsFile(path, "train"),
      TypeError,
      `dataset "train_set_x" has shape [2, 32, 32, 3], expected [m, 64, 64, 3]`,
    );
  });
});

Deno.test("readSignsFile() rejects images that are not unsigned bytes", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "train_signs.h5");
    const floats = { data: new Float32Array(2 * 64 * 64 * 3), shape: [2, 64, 64, 3], dtype: "<f" };
    await writeHdf5(path, signsSplit("train", 2, { train_set_x: floats }));
    await assertRejects(
      () => readSignsFile(path, "train"),
      TypeError,
      `dataset "train_set_x" has dtype "<f", expected unsigned 8-bit integers`,
    );
  });
});

Deno.test("readSignsFile() rejects labels that are not integers, or of the wrong shape", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "train_signs.h5");
    const floats = { data: new Float64Array([0, 1]), shape: [2], dtype: "<d" };
    await writeHdf5(path, signsSplit("train", 2, { train_set_y: floats }));
    await assertRejects(
      () => readSignsFile(path, "train"),
      TypeError,
      `"train_set_y" has dtype "<d", expected integers`,
    );
    const matrix = { data: BigInt64Array.from([0n, 1n, 2n, 3n]), shape: [2, 2], dtype: "<q" };
    await writeHdf5(path, signsSplit("train", 2, { train_set_y: matrix }));
    await assertRejects(
      () => readSignsFile(path, "train"),
      TypeError,
      `"train_set_y" has shape [2, 2], expected [m] or [1, m]`,
    );
  });
});

Deno.test("readSignsFile() rejects images and labels of different counts", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "test_signs.h5");
    const labels = { data: BigInt64Array.from([0n, 1n, 2n]), shape: [3], dtype: "<q" };
    await writeHdf5(path, signsSplit("test", 2, { test_set_y: labels }));
    await assertRejects(
      () => readSignsFile(path, "test"),
      RangeError,
      `"test_set_x" holds 2 images but "test_set_y" holds 3 labels`,
    );
  });
});

Deno.test("readSignsFile() rejects a label outside 0..5, naming it and its index", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "test_signs.h5");
    const labels = { data: BigInt64Array.from([0n, 6n]), shape: [2], dtype: "<q" };
    await writeHdf5(path, signsSplit("test", 2, { test_set_y: labels }));
    await assertRejects(
      () => readSignsFile(path, "test"),
      RangeError,
      `label 6 at index 1 of "test_set_y" is outside 0..5`,
    );
  });
});

Deno.test("readSignsFile() refuses int64 labels outside the 32-bit range rather than wrap them", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "test_signs.h5");
    const labels = { data: BigInt64Array.from([0n, 2n ** 32n + 3n]), shape: [2], dtype: "<q" };
    await writeHdf5(path, signsSplit("test", 2, { test_set_y: labels }));
    await assertRejects(
      () => readSignsFile(path, "test"),
      RangeError,
      `Cannot load "${path}": value 4294967299 at index 1 of "test_set_y" does not fit a ` +
        "32-bit integer",
    );
  });
});

const fixtures = join(import.meta.dirname!, "..", "fixtures");

Deno.test("readSignsFile() refuses a file compressed with a filter h5wasm lacks, naming it", async () => {
  // Written by tests/fixtures/make_lzf_signs.py with h5py; it used to load as black images.
  const path = join(fixtures, "lzf_signs.h5");
  const error = await assertRejects(() => readSignsFile(path, "test"), Error);
  assertStringIncludes(error.message, `Cannot load "${path}"`);
  assertStringIncludes(error.message, `"test_set_x" is compressed with the "lzf" filter`);
  assertStringIncludes(error.message, `gzip`);
});

Deno.test("readSignsFile() names a truncated file and its sizes", async () => {
  await withDir(async (dir) => {
    const whole = join(dir, "whole.h5");
    await writeHdf5(whole, signsSplit("train", 2));
    const bytes = await Deno.readFile(whole);
    const path = join(dir, "train_signs.h5");
    await Deno.writeFile(path, bytes.subarray(0, 6000));
    const error = await assertRejects(() => readSignsFile(path, "train"), Error);
    assertStringIncludes(
      error.message,
      `Cannot load "${path}": the file is truncated: it has 6000 bytes, its header says ${bytes.length}`,
    );
  });
});

Deno.test("readSignsFile() names a damaged file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "train_signs.h5");
    await writeHdf5(path, signsSplit("train", 2));
    const bytes = await Deno.readFile(path);
    bytes.fill(0xff, 8, 200); // the superblock after the signature
    await Deno.writeFile(path, bytes);
    const error = await assertRejects(() => readSignsFile(path, "train"), Error);
    assertStringIncludes(error.message, `Cannot load "${path}": the file is damaged`);
  });
});

Deno.test("readSignsFile() refuses a split without images", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "test_signs.h5");
    await writeHdf5(path, signsSplit("test", 0));
    await assertRejects(
      () => readSignsFile(path, "test"),
      RangeError,
      `Cannot load "${path}": "test_set_x" holds no images`,
    );
  });
});

Deno.test("readSignsFile() keeps the HDF5 library's diagnostics off stderr", async () => {
  await withDir(async (dir) => {
    const truncated = join(dir, "train_signs.h5");
    await writeHdf5(truncated, signsSplit("train", 2));
    await Deno.truncate(truncated, 6000);
    const script = `
      import { readSignsFile } from "@lib/data/signs_dataset.ts";
      for (const [path, split] of [[${JSON.stringify(truncated)}, "train"],
                                   [${JSON.stringify(join(fixtures, "lzf_signs.h5"))}, "test"]]) {
        await readSignsFile(path, split).then(() => console.log("loaded"), () => console.log("refused"));
      }
      console.error("the process's own stderr still works");`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", join(import.meta.dirname!, "..", "..", "deno.json"), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assertEquals(decode(output.stdout), "refused\nrefused\n");
    assertEquals(decode(output.stderr), "the process's own stderr still works\n");
  });
});
