// Finding the WebGPU adapter that TensorFlow.js's webgpu backend will run on, and saying what it is:
// a GPU, or a software adapter (a rasteriser such as Mesa's llvmpipe that runs on the CPU; far too
// slow to train on, but what tests use on machines without a GPU). TF.js's backend asks for the
// high-performance adapter, so the same one is asked for here. Also: synchronous reads, which the
// backend cannot do from GPU memory under Deno.

/** The adapter found: its name, and whether it runs on the CPU. */
export interface WebgpuAdapter {
  /** The adapter's description, such as "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** Whether it is a software adapter. */
  software: boolean;
}

interface AdapterInfo {
  description?: string;
  device?: string;
  vendor?: string;
  isFallbackAdapter?: boolean;
}

interface Gpu {
  requestAdapter(options?: { powerPreference?: string }): Promise<
    { info?: AdapterInfo; isFallbackAdapter?: boolean } | null
  >;
}

// Software rasterisers by name, for drivers that do not mark their adapter as a fallback one.
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|warp|software/i;

let runtimeDirSet = false;

/**
 * Gives the process a private XDG_RUNTIME_DIR when it has none. The Wayland client library that
 * Mesa's Vulkan drivers load prints "XDG_RUNTIME_DIR is invalid or not set in the environment" on
 * every adapter request otherwise, which would reach notebook and test output. It only checks that
 * the variable holds an absolute path, then finds no display server there and stays quiet, so the
 * name of a folder made for this process (readable by the user only) is kept and the folder itself
 * removed at once: nothing is left behind however the process ends. Without the permissions to set
 * it, nothing changes but those lines.
 */
export function ensureXdgRuntimeDir(): void {
  if (runtimeDirSet) return;
  runtimeDirSet = true;
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")?.startsWith("/")) return;
    const dir = Deno.makeTempDirSync({ prefix: "signs-runtime-" });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    Deno.removeSync(dir);
  } catch {
    // no permission to read or set the environment or to write a temporary folder
  }
}

/**
 * The adapter TF.js's webgpu backend would get here. Throws an `Error` saying why there is none:
 * no `navigator.gpu` in this Deno, or no adapter (on Linux, no Vulkan driver: Debian and Ubuntu
 * ship Mesa's as `mesa-vulkan-drivers`).
 *
 * @example
 * ```ts ignore
 * const { description, software } = await findWebgpuAdapter();
 * // for example "llvmpipe (LLVM 15.0.6, 256 bits)", true
 * ```
 */
export async function findWebgpuAdapter(): Promise<WebgpuAdapter> {
  const gpu = (navigator as { gpu?: Gpu }).gpu;
  if (!gpu) throw new Error("this Deno has no navigator.gpu");
  ensureXdgRuntimeDir();
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      "navigator.gpu found no adapter (no GPU driver for WebGPU; on Linux without a GPU, " +
        "Mesa's Vulkan drivers give a software one: the Debian package mesa-vulkan-drivers)",
    );
  }
  const info = adapter.info ?? {};
  const description = info.description || info.device || info.vendor || "an unnamed adapter";
  const software = Boolean(
    info.isFallbackAdapter || adapter.isFallbackAdapter || SOFTWARE.test(description),
  );
  return { description, software };
}

interface TensorData {
  values?: unknown;
  dtype?: string;
  resource?: unknown;
}

interface TensorInfo {
  dataId: object;
}

interface WebgpuBackendClass {
  prototype: {
    readSync(dataId: object): unknown;
    runWebGPUProgram(
      program: unknown,
      inputs: TensorInfo[],
      dtype: string,
      uniforms?: unknown,
      output?: TensorInfo,
    ): TensorInfo;
    tensorMap: { get(dataId: object): TensorData | undefined };
  };
}

let syncReadsAdapted = false;

/**
 * Makes synchronous reads (`dataSync`, `arraySync`) work on the webgpu backend wherever they can
 * under Deno, and fail with an `Error` that says what to do elsewhere. TF.js's backend reads a GPU
 * buffer synchronously through a 2D canvas, which Deno does not have: the read would fail with
 * "Cannot read properties of null (reading 'clearRect')". Two things change (once per process):
 *
 * - a tensor made from values in memory (the data, the initial weights) keeps them when its copy
 *   is uploaded to the GPU, where TF.js drops them, so that it reads as on other backends (its
 *   values never change: a kernel's result is a new tensor);
 * - a synchronous read of a result computed on the GPU throws an error that says to read it with
 *   `await tensor.data()` or `array()` (after which synchronous reads of it work: TF.js keeps the
 *   values it read).
 */
export async function adaptSynchronousReads(): Promise<void> {
  if (syncReadsAdapted) return;
  syncReadsAdapted = true;
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu") as unknown as {
    WebGPUBackend: WebgpuBackendClass;
  };
  const canvas = (globalThis as { OffscreenCanvas?: new (w: number, h: number) => unknown })
    .OffscreenCanvas;
  const has2d = (() => {
    try {
      return canvas !== undefined &&
        (new canvas(1, 1) as { getContext(kind: string): unknown }).getContext("2d") != null;
    } catch {
      return false;
    }
  })();
  if (has2d) return;
  const run = WebGPUBackend.prototype.runWebGPUProgram;
  WebGPUBackend.prototype.runWebGPUProgram = function (program, inputs, dtype, uniforms, output) {
    // The inputs' values before TF.js uploads them; a given output is written on the GPU, so its
    // values (if any) go stale and are dropped as TF.js drops them.
    const kept = inputs.map((input) => {
      const data = this.tensorMap.get(input.dataId);
      return data?.resource == null && input.dataId !== output?.dataId ? data?.values : undefined;
    });
    const result = run.call(this, program, inputs, dtype, uniforms, output);
    inputs.forEach((input, i) => {
      const data = this.tensorMap.get(input.dataId);
      if (kept[i] != null && data && data.values == null) data.values = kept[i];
    });
    return result;
  };
  const readSync = WebGPUBackend.prototype.readSync;
  WebGPUBackend.prototype.readSync = function (dataId: object): unknown {
    const data = this.tensorMap.get(dataId);
    if (data && data.values == null && data.resource != null) {
      throw new Error(
        "Cannot read a tensor synchronously (dataSync, arraySync) on the webgpu backend in " +
          "Deno: it reads GPU memory through a 2D canvas, which Deno lacks. Read it with " +
          "await tensor.data() or await tensor.array() instead",
      );
    }
    return readSync.call(this, dataId);
  };
}
