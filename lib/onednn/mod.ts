/**
 * Native CPU kernels for TF.js through oneDNN (the library PyTorch uses on CPUs), called with
 * Deno's FFI. {@linkcode registerOnednnBackend} registers a backend named `onednn`: the
 * WebAssembly backend (with this project's training kernels) whose convolutions, forward and both
 * gradients, are run by oneDNN on the tensors in its heap.
 *
 * Needs `libdnnl.so.2` (oneDNN 2.x; Debian's `libdnnl2`), found under its usual names or at
 * `ONEDNN_LIBRARY`, and Deno's `--allow-ffi`.
 *
 * @module
 */
import { openDnnl, openFailure } from "./_ffi.ts";
import { registerBackend } from "./_backend.ts";

/** Whether the `onednn` backend could be registered, and why (not). */
export interface OnednnStatus {
  /** True when the backend is registered and usable. */
  available: boolean;
  /** One line: the library used, or why it is unavailable. */
  reason: string;
}

/**
 * Registers the `onednn` backend when libdnnl can be opened (idempotent). Never throws: resolves
 * to `available: false` with the reason otherwise. Selecting it is left to the caller
 * (`tf.setBackend("onednn")`).
 *
 * @example
 * ```ts
 * import { registerOnednnBackend } from "@lib/onednn/mod.ts";
 *
 * const status = await registerOnednnBackend();
 * console.log(status.available ? `onednn: ${status.reason}` : `no onednn: ${status.reason}`);
 * ```
 */
export async function registerOnednnBackend(): Promise<OnednnStatus> {
  try {
    const dnnl = openDnnl();
    if (!dnnl) return { available: false, reason: openFailure() };
    await registerBackend(dnnl);
    return {
      available: true,
      reason: `oneDNN convolutions (${dnnl.path}), other kernels on WebAssembly`,
    };
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  }
}
