import { assertEquals } from "@std/assert";
import { join } from "node:path";

const root = join(import.meta.dirname!, "..", "..");
const python = "/usr/bin/python3";
const haveJupyter = await new Deno.Command(python, {
  args: ["-c", "import zmq, jupyter_client"],
  stderr: "null",
})
  .output().then((o) => o.success, () => false);
if (!haveJupyter) {
  console.warn(
    "SKIPPED: Debian's python3-jupyter-client is not installed; the kernel proxy's test does not run",
  );
}

interface ProbeResult {
  cells: number;
  perCellMs: number;
  misattributed: number;
  late: number;
  missing: number;
}

async function probe(kernel: string, mode: string): Promise<ProbeResult> {
  const { code, stdout, stderr } = await new Deno.Command(python, {
    args: [
      join(root, "tools", "_kernel_probe.py"),
      "--deno",
      Deno.execPath(),
      "--kernel",
      kernel,
      "--mode",
      mode,
      "--cells",
      "15",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assertEquals(code, 0, decoder.decode(stderr));
  return JSON.parse(decoder.decode(stdout).trim().split("\n").at(-1)!);
}

Deno.test({
  name: "kernel_proxy.py files every output of cells sent back to back under its own cell",
  ignore: !haveJupyter,
  fn: async () => {
    const result = await probe("proxy", "burst");
    assertEquals(
      { misattributed: result.misattributed, late: result.late, missing: result.missing },
      { misattributed: 0, late: 0, missing: 0 },
      JSON.stringify(result),
    );
  },
});
