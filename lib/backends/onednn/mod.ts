/**
 * Native CPU kernels for TF.js through oneDNN (the library PyTorch uses on CPUs), called with
 * Deno's FFI. {@linkcode registerOnednnBackend} registers a backend named `onednn`: the
 * WebAssembly backend (with this project's training kernels) whose heaviest kernels run in oneDNN
 * on the tensors in its heap. The one list of them, by operation family, is `ONEDNN_KERNELS` in
 * lib/backends/onednn/_kernels.ts; {@linkcode ONEDNN_FAMILIES} names their families.
 *
 * oneDNN runs one thread a core (`OMP_NUM_THREADS` when set) whose waits are passive
 * (`OMP_WAIT_POLICY=passive` unless set): threads that spin while they wait for each other stall
 * every kernel as soon as another process keeps a core busy.
 *
 * Needs `libdnnl.so.2` (oneDNN 2.x; Debian's `libdnnl2`), found under its usual names or at
 * `ONEDNN_LIBRARY`, and Deno's `--allow-ffi`.
 *
 * @module
 */
import { openDnnl, openFailure, setOpenMpThreads } from "./_ffi.ts";
import { chooseThreads, withWaitPolicy } from "./_threads.ts";
import { registerBackend } from "./_backend.ts";
import { ONEDNN_KERNELS } from "./_kernels.ts";
import { bfloat16SupportOf } from "./_bfloat16.ts";

export { bfloat16Support, currentPrecision, type Precision, setPrecision } from "./_bfloat16.ts";

/** The operation families oneDNN runs here, in the order of its kernel table. */
export const ONEDNN_FAMILIES: readonly string[] = [...new Set(ONEDNN_KERNELS.map((k) => k.family))];

let registered: OnednnStatus | undefined;

// "convolution, pooling, batch normalisation and element-wise": the families in words.
function familyList(): string {
  const names = [...ONEDNN_FAMILIES];
  const last = names.pop();
  return names.length ? `${names.join(", ")} and ${last}` : String(last);
}

/**
 * Whether oneDNN multiplies bfloat16 in hardware here (AVX-512 BF16 or AMX), and why (not); not
 * supported where libdnnl cannot be opened.
 */
export function onednnBfloat16Support(): { supported: boolean; why: string } {
  const dnnl = openDnnl();
  return dnnl ? bfloat16SupportOf(dnnl) : { supported: false, why: openFailure() };
}

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
 * import { registerOnednnBackend } from "@lib/backends/onednn/mod.ts";
 *
 * const status = await registerOnednnBackend();
 * console.log(status.available ? `onednn: ${status.reason}` : `no onednn: ${status.reason}`);
 * ```
 */
export async function registerOnednnBackend(): Promise<OnednnStatus> {
  if (registered) return registered;
  try {
    const choice = chooseThreads();
    const dnnl = withWaitPolicy(choice, openDnnl);
    if (!dnnl) return { available: false, reason: openFailure() };
    const threads = setOpenMpThreads(choice.threads);
    await registerBackend(dnnl);
    const threadNote = threads === null
      ? "its default threads"
      : `${threads} thread${threads === 1 ? "" : "s"} (${choice.why}, ${choice.waiting} waiting${
        choice.spins === undefined ? "" : ` after ${choice.spins} spins`
      })`;
    registered = {
      available: true,
      reason: `oneDNN from ${dnnl.path} on ${threadNote} for its ${familyList()} kernels; ` +
        "other kernels on WebAssembly",
    };
    return registered;
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  }
}
