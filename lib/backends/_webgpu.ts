// Finding the WebGPU adapter that TensorFlow.js's webgpu backend will run on, and saying what it is:
// a GPU, or a software adapter (a rasteriser such as Mesa's llvmpipe that runs on the CPU; far too
// slow to train on, but what tests use on machines without a GPU). TF.js's backend asks for the
// high-performance adapter, so the same one is asked for here.

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
 * every adapter request otherwise, which would reach notebook and test output. The folder (empty,
 * readable by the user only) is removed when the process ends. Without the permissions to set it,
 * nothing changes but those lines.
 */
export function ensureXdgRuntimeDir(): void {
  if (runtimeDirSet) return;
  runtimeDirSet = true;
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")?.startsWith("/")) return;
    const dir = Deno.makeTempDirSync({ prefix: "signs-runtime-" });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir);
      } catch {
        // already gone
      }
    });
  } catch {
    // no permission to read or set the environment or to write a temporary folder
  }
}

/**
 * The adapter TF.js's webgpu backend would get here. Throws an `Error` saying why there is none:
 * no `navigator.gpu` in this Deno, or no adapter (on Linux, no Vulkan driver: Debian and Ubuntu
 * ship Mesa's as `mesa-vulkan-drivers`).
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
