// Environment variables, read the one way every module here reads them.

/** A function from a variable's name to its value (`undefined` when unset): {@linkcode readEnv},
 * or a stand-in in tests. */
export type EnvReader = (name: string) => string | undefined;

/**
 * The value of the environment variable `name`, or `undefined` when it is unset or when the
 * program may not read it (no `--allow-env`): a missing permission means "no setting", never an
 * error.
 */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The positive integer in the variable `name` (read by `env`), or `undefined` when it is unset or
 * blank; anything else is a `RangeError` naming the variable and its value.
 */
export function readPositiveInteger(env: EnvReader, name: string): number | undefined {
  const text = env(name);
  if (text === undefined || text.trim() === "") return undefined;
  // Digits only: Number() would also take "1e2", "0x10" or "+4".
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Cannot read ${name}="${text}": expected a positive integer`);
  }
  return value;
}
