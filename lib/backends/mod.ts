/**
 * Choosing where TensorFlow.js runs its kernels. {@linkcode useBackend} tries the backends from the
 * fastest to the slowest and activates the first one available here, and
 * {@linkcode backendReport} tells what it chose and why.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { readEnv } from "../util/env.ts";
import { loadNativeTensorflow } from "./_tensorflow.ts";
import { adaptSynchronousReads, findWebgpuAdapter } from "./_webgpu.ts";
import { selfTestTraining } from "./_self_test.ts";
import { type Displayable, displayable } from "../display/bundle.ts";
import { checklistHtml } from "../display/html.ts";
import { freeTensorsDuringBackwardPass } from "../ops/backward.ts";

export { valuesInPlace } from "./_heap.ts";
export { findWebgpuAdapter, type WebgpuAdapter } from "./_webgpu.ts";

/** The backends this project knows, in the order of the automatic choice. */
export const BACKEND_ORDER = ["tensorflow", "webgpu", "onednn", "wasm", "cpu"] as const;

/** A backend name. */
export type BackendName = (typeof BACKEND_ORDER)[number];

/** What was found about one backend. */
export interface BackendAttempt {
  /** The backend. */
  name: BackendName;
  /** Whether it could be used. */
  available: boolean;
  /** Why (not): one line. */
  reason: string;
}

/** The choice {@linkcode useBackend} made, as {@linkcode backendReport} shows it. */
export interface BackendChoice extends Displayable {
  /** The active backend. */
  name: BackendName;
  /** Why it was chosen. */
  reason: string;
  /** Whether it was named explicitly (argument or `SIGNS_BACKEND`). */
  explicit: boolean;
  /** Every backend looked at, in order. */
  attempts: BackendAttempt[];
}

/** Options of {@linkcode useBackend}. */
export interface UseBackendOptions {
  /** Where the one-line notes go; `null` for none. Default `console.log`. */
  log?: ((line: string) => void) | null;
  /** The backends the automatic choice tries, in this order. Default {@linkcode BACKEND_ORDER}. */
  candidates?: readonly BackendName[];
  /**
   * Whether the automatic choice may take a software WebGPU adapter (one that runs on the CPU,
   * such as llvmpipe: correct but far too slow to train on). Default `false`; an explicit
   * `webgpu` always may.
   */
  softwareWebgpu?: boolean;
  /**
   * The precision of the convolutions and matrix products, as Keras names its policies:
   * `"float32"`, or `"mixed_bfloat16"` (their inputs rounded to bfloat16, their sums and every
   * weight, gradient and optimizer value in float32), which only `onednn` runs, and only on a CPU
   * that multiplies bfloat16 in hardware (AVX-512 BF16 or AMX); elsewhere float32 is used and the
   * backend line says why. Default: the environment variable `SIGNS_PRECISION`, else `"float32"`.
   */
  precision?: string;
}

/** The precisions {@linkcode UseBackendOptions.precision} takes. */
export const PRECISIONS = ["float32", "mixed_bfloat16"] as const;

/** What a probe knows of the choice it is part of. */
interface ProbeContext {
  explicit: boolean;
  softwareWebgpu: boolean;
  precision: (typeof PRECISIONS)[number];
}

let lastChoice: BackendChoice | undefined;

const tryTensorflow = () => loadNativeTensorflow();

async function tryWebgpu(context: ProbeContext): Promise<string> {
  const { description, software } = await findWebgpuAdapter();
  if (software && !context.explicit && !context.softwareWebgpu) {
    throw new Error(
      `only a software adapter (${description}), which runs on the CPU and is far too slow ` +
        "to train on (SIGNS_BACKEND=webgpu uses it all the same)",
    );
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  const { registerWebgpuTrainingKernels } = await import("./webgpu/mod.ts");
  registerWebgpuTrainingKernels();
  await adaptSynchronousReads();
  return software
    ? `WebGPU on ${description}, a software adapter (it runs on the CPU: slow)`
    : `WebGPU on ${description}`;
}

// Checks that run once a backend is active, before the automatic choice keeps it: one line to add
// to the backend's reason, or an Error saying why it is not used.
const SELF_TESTS: Partial<Record<BackendName, (name: BackendName) => Promise<string>>> = {
  webgpu: selfTestTraining,
};

async function tryOnednn(context: ProbeContext): Promise<string> {
  const { onednnBfloat16Support, registerOnednnBackend, setPrecision } = await import(
    "./onednn/mod.ts"
  );
  const status = await registerOnednnBackend();
  if (!status.available) throw new Error(status.reason);
  setPrecision("float32");
  if (context.precision === "float32") return status.reason;
  const support = onednnBfloat16Support();
  if (!support.supported) {
    return `${status.reason}; float32, not mixed_bfloat16: ${support.why}`;
  }
  setPrecision("mixed_bfloat16");
  return `${status.reason}; convolutions and matrix products in mixed_bfloat16 (${support.why})`;
}

// The note on a backend without mixed precision when it was asked for.
function precisionNote(name: BackendName, context: ProbeContext): string {
  return context.precision === "float32" || name === "onednn"
    ? ""
    : "; float32: only onednn runs mixed_bfloat16";
}

function requestedPrecision(value: string | undefined): ProbeContext["precision"] {
  const precision = value ?? readEnv("SIGNS_PRECISION") ?? "float32";
  if (!(PRECISIONS as readonly string[]).includes(precision)) {
    throw new RangeError(
      `Cannot use precision "${precision}": expected one of ${PRECISIONS.join(", ")}`,
    );
  }
  return precision as ProbeContext["precision"];
}

async function tryWasm(): Promise<string> {
  await import("@tensorflow/tfjs-backend-wasm");
  const { registerTrainingKernels, requestedWasmThreads, startWasmBackend } = await import(
    "./wasm/mod.ts"
  );
  const threads = requestedWasmThreads();
  const added = registerTrainingKernels();
  const start = await startWasmBackend(threads);
  const count = start.threads === 1 ? "1 thread" : `${start.threads} threads`;
  const note = start.note ? ` (${start.note})` : "";
  return `WebAssembly (XNNPACK, SIMD, ${count}${note}) with ${added} training kernels added`;
}

const PROBES: Record<BackendName, (context: ProbeContext) => Promise<string>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  onednn: tryOnednn,
  wasm: tryWasm,
  cpu: () => Promise.resolve("plain JavaScript, always available (slow)"),
};

