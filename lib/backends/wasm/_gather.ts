// Moving values on `wasm`: GatherV2 (the backend's moves one value at a time through a generic
// index loop; fitting a model gathers every mini-batch from the training set, which took longer
// than training the baseline) copies whole slices at once; Tile (used by batch normalisation's
// gradient) copies in JavaScript.
import * as tf from "../../tf.ts";
import { type WasmBackend } from "../_heap.ts";
import { type KernelArgs, shippedWasmKernel } from "../_kernel.ts";
import { tile } from "../_layout.ts";

export function gatherV2(args: KernelArgs): tf.TensorInfo {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  if (((attrs.batchDims as number | undefined) ?? 0) !== 0 || x.dtype === "string") {
    return shippedWasmKernel("GatherV2")(args as never) as tf.TensorInfo;
  }
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const dimSize = x.shape[axis];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
  const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
  const backend = args.backend as WasmBackend;
  const index = backend.typedArrayFromHeap(indices);
  for (const i of index) {
    if (!(i >= 0 && i < dimSize)) {
      throw new RangeError(`GatherV2: the index value ${i} is not in [0, ${dimSize - 1}]`);
    }
  }
  const out = backend.makeOutput(
    [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)],
    x.dtype,
  );
  // views are taken after the allocation, which may grow (and move) the heap
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const picked = backend.typedArrayFromHeap(indices);
  const n = picked.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const from = (o * dimSize + picked[i]) * inner;
      const to = (o * n + i) * inner;
      if (inner >= 16) {
        dst.set(src.subarray(from, from + inner), to);
      } else {
        for (let k = 0; k < inner; k++) dst[to + k] = src[from + k];
      }
    }
  }
  return out;
}

export function tileKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const reps = (args.attrs ?? {}).reps as number[];
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    return shippedWasmKernel("Tile")(args) as tf.TensorInfo;
  }
  const backend = args.backend as WasmBackend & {
    typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  };
  const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
  tile(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, reps);
  return out;
}
