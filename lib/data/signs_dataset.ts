/**
 * Loading the SIGNS hand-sign data set from its two HDF5 files, as the course's
 * `load_signs_dataset()` does.
 *
 * @module
 */
import { join } from "node:path";
import * as tf from "../tf.ts";
import { datasetsDir } from "../util/paths.ts";
import { type Dataset, withHdf5File } from "../hdf5/hdf5_file.ts";
import { shapeText } from "../util/format.ts";

/** Side length of a SIGNS image, in pixels. */
export const IMAGE_SIZE = 64;
/** Colour channels of a SIGNS image. */
export const CHANNELS = 3;
/** Number of classes (the signs for 0 to 5). */
export const NUM_CLASSES = 6;

/**
 * What {@linkcode loadSignsDataset} returns: the course's `X_train_orig, Y_train_orig, X_test_orig,
 * Y_test_orig, classes`. The caller owns the four tensors; `dispose()` frees them.
 */
export interface SignsDataset {
  /** Training images, shape [m, 64, 64, 3], pixel values 0..255 (uint8 in the file; TF.js has no uint8, so int32). */
  xTrainOrig: tf.Tensor4D;
  /** Training labels as a row, shape [1, m], int32 values 0..5. */
  yTrainOrig: tf.Tensor2D;
  /** Test images, shape [m, 64, 64, 3], 0..255. */
  xTestOrig: tf.Tensor4D;
  /** Test labels as a row, shape [1, m]. */
  yTestOrig: tf.Tensor2D;
  /** The class list stored in the files: [0, 1, 2, 3, 4, 5]. */
  classes: number[];
  /** Frees the four tensors. */
  dispose(): void;
}

/** Options of {@linkcode loadSignsDataset}. */
export interface LoadSignsOptions {
  /** Folder holding `train_signs.h5` and `test_signs.h5`. Default: the project's `datasets/`. */
  dir?: string;
}

/** Raw arrays read from one SIGNS file, before they become tensors. */
export interface SignsArrays {
  /** Pixels, row-major [m, 64, 64, 3]. */
  images: Uint8Array;
  /** One label per image. */
  labels: Int32Array;
  /** The class list. */
  classes: number[];
  /** Number of images. */
  count: number;
}

// H5T_class_t's value for integer types, as h5wasm reports it in `metadata.type`.
const H5T_INTEGER = 0;

// The values of an integer dataset as int32, refusing one that does not fit (an int64 label of
// 2^32 + 3 would otherwise wrap around to 3).
function toInt32(values: unknown, path: string, name: string): Int32Array {
  if (!ArrayBuffer.isView(values) || values instanceof DataView) {
    throw new TypeError(`Cannot load "${path}": dataset "${name}" is not numeric`);
  }
  const numbers = values as unknown as ArrayLike<number | bigint>;
  const result = new Int32Array(numbers.length);
  for (let i = 0; i < numbers.length; i++) {
    const value = Number(numbers[i]);
    if (!(value >= -(2 ** 31) && value < 2 ** 31)) {
      throw new RangeError(
        `Cannot load "${path}": value ${numbers[i]} at index ${i} of "${name}" does not fit a ` +
          `32-bit integer`,
      );
    }
    result[i] = value;
  }
  return result;
}

/**
 * Reads one SIGNS file (`train_signs.h5` with `train_set_x` / `train_set_y`, or `test_signs.h5`
 * with `test_set_*`) and checks everything the model relies on: an HDF5 file, the datasets
 * present, images of shape [m, 64, 64, 3] as unsigned 8-bit integers, labels of shape [m] or
 * [1, m] as integers, the same m, and every label in 0..5. Throws an `Error` naming the file
 * and what was expected.
 */
