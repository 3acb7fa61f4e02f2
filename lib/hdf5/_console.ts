/**
 * The HDF5 library inside h5wasm prints its diagnostics through a `console.error` it binds once,
 * when the h5wasm module is evaluated. `lib/hdf5/hdf5_file.ts` imports this module just before h5wasm, so
 * that the function it binds is this one: it passes every line on to the real `console.error`,
 * except while {@linkcode collectDiagnostics} runs, when it keeps them for an error message.
 *
 * @module
 */

const realConsoleError = console.error;
let collected: string[] | null = null;

console.error = function (...args: unknown[]): void {
  if (collected) collected.push(args.map(String).join(" "));
  else realConsoleError.apply(console, args);
};

/** Puts the real `console.error` back once h5wasm has bound the one above. */
export function restoreConsoleError(): void {
  console.error = realConsoleError;
}

/** Runs `fn` (synchronous h5wasm calls) and returns its result with the lines HDF5 printed. */
export function collectDiagnostics<T>(fn: () => T): { result: T; diagnostics: string[] } {
  const outer = collected;
  const lines: string[] = [];
  collected = lines;
  try {
    return { result: fn(), diagnostics: lines };
  } finally {
    collected = outer;
  }
}
