// Kernel-level helpers for the wasm backend: run its registered kernels on TensorInfos, allocate
// outputs, read and write tensors in the WebAssembly heap, and free intermediates.
import * as tf from "../tf.ts";
import { shippedWasmKernel } from "./_kernel.ts";

/** The parts of TF.js's BackendWasm that the training kernels use. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
  incRef(dataId: tf.DataId): void;
}

/**
 * The values of `tensor` in the active backend's own memory, without a copy, where the backend
 * keeps them in a WebAssembly heap (wasm, onednn); `null` elsewhere. The view is valid until the
 * backend next allocates.
 */
export function valuesInPlace(tensor: tf.Tensor): Float32Array | Int32Array | Uint8Array | null {
  const backend = tf.engine().backend as Partial<WasmBackend>;
  if (typeof backend.typedArrayFromHeap !== "function") return null;
  return backend.typedArrayFromHeap(tensor as unknown as tf.TensorInfo);
}

type Inputs = Record<string, tf.TensorInfo>;
type Attrs = Record<string, unknown>;

/**
 * A kernel's work in the WebAssembly heap: its float32 outputs (`make`), views of its tensors
 * (`view`), and its intermediate results: `run` calls a wasm kernel and records its output,
 * `result` frees everything recorded except what it is given. A view is taken after the kernel's
 * allocations, since an allocation may grow (and move) the heap. `make` and `view` keep working
 * when taken off the object (`const { make, view } = Scope.of(args)`).
 */
export class Scope {
  private readonly temporaries: tf.TensorInfo[] = [];
  constructor(readonly backend: WasmBackend) {}

  /** The scope of a kernel call, on the backend TF.js passed it. */
  static of(args: { backend: object }): Scope {
    return new Scope(args.backend as WasmBackend);
  }

  /** A new float32 output of the kernel (not recorded: `result` never frees it). */
  readonly make = (shape: number[]): tf.TensorInfo => this.backend.makeOutput(shape, "float32");

  /** The float32 values of a tensor, in place (valid until the next allocation). */
  readonly view = (info: tf.TensorInfo): Float32Array => this.backend.typedArrayFromHeap(info);

  /** Runs the wasm backend's kernel as TF.js ships it (see `shippedWasmKernel`). */
  run(kernelName: string, inputs: Inputs, attrs: Attrs = {}): tf.TensorInfo {
    const out = shippedWasmKernel(kernelName)({
      inputs,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend as never,
    });
    return this.track(out as tf.TensorInfo);
  }

  /** A new float32 tensor in the heap (contents undefined unless `zero`). */
  alloc(shape: number[], zero = false): tf.TensorInfo {
    const out = this.track(this.backend.makeOutput(shape, "float32"));
    if (zero) this.view(out).fill(0);
    return out;
  }

  /** Where a tensor's values start in the heap, in bytes (fixed while the tensor lives). */
  pointer(info: tf.TensorInfo): number {
    return this.backend.typedArrayFromHeap(info).byteOffset;
  }

  reshape(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run("Reshape", { x: info }, { shape });
  }

  track(info: tf.TensorInfo): tf.TensorInfo {
    this.temporaries.push(info);
    return info;
  }

  /** Marks `info` as the kernel's result (not freed) and frees the rest (all of it for null). */
  result<T extends tf.TensorInfo | null>(info: T): T {
    this.results(info ? [info] : []);
    return info;
  }

  /** Marks `infos` as the kernel's results (not freed) and frees the rest. */
  results(infos: tf.TensorInfo[]): tf.TensorInfo[] {
    for (const t of this.temporaries) if (!infos.includes(t)) this.backend.disposeData(t.dataId);
    this.temporaries.length = 0;
    return infos;
  }
}
