// Starting TF.js's wasm backend on several threads under Deno.
//
// The package ships a multi-threaded build (Emscripten pthreads feeding XNNPACK's thread pool) and
// turns it off wherever `IS_NODE` holds, Deno included. Started as it is, that build fails here in
// four ways, each handled below only while the backend starts:
//
// - Each pthread worker's script is a `blob:` URL, and the main script reaches the worker as a Blob
//   in its first ("load") message. Deno's node:worker_threads takes file and data URLs only. The
//   Worker class handed to Emscripten starts a small bootstrap module from a data URL instead,
//   sends it both scripts' text first, and names the main script by a marker in "load" that the
//   bootstrap's importScripts answers. No file is written.
// - The worker script assigns `location` (and a few other names) on its global object, which
//   Deno's worker scope defines as getters: the bootstrap makes them plain properties first.
// - The native side caps its thread pool at half of `os.cpus()` (it counts hyperthreads):
//   `os.cpus()` lists every CPU twice while the backend starts.
// - Emscripten keeps a worker referenced while it runs a pthread, and XNNPACK's pool threads live
//   as long as the backend, so the process would never end: the Worker class ignores ref().
//
// Emscripten starts a fixed pool of 8 workers when the module loads and draws every thread from
// it, so at most 8 threads are asked for and no worker starts later. The Worker class and the CPU
// count are put back once the backend has started. What this relies on is checked first (the package's version and
// the texts it depends on); where anything differs, or a worker fails to start, the backend starts
// on one thread and says why.
import * as tf from "../../tf.ts";
import os from "node:os";
import workerThreads from "node:worker_threads";
import { type EnvReader, readEnv, readPositiveInteger } from "../../util/env.ts";

/** The TF.js wasm version whose multi-threaded loader this start-up was written for. */
export const THREADED_WASM_VERSION = "4.22.0";

/** The most threads asked for: Emscripten's pool of pthread workers. */
export const MAX_WASM_THREADS = 8;

/** How the wasm backend started. */
export interface WasmStart {
  /** Threads its kernels run on. */
  threads: number;
  /** Why it runs on one thread where more were asked for (absent otherwise). */
  note?: string;
}

// Run in each pthread worker before Emscripten's worker script (given as text by the first
// message), so that its assignments to the global object succeed and its importScripts finds the
// main script without a file.
const BOOTSTRAP = `
import { parentPort } from "node:worker_threads";
import { createRequire } from "node:module";
parentPort.once("message", ({ workerScript, mainScript, marker }) => {
  for (const name of ["self", "location", "Worker", "importScripts", "postMessage", "performance"]) {
    Object.defineProperty(globalThis, name, { value: globalThis[name], writable: true, configurable: true });
  }
  globalThis.global ??= globalThis;
  globalThis.require = createRequire("file:///tfjs-wasm-pthread.cjs");
  globalThis.__filename = "tfjs-wasm-pthread.cjs";
  (0, eval)(workerScript);
  const importScripts = globalThis.importScripts;
  globalThis.importScripts = (url) => url === marker ? (0, eval)(mainScript) : importScripts(url);
});
`;
const BOOTSTRAP_URL = `data:text/javascript,${encodeURIComponent(BOOTSTRAP)}`;
const MAIN_SCRIPT_MARKER = "tfjs-wasm-threaded-main-script";

// What the steps above rely on in the worker script and in the main script (the loader).
const WORKER_SCRIPT_EXPECTS = [
  /location:\s*\{\s*href:\s*__filename\s*\}/,
  /typeof e\.data\.urlOrBlob/,
];
const MAIN_SCRIPT_EXPECTS = [
  /pthreadPoolSize\s*=\s*8\b/,
  /cpus\(\)\.length/,
  /new Worker\(pthreadMainJs\)/,
];

type Message = { cmd?: string; urlOrBlob?: unknown };
type WorkerTransfer = Parameters<InstanceType<typeof workerThreads.Worker>["postMessage"]>[1];

/**
 * The threads asked for: `SIGNS_WASM_THREADS` (a positive integer; 1 for the one-thread build), or
 * every CPU the process may use, at most {@linkcode MAX_WASM_THREADS}.
 */
export function requestedWasmThreads(env: EnvReader = readEnv): number {
  const set = readPositiveInteger(env, "SIGNS_WASM_THREADS");
  if (set !== undefined && set > MAX_WASM_THREADS) {
    throw new RangeError(
      `Cannot read SIGNS_WASM_THREADS="${set}": expected at most ${MAX_WASM_THREADS} threads`,
    );
  }
  return set ?? Math.min(navigator.hardwareConcurrency || 1, MAX_WASM_THREADS);
}

/**
 * Makes `wasm` the active backend, on `threads` threads where its multi-threaded build starts (see
 * above), else on one. Resolves to how it started; rejects only where the one-thread build fails
 * too. Call once, before anything else starts the backend.
 */
export async function startWasmBackend(threads: number): Promise<WasmStart> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  let note: string | undefined;
  if (threads > 1) {
    const started = await startThreaded(wasm, threads).catch((error: Error) => error);
    if (typeof started === "number") {
      return started === threads
        ? { threads }
        : { threads: started, note: `${threads} asked for, but its thread pool has ${started}` };
    }
    // Back to the one-thread build (a fresh start of the backend).
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setThreadsCount(1);
    note = `${threads} threads asked for, but ${started.message}`;
  }
  if (!(await tf.setBackend("wasm"))) throw new Error("TensorFlow.js could not initialise it");
  return note === undefined ? { threads: 1 } : { threads: 1, note };
}

