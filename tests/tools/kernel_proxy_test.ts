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
  statuses: (string | null)[];
  alive: boolean;
  prompts: string[];
  values: string[];
}

async function probe(kernel: string, mode: string, cells = 15): Promise<ProbeResult> {
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
      String(cells),
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

Deno.test({
  name: "kernel_proxy.py answers the cells queued behind a failing cell as aborted",
  ignore: !haveJupyter,
  fn: async () => {
    const result = await probe("proxy", "error", 4);
    assertEquals(result.statuses, ["ok", "error", "aborted", "aborted"]);
    assertEquals(result.alive, true);
  },
});

Deno.test({
  name: "kernel_proxy.py passes an interrupt to Deno's kernel, which stops the cell and lives on",
  ignore: !haveJupyter,
  fn: async () => {
    const result = await probe("proxy", "interrupt", 3);
    assertEquals(result.statuses, ["ok", "error", "aborted"]);
    assertEquals(result.alive, true);
  },
});

Deno.test({
  name: "kernel_proxy.py passes prompt()'s input request to the front end and its reply back",
  ignore: !haveJupyter,
  fn: async () => {
    const result = await probe("proxy", "input", 3);
    assertEquals(result.statuses, ["ok", "ok", "ok"]);
    assertEquals(result.prompts, ["Your name?"]);
    assertEquals(result.values, ['"hello Ada"']);
  },
});
