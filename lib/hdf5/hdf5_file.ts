/**
 * HDF5 files read through h5wasm, with the HDF5 library's diagnostics turned into one error that
 * names the file and what is wrong with it, instead of tens of lines on stderr and, for a
 * compression filter the library lacks, a dataset of zeros.
 *
 * @module
 */
// First: the console.error that h5wasm binds when it is evaluated must be the collecting one.
import { collectDiagnostics, restoreConsoleError } from "./_console.ts";
import h5wasm, { type Dataset, type File } from "h5wasm";

restoreConsoleError();

export { h5wasm };
export type { Dataset, File };

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

// The filters HDF5 itself provides, which h5wasm's build decodes (each checked on files h5py wrote).
const BUILT_IN_FILTERS = "gzip (deflate), shuffle, fletcher32, szip, nbit and scaleoffset";

let virtualFiles = 0;

/** Whether `bytes` hold an HDF5 signature where the superblock may start (0, 512, 1024, …). */
function isHdf5(bytes: Uint8Array): boolean {
  for (let offset = 0; offset + 8 <= bytes.length; offset = offset === 0 ? 512 : offset * 2) {
    if (SIGNATURE.every((b, i) => bytes[offset + i] === b)) return true;
  }
  return false;
}

/** What HDF5's diagnostics say went wrong, as the end of a sentence starting "Cannot load ...: ". */
function explain(diagnostics: string[], datasetName?: string): string {
  // Each frame reads "  #006: FILE line N in FUNCTION(): MESSAGE"; the last is where it failed.
  const frames = diagnostics.flatMap((line) => line.match(/#\d+: .* in \w+\(\): (.*)$/)?.[1] ?? []);
  const cause = frames.at(-1) ?? (diagnostics.find((line) => line.trim()) ?? "").trim();
  const filter = diagnostics.join("\n").match(/required filter '([^']*)' is not registered/);
  if (filter) {
    return `${datasetName ? `"${datasetName}"` : "a dataset"} is compressed with the ` +
      `"${filter[1]}" filter, which the HDF5 library here (h5wasm) does not have. It reads ` +
      `datasets stored without compression or with HDF5's own filters (${BUILT_IN_FILTERS}): ` +
      `save the file again with one of those, e.g. with h5py's create_dataset(..., ` +
      `compression="gzip")`;
  }
  const truncated = cause.match(/truncated file: eof = (\d+).*stored_eof = (\d+)/);
  if (truncated) {
    return `the file is truncated: it has ${truncated[1]} bytes, its header says ` +
      `${truncated[2]}. Copy it again`;
  }
  return `the file is damaged (HDF5 reports: ${cause || "an unknown error"}). Copy it again`;
}

/** An open HDF5 file whose reads either succeed or throw an error naming the file. */
export interface Hdf5Reader {
  /** The h5wasm file, for its keys, shapes and metadata. */
  file: File;
  /** The values of the dataset `name`, read whole; throws if HDF5 cannot decode them. */
  read(name: string): Dataset["value"];
}

/**
 * Opens the HDF5 file `path`, whose bytes are `bytes`, runs `use` on it and closes it. Any
 * failure of the HDF5 library (a damaged or truncated file, a filter it lacks) throws an `Error`
 * that starts `Cannot load "PATH": ` and says what is wrong; nothing reaches stderr.
 */
export async function withHdf5File<T>(
  path: string,
  bytes: Uint8Array,
  use: (reader: Hdf5Reader) => T,
): Promise<T> {
  if (!isHdf5(bytes)) {
    throw new TypeError(`Cannot load "${path}": not an HDF5 file (no HDF5 signature found)`);
  }
  const { FS } = await h5wasm.ready;
  const virtualName = `hdf5-${++virtualFiles}.h5`;
  FS!.writeFile(virtualName, bytes);
  try {
    const opened = collectDiagnostics(() => new h5wasm.File(virtualName, "r"));
    const file = opened.result;
    if (file.file_id < 0 || opened.diagnostics.length > 0) {
      throw new Error(`Cannot load "${path}": ${explain(opened.diagnostics)}`);
    }
    try {
      return use({
        file,
        read(name) {
          const { result, diagnostics } = collectDiagnostics(() => {
            const dataset = file.get(name) as Dataset;
            return dataset.value;
          });
          if (diagnostics.length > 0) {
            throw new Error(`Cannot load "${path}": ${explain(diagnostics, name)}`);
          }
          return result;
        },
      });
    } finally {
      collectDiagnostics(() => file.close());
    }
  } finally {
    FS!.unlink(virtualName);
  }
}

/**
 * Builds a new HDF5 file with `build`, which writes into the h5wasm file it is given, and returns
 * the file's bytes (nothing is written to disk). A failure of the HDF5 library throws an `Error`
 * that starts `Cannot save "PATH": `; nothing reaches stderr.
 */
export async function createHdf5Bytes(
  path: string,
  build: (file: File) => void,
): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const virtualName = `hdf5-${++virtualFiles}.h5`;
  try {
    const { diagnostics } = collectDiagnostics(() => {
      const file = new h5wasm.File(virtualName, "w");
      try {
        build(file);
      } finally {
        file.close();
      }
    });
    if (diagnostics.length > 0) {
      const frames = diagnostics.flatMap((line) =>
        line.match(/#\d+: .* in \w+\(\): (.*)$/)?.[1] ?? []
      );
      throw new Error(
        `Cannot save "${path}": the HDF5 library reports: ${
          frames.at(-1) ?? diagnostics[0].trim()
        }`,
      );
    }
    return FS!.readFile(virtualName);
  } finally {
    if (FS!.analyzePath(virtualName).exists) FS!.unlink(virtualName);
  }
}