function isBackendName(name: string): name is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(name);
}

/**
 * Makes a backend active and resolves to its name. An explicit choice (`name`, else the
 * environment variable `SIGNS_BACKEND`) always wins, and throws an `Error` naming the backend and
 * why when it cannot be used. Otherwise the first available of `tensorflow` (native TensorFlow, when
 * `@tensorflow/tfjs-node-gpu` or `-node` is installed), `webgpu` (a hardware adapter whose
 * training step passes a self-test against `cpu`), `onednn` (native CPU kernels), `wasm` and `cpu`
 * is used. Each backend tried is noted in one line. An explicit `webgpu` also takes a software
 * adapter, and says so.
 *
 * @example
 * ```ts ignore
 * const name = await useBackend();      // for example "wasm"
 * await useBackend("cpu");              // an explicit choice
 * ```
 */
export async function useBackend(
  name?: string,
  options: UseBackendOptions = {},
): Promise<BackendName> {
  const log = options.log === undefined ? console.log : options.log;
  const requested = name ?? readEnv("SIGNS_BACKEND");
  if (requested !== undefined && !isBackendName(requested)) {
    throw new RangeError(
      `Cannot use backend "${requested}": expected one of ${BACKEND_ORDER.join(", ")}`,
    );
  }
  // The cpu backend's "install the node backend" banner would only repeat what the notes say.
  tf.env().set("PROD", true);
  freeTensorsDuringBackwardPass();
  const candidates: BackendName[] = requested
    ? [requested]
    : [...(options.candidates ?? BACKEND_ORDER)];
  const context: ProbeContext = {
    explicit: requested !== undefined,
    softwareWebgpu: !!options.softwareWebgpu,
    precision: requestedPrecision(options.precision),
  };
  const attempts: BackendAttempt[] = [];
  for (const candidate of candidates) {
    let reason: string;
    try {
      reason = (await PROBES[candidate](context)) + precisionNote(candidate, context);
      if (!(await tf.setBackend(candidate))) {
        throw new Error("TensorFlow.js could not initialise it");
      }
      const selfTest = SELF_TESTS[candidate];
      if (selfTest && !context.explicit) reason += `; ${await selfTest(candidate)}`;
    } catch (error) {
      const why = (error as Error).message;
      attempts.push({ name: candidate, available: false, reason: why });
      if (requested) {
        throw new Error(`Cannot use backend "${candidate}": ${why}`);
      }
      log?.(`backend ${candidate}: not available: ${why}`);
      continue;
    }
    attempts.push({ name: candidate, available: true, reason });
    const explicit = requested !== undefined;
    const line = `backend ${candidate}: ${reason}${explicit ? " (chosen explicitly)" : ""}`;
    log?.(line);
    lastChoice = displayable({ name: candidate, reason, explicit, attempts }, () => ({
      "text/plain": attempts.map((a) => `${a.available ? "✔" : "✘"} ${a.name}: ${a.reason}`).join(
        "\n",
      ),
      "text/html": checklistHtml({
        heading: `Backend: ${candidate}`,
        detail: reason,
        items: attempts.map((a) => ({
          mark: a.available ? "✔" : "✘",
          code: a.name,
          text: a.reason,
        })),
      }),
    }));
    return candidate;
  }
  throw new Error("Cannot use any backend: even cpu failed to initialise");
}

/**
 * The last choice made by {@linkcode useBackend}: the backend, the reason, and what was found about
 * the others. Displays as a short list in a notebook. Throws when `useBackend` has not run.
 */
export function backendReport(): BackendChoice {
  if (!lastChoice) throw new Error("No backend chosen yet: call useBackend() first");
  return lastChoice;
}
