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
