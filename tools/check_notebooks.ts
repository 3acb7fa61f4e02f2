// Checks the notebooks as the rest of the code is checked. `deno check` and `deno lint` do not
// read .ipynb files, so each notebook's code cells are written, in order, into one temporary .ts
// file inside the project (so that deno.json's import map applies), marked with their cell
// numbers. Formatting is checked by formatting a copy and comparing bytes: `deno fmt --check`
// reports freshly cloned notebooks as unformatted even when formatting leaves them unchanged.
//
//   deno run -A tools/check_notebooks.ts [NOTEBOOK ...]
import { basename, join } from "node:path";
import { projectRoot } from "../lib/_paths.ts";

interface Notebook {
  cells: { cell_type: string; source: string | string[] }[];
}

const notebooks = Deno.args.length > 0
  ? Deno.args
  : [...Deno.readDirSync(join(projectRoot, "notebooks"))].filter((e) => e.name.endsWith(".ipynb"))
    .map((e) => join(projectRoot, "notebooks", e.name)).sort();

const dir = await Deno.makeTempDir({ dir: join(projectRoot, "tools"), prefix: ".nbcheck-" });
let failed = false;
try {
  const files: string[] = [];
  for (const path of notebooks) {
    const notebook = JSON.parse(await Deno.readTextFile(path)) as Notebook;
    const parts: string[] = [`// Code of ${basename(path)}, one section per code cell.`];
    notebook.cells.forEach((cell, i) => {
      if (cell.cell_type !== "code") return;
      const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      parts.push(`// --- cell ${i + 1} ---`, source);
    });
    parts.push("export {};");
    const file = join(dir, `${basename(path, ".ipynb")}.ts`);
    await Deno.writeTextFile(file, parts.join("\n") + "\n");
    files.push(file);
  }
  for (const path of notebooks) {
    const copy = join(dir, basename(path));
    await Deno.copyFile(path, copy);
    const formatted = await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", copy] })
      .output();
    const same = formatted.success &&
      (await Deno.readTextFile(copy)) === (await Deno.readTextFile(path));
    if (!same) {
      console.log(`check_notebooks: ${basename(path)} is not formatted: run "deno fmt ${path}"`);
      failed = true;
    }
  }
  console.log(
    `check_notebooks: format ${failed ? "FAILED" : "clean"} (${notebooks.length} notebooks)`,
  );
  for (
    const [what, args] of [["type check", ["check", ...files]], ["lint", [
      "lint",
      ...files,
    ]]] as const
  ) {
    const { success } = await new Deno.Command(Deno.execPath(), { args: [...args] }).output().then(
      async (out) => {
        if (!out.success) {
          await Deno.stdout.write(out.stdout);
          await Deno.stderr.write(out.stderr);
        }
        return out;
      },
    );
    console.log(
      `check_notebooks: ${what} ${success ? "clean" : "FAILED"} (${notebooks.length} notebooks)`,
    );
    if (!success) failed = true;
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
if (failed) Deno.exit(1);
