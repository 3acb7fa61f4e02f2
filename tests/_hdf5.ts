// Writes small HDF5 files for the loader's tests, with h5wasm.
import { h5wasm } from "@lib/hdf5/hdf5_file.ts";

/** One dataset to write: its values, shape and HDF5 dtype (such as "<B" or "<q"). */
export interface DatasetSpec {
  data: Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
  shape: number[];
  dtype?: string;
}

let counter = 0;

/** Writes an HDF5 file at `path` with the given datasets. */
export async function writeHdf5(
  path: string,
  datasets: Record<string, DatasetSpec>,
): Promise<void> {
  const { FS } = await h5wasm.ready;
  const name = `test-${++counter}.h5`;
  const file = new h5wasm.File(name, "w");
  for (const [key, spec] of Object.entries(datasets)) {
    file.create_dataset({ name: key, data: spec.data, shape: spec.shape, dtype: spec.dtype });
  }
  file.close();
  await Deno.writeFile(path, FS!.readFile(name));
  FS!.unlink(name);
}

/** A valid SIGNS-like split: `count` images with pixel i*7 % 256 and labels i % 6. */
export function signsSplit(
  split: "train" | "test",
  count: number,
  overrides: Record<string, DatasetSpec | null> = {},
): Record<string, DatasetSpec> {
  const images = new Uint8Array(count * 64 * 64 * 3).map((_, i) => (i * 7) % 256);
  const labels = BigInt64Array.from({ length: count }, (_, i) => BigInt(i % 6));
  const specs: Record<string, DatasetSpec | null> = {
    [`${split}_set_x`]: { data: images, shape: [count, 64, 64, 3], dtype: "<B" },
    [`${split}_set_y`]: { data: labels, shape: [count], dtype: "<q" },
    list_classes: { data: BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n]), shape: [6], dtype: "<q" },
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(specs).filter((entry): entry is [string, DatasetSpec] => entry[1] !== null),
  );
}
