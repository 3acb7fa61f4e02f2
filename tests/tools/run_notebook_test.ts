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

// Runs the runner with a temporary folder of its own, and checks that it leaves nothing there.
async function runNotebook(
  fixture: string,
  out: string,
  extra: string[] = [],
  env: Record<string, string> = {},
) {
  const tmp = await Deno.makeTempDir({ prefix: "signs-runner-tmp-" });
  const result = await new Deno.Command(python, {
    env: { TMPDIR: tmp, ...env },
    args: [
      join(root, "tools", "run_notebook.py"),
      "--deno",
      Deno.execPath(),
      "--out",
      out,
      ...extra,
      join(root, "tests", "fixtures", fixture),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const left = await Array.fromAsync(Deno.readDir(tmp), (entry) => entry.name);
  await Deno.remove(tmp, { recursive: true });
  assertEquals(left, [], "the runner removes the temporary folders it made");
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

Deno.test({
  name: "run_notebook.py keeps late outputs, stops at the failing cell and exits 1",
  ignore: !haveJupyter,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "signs-runner-" });
    const result = await runNotebook("runner_check.ipynb", out);
    const stderr = result.stderr;
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
    assertStringIncludes(result.stdout, "runner_check: cell 1/5 ok (");

    // The check mode reads the executed copy and names what is wrong with it.
    const check = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(root, "tools", "notebooks.ts"),
        "--check",
        join(out, "runner_check.ipynb"),
        "--expect",
        "hello from the kernel",
        "--expect",
        "never runs",
        "--expect-mime",
        "image/png",
        "--expect-mime",
        "application/vnd.plotly.v1+json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const checkErr = new TextDecoder().decode(check.stderr);
    assertEquals(check.code, 1);
    assertEquals(
      checkErr.split("\n").filter((l) => l.includes("check failed")),
      [
        "runner_check: check failed: code cell 4 failed: RangeError: deliberate failure",
        "runner_check: check failed: code cell 5 did not run",
        'runner_check: check failed: no output contains "never runs"',
        "runner_check: check failed: no output of type application/vnd.plotly.v1+json",
      ],
    );
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name: "run_notebook.py stops a cell that runs past --cell-timeout and keeps what it printed",
  ignore: !haveJupyter,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "signs-runner-" });
    const result = await runNotebook("runner_timeout.ipynb", out, ["--cell-timeout", "3"]);
    assertEquals(result.code, 1, result.stderr);
    assertStringIncludes(result.stderr, "cell 2 failed: it ran past 3s");
    const notebook = JSON.parse(await Deno.readTextFile(join(out, "runner_timeout.ipynb")));
    const outputs: Output[][] = notebook.cells.filter((c: { cell_type: string }) =>
      c.cell_type === "code"
    ).map((c: { outputs: Output[] }) => c.outputs);
    assertEquals(outputs.map((o) => o.map((x) => text(x.text))), [
      ["started\n"],
      ["spinning\n"],
      [],
    ]);
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name: "run_notebook.py --twice fails when a cell leaks on its second run, naming the cell",
  ignore: !haveJupyter,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "signs-runner-" });
    // These cells print nothing late: a shorter wait for late outputs after each is enough.
    const quick = { SIGNS_IOPUB_QUIET: "0.3" };
    // Cell 3 calls a function that leaves one tensor behind each call (it lacks a tf.tidy).
    const leaky = await runNotebook("runner_leak.ipynb", out, ["--twice"], quick);
    assertEquals(leaky.code, 1, leaky.stderr);
    const counts = [...leaky.stdout.matchAll(/tensors after pass \d: (\d+)/g)].map((m) => +m[1]);
    assertEquals(counts.length, 2, leaky.stdout);
    assertEquals(counts[1], counts[0] + 1, "one tensor left behind by the second run");
    assertStringIncludes(
      leaky.stderr,
      `runner_leak: cell 3 failed: the second pass left ${counts[1]} tensors, the first ` +
        `${counts[0]}; from this cell on, the second pass held more: a function it calls leaks ` +
        "when called again\n--- cell 3 ---\nconst x = tf.ones([3, 4])",
    );
    // The same cells with the function's tensors freed by tf.tidy pass.
    const clean = await runNotebook("runner_no_leak.ipynb", out, ["--twice"], quick);
    assertEquals(clean.code, 0, clean.stderr);
    const cleanCounts = [...clean.stdout.matchAll(/tensors after pass \d: (\d+)/g)].map((m) =>
      +m[1]
    );
    assertEquals(cleanCounts.length, 2, clean.stdout);
    assertEquals(cleanCounts[0], cleanCounts[1]);
    await Deno.remove(out, { recursive: true });
  },
});