type WasmPackage = typeof import("@tensorflow/tfjs-backend-wasm");

// Starts the multi-threaded build; resolves to the threads its pool runs, or rejects with why it
// did not start (having stopped the workers it started).
async function startThreaded(wasm: WasmPackage, threads: number): Promise<number> {
  if (wasm.version_wasm !== THREADED_WASM_VERSION) {
    throw new Error(
      `its multi-threaded start-up is written for TF.js wasm ${THREADED_WASM_VERSION}, not ${wasm.version_wasm}`,
    );
  }
  if (typeof SharedArrayBuffer !== "function") throw new Error("SharedArrayBuffer is missing");
  const mainScript = checked(
    `var WasmBackendModuleThreadedSimd = ${await threadedFactorySource()}`,
    MAIN_SCRIPT_EXPECTS,
    "main script",
  );
  const { promise: failed, reject: fail } = Promise.withResolvers<never>();
  const patch = patchForStart(threads, mainScript, fail);
  try {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    wasm.setThreadsCount(threads);
    const started = await Promise.race([tf.setBackend("wasm"), failed]);
    if (!started) throw new Error("it did not initialise");
  } catch (error) {
    for (const worker of patch.workers) worker.terminate();
    throw new Error(`its multi-threaded build did not start: ${(error as Error).message}`);
  } finally {
    patch.restore();
  }
  const backend = tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } };
  return backend.wasm.tfjs.getThreadsCount();
}

// Installs the Worker class and the CPU count Emscripten reads while the backend starts; returns
// the workers started and the function that puts back what was there.
function patchForStart(
  threads: number,
  mainScript: string,
  fail: (error: Error) => void,
): { workers: InstanceType<typeof workerThreads.Worker>[]; restore: () => void } {
  const module = workerThreads as { Worker: typeof workerThreads.Worker };
  const globals = globalThis as { Worker?: unknown };
  const originalWorker = module.Worker;
  const originalGlobalWorker = globals.Worker;
  const originalCpus = os.cpus;
  const workers: InstanceType<typeof workerThreads.Worker>[] = [];

  class PthreadWorker extends originalWorker {
    #workerScript: Promise<string>;
    // While the scripts are on their way: messages posted since "load", in order.
    #posting: Promise<void> | undefined;

    constructor(url: string | URL) {
      super(new URL(BOOTSTRAP_URL));
      workers.push(this);
      this.#workerScript = scriptText(String(url), WORKER_SCRIPT_EXPECTS, "worker script");
      this.#workerScript.catch(() => {}); // reported by postMessage, which awaits it
    }

    // Emscripten unrefs a worker once it has loaded, and refs it again while it runs a pthread;
    // XNNPACK's pool threads run (parked) for as long as the backend lives, so the process could
    // then never end. They only work inside calls of the main thread, which waits for them: once
    // loaded, none needs to keep the process alive.
    override ref(): void {}

    // "load" waits for the worker script's text and goes out after both scripts; every other
    // message goes out at once (the main thread may block waiting for a thread it starts), or
    // after "load" while that is still waiting.
    override postMessage(message: unknown, transfer?: WorkerTransfer): void {
      const load = message as Message;
      if (load?.cmd === "load" && load.urlOrBlob instanceof Blob) {
        this.#after(async () => {
          const workerScript = await this.#workerScript;
          super.postMessage({ workerScript, mainScript, marker: MAIN_SCRIPT_MARKER });
          super.postMessage({ ...load, urlOrBlob: MAIN_SCRIPT_MARKER }, transfer);
        });
      } else if (this.#posting) {
        this.#after(() => super.postMessage(message, transfer));
      } else {
        super.postMessage(message, transfer);
      }
    }

    #after(send: () => void | Promise<void>): void {
      const posting: Promise<void> = (this.#posting ?? Promise.resolve()).then(send)
        .catch((error) => fail(error))
        .finally(() => {
          if (this.#posting === posting) this.#posting = undefined;
        });
      this.#posting = posting;
    }
  }

  module.Worker = PthreadWorker as unknown as typeof workerThreads.Worker;
  (os as { cpus: () => os.CpuInfo[] }).cpus = () => {
    const cpus = originalCpus();
    return Array.from(
      { length: Math.max(cpus.length, 2 * threads) },
      (_, i) => cpus[i % cpus.length],
    );
  };
  const restore = () => {
    module.Worker = originalWorker;
    globals.Worker = originalGlobalWorker;
    (os as { cpus: () => os.CpuInfo[] }).cpus = originalCpus;
  };
  return { workers, restore };
}

// The loader of the multi-threaded build as the package ships it, self-contained: the workers run
// it as their main script (the copy inlined in the package's Node bundle uses names of that
// bundle's scope, such as its require$$0 for "fs"). The main thread runs the bundle's copy; both
// come from the same Emscripten output and load the same .wasm file.
async function threadedFactorySource(): Promise<string> {
  const loader = await import(
    "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js"
  );
  return String(loader.default);
}

async function scriptText(url: string, expects: RegExp[], what: string): Promise<string> {
  if (!url.startsWith("blob:")) throw new Error(`its ${what} is not a blob: URL (${url})`);
  return checked(await (await fetch(url)).text(), expects, what);
}

function checked(text: string, expects: RegExp[], what: string): string {
  const missing = expects.filter((part) => !part.test(text));
  if (missing.length) {
    throw new Error(`its ${what} lacks what the start-up relies on (${missing.join(", ")})`);
  }
  return text;
}