export async function readSignsFile(path: string, split: "train" | "test"): Promise<SignsArrays> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot load "${path}": file not found. Run "deno task setup" to copy it into datasets/, ` +
          `or pass the folder that holds it as { dir }.`,
      );
    }
    throw error;
  }
  return await withHdf5File(path, bytes, ({ file, read }) => {
    const xName = `${split}_set_x`;
    const yName = `${split}_set_y`;
    const keys = file.keys();
    for (const name of [xName, yName]) {
      if (!keys.includes(name)) {
        throw new Error(
          `Cannot load "${path}": dataset "${name}" not found (the file has ${
            keys.map((k) => `"${k}"`).join(", ") || "no datasets"
          })`,
        );
      }
    }
    const x = file.get(xName) as Dataset;
    const y = file.get(yName) as Dataset;
    const xShape = x.shape ?? [];
    if (
      xShape.length !== 4 || xShape[1] !== IMAGE_SIZE || xShape[2] !== IMAGE_SIZE ||
      xShape[3] !== CHANNELS
    ) {
      throw new TypeError(
        `Cannot load "${path}": dataset "${xName}" has shape ${shapeText(xShape)}, ` +
          `expected [m, ${IMAGE_SIZE}, ${IMAGE_SIZE}, ${CHANNELS}]`,
      );
    }
    const xMeta = x.metadata;
    if (xMeta.type !== H5T_INTEGER || xMeta.size !== 1 || xMeta.signed) {
      throw new TypeError(
        `Cannot load "${path}": dataset "${xName}" has dtype "${x.dtype}", expected unsigned ` +
          `8-bit integers ("<B")`,
      );
    }
    const count = xShape[0];
    if (count === 0) {
      throw new RangeError(`Cannot load "${path}": "${xName}" holds no images`);
    }
    const yShape = y.shape ?? [];
    const yCount = yShape.length === 1
      ? yShape[0]
      : yShape.length === 2 && yShape[0] === 1
      ? yShape[1]
      : -1;
    if (yCount < 0) {
      throw new TypeError(
        `Cannot load "${path}": dataset "${yName}" has shape ${shapeText(yShape)}, ` +
          `expected [m] or [1, m]`,
      );
    }
    if (y.metadata.type !== H5T_INTEGER) {
      throw new TypeError(
        `Cannot load "${path}": dataset "${yName}" has dtype "${y.dtype}", expected integers`,
      );
    }
    if (yCount !== count) {
      throw new RangeError(
        `Cannot load "${path}": "${xName}" holds ${count} images but "${yName}" ` +
          `holds ${yCount} labels`,
      );
    }
    const labels = toInt32(read(yName), path, yName);
    const bad = labels.findIndex((v) => v < 0 || v >= NUM_CLASSES || !Number.isInteger(v));
    if (bad >= 0) {
      throw new RangeError(
        `Cannot load "${path}": label ${labels[bad]} at index ${bad} of "${yName}" is outside ` +
          `0..${NUM_CLASSES - 1}`,
      );
    }
    const raw = read(xName) as Uint8Array;
    const images = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    const classes = keys.includes("list_classes")
      ? Array.from(toInt32(read("list_classes"), path, "list_classes"))
      : Array.from({ length: NUM_CLASSES }, (_, i) => i);
    return { images, labels, classes, count };
  });
}

function imagesTensor(arrays: SignsArrays): tf.Tensor4D {
  return tf.tensor4d(Int32Array.from(arrays.images), [
    arrays.count,
    IMAGE_SIZE,
    IMAGE_SIZE,
    CHANNELS,
  ], "int32");
}

/**
 * Loads `train_signs.h5` and `test_signs.h5` (1080 and 120 images of 64x64x3) and returns what the
 * course's `load_signs_dataset()` returns. The caller owns the tensors: call `dispose()` when done.
 *
 * @example
 * ```ts ignore
 * const data = await loadSignsDataset();
 * console.log(data.xTrainOrig.shape); // [1080, 64, 64, 3]
 * data.dispose();
 * ```
 */
export async function loadSignsDataset(options: LoadSignsOptions = {}): Promise<SignsDataset> {
  const dir = options.dir ?? datasetsDir;
  const train = await readSignsFile(join(dir, "train_signs.h5"), "train");
  const test = await readSignsFile(join(dir, "test_signs.h5"), "test");
  const tensors = {
    xTrainOrig: imagesTensor(train),
    yTrainOrig: tf.tensor2d(train.labels, [1, train.count], "int32"),
    xTestOrig: imagesTensor(test),
    yTestOrig: tf.tensor2d(test.labels, [1, test.count], "int32"),
  };
  return {
    ...tensors,
    classes: test.classes,
    dispose() {
      tf.dispose(Object.values(tensors));
    },
  };
}
