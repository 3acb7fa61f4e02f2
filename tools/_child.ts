// Running a benchmark's or check's run in a process of its own, which prints its result as the
// last line of its output, one JSON object.

/** One result line. */
export type Line = Record<string, unknown>;

/**
 * Runs `command` with `args` on 2 OpenMP threads and resolves to the JSON object of its last
 * output line; throws an `Error` naming the command, its exit status and the end of its stderr
 * when it fails or prints no such line.
 */
export async function runJsonChild(command: string, args: string[]): Promise<Line> {
  const output = await new Deno.Command(command, {
    args,
    env: { OMP_NUM_THREADS: "2", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const last = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "";
  if (!output.success || !last.startsWith("{")) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-15);
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${output.code}):\n${stderr.join("\n")}`,
    );
  }
  return JSON.parse(last);
}
