import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "node:path";

const root = join(import.meta.dirname!, "..", "..");
const python = "/usr/bin/python3";
const haveJupyter = await new Deno.Command(python, {
  args: ["-c", "import nbclient, nbconvert"],
  stderr: "null",
})
  .output().then((o) => o.success, () => false);
if (!haveJupyter) {
  console.warn(
    "SKIPPED: Debian's python3-nbclient is not installed; the notebook runner's test does not run",
  );
}

interface Output {
  output_type: string;
  text?: string;
  data?: Record<string, unknown>;
  evalue?: string;
}

// nbformat stores multi-line strings as lists of lines.
const text = (value: unknown) => (Array.isArray(value) ? value.join("") : value);

Deno.test({
  name: "run_notebook.py keeps late outputs, stops at the failing cell and exits 1",
  ignore: !haveJupyter,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "signs-runner-" });
    const result = await new Deno.Command(python, {
      args: [
        join(root, "tools", "run_notebook.py"),
        "--deno",
        Deno.execPath(),
        "--out",
        out,
        join(root, "tests", "fixtures", "runner_check.ipynb"),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assertEquals(result.code, 1, stderr);
    assertStringIncludes(stderr, "cell 4 failed: RangeError: deliberate failure");
    const notebook = JSON.parse(await Deno.readTextFile(join(out, "runner_check.ipynb")));
    const outputs: Output[][] = notebook.cells.filter((c: { cell_type: string }) =>
      c.cell_type === "code"
    )
      .map((c: { outputs: Output[] }) => c.outputs);
    assertEquals(outputs[0].map((o) => o.output_type), ["stream", "execute_result"]);
    assertEquals(text(outputs[0][1].data?.["text/plain"]), "42");
    assert(outputs[1].some((o) => o.data?.["image/png"]), "the image shown after a delay is kept");
    assert(
      outputs[2].some((o) => text(o.text) === "after idle\n"),
      "output printed after the cell returned is kept",
    );
    assertEquals(outputs[3][0].evalue, "deliberate failure");
    assertEquals(outputs[4], [], "cells after the failure do not run");
    await Deno.remove(out, { recursive: true });
  },
});
