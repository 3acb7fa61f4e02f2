// Command-line options of the tools, written `--name=value`.

/** The value of `--name=value` among the arguments, or `fallback` when it is not given. */
export function option(name: string): string | undefined;
export function option(name: string, fallback: string): string;
export function option(name: string, fallback?: string): string | undefined {
  return Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
}
