// Checks the notebooks as the rest of the code is checked: formatting, type check and lint.
//
//   deno run -A tools/check_notebooks.ts [NOTEBOOK ...]      (default: notebooks/*.ipynb)
//
// `deno check` and `deno lint` do not read .ipynb files, so each notebook's code cells are written
// into one temporary module inside the project (so that deno.json's import map applies; see
// _notebook_code.ts), and every problem is reported as `NOTEBOOK, code cell N, line L: …`.
// Formatting is checked by formatting a copy and comparing bytes: `deno fmt --check` reports
// freshly cloned notebooks as unformatted even when formatting leaves them unchanged.
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../lib/util/paths.ts";
import { type NotebookCode, notebookCode, type NotebookJson } from "./_notebook_code.ts";

const notebooks = Deno.args.length > 0
  ? Deno.args.map((path) => join(Deno.cwd(), path))
  : [...Deno.readDirSync(join(projectRoot, "notebooks"))].filter((e) => e.name.endsWith(".ipynb"))
    .map((e) => join(projectRoot, "notebooks", e.name)).sort();

interface Generated {
  notebook: string;
  file: string;
  code: NotebookCode;
}

const shown = (path: string) => relative(projectRoot, path);

/** `NOTEBOOK, code cell N, line L` for a line of a generated module. */
function where(generated: Generated, line: number, column?: number): string {
  const at = generated.code.locate(line);
  const position = at ? `code cell ${at.cell}, line ${at.line}` : `generated line ${line}`;
  return `${shown(generated.notebook)}, ${position}${column ? `, column ${column}` : ""}`;
}

async function run(args: string[]): Promise<{ success: boolean; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    success: out.success,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

async function checkFormat(dir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const path of notebooks) {
    const copy = join(dir, basename(path));
    await Deno.copyFile(path, copy);
    const formatted = await run(["fmt", "-q", copy]);
    if (!formatted.success || await Deno.readTextFile(copy) !== await Deno.readTextFile(path)) {
      problems.push(`${shown(path)}: not formatted (run "deno fmt ${shown(path)}")`);
    }
  }
  return problems;
}

// `deno check` prints each error followed by `    at file:///…/NAME.ts:LINE:COLUMN`: that line is
// replaced by the notebook's cell and line.
async function typeCheck(generated: Generated[]): Promise<string[]> {
  const result = await run(["check", ...generated.map((g) => g.file)]);
  if (result.success) return [];
  const byUrl = new Map(generated.map((g) => [`file://${g.file}`, g]));
  const text = result.stderr.replace(
    /^(\s*)at (file:\/\/\S+?):(\d+):(\d+)$/gm,
    (whole, indent: string, url: string, line: string, column: string) => {
      const g = byUrl.get(url);
      return g ? `${indent}at ${where(g, Number(line), Number(column))}` : whole;
    },
  ).replace(/\n*Stack backtrace:[\s\S]*$/, "\n");
  return [
    generated.reduce(
      (t, g) => t.replaceAll(shown(g.file), `${shown(g.notebook)} (its code cells)`),
      text,
    ).trimEnd(),
  ];
}

interface LintDiagnostic {
  filename: string;
  range: { start: { line: number; col: number } };
  message: string;
  code: string;
}

async function lint(generated: Generated[]): Promise<string[]> {
  // Exercise skeletons name the values a learner is about to use, so unused ones are allowed.
  const result = await run([
    "lint",
    "--json",
    "--rules-exclude=no-unused-vars",
    ...generated.map((g) => g.file),
  ]);
  if (result.success) return [];
  const report = JSON.parse(result.stdout) as {
    diagnostics: LintDiagnostic[];
    errors: { file_path: string; message: string }[];
  };
  const byPath = new Map(generated.map((g) => [g.file, g]));
  return [
    ...report.diagnostics.map((d) => {
      const g = byPath.get(fileURLToPath(d.filename));
      const at = g ? where(g, d.range.start.line, d.range.start.col + 1) : d.filename;
      return `${at}: ${d.message} [${d.code}]`;
    }),
    ...report.errors.map((e) => `${e.file_path}: ${e.message}`),
  ];
}

const dir = await Deno.makeTempDir({ dir: join(projectRoot, "tools"), prefix: ".nbcheck-" });
let failed = false;
try {
  const generated: Generated[] = [];
  const found: string[] = [];
  for (const notebook of notebooks) {
    const code = notebookCode(JSON.parse(await Deno.readTextFile(notebook)) as NotebookJson);
    const file = join(dir, `${basename(notebook, ".ipynb")}.ts`);
    await Deno.writeTextFile(file, code.text);
    generated.push({ notebook, file, code });
    found.push(...code.problems.map((p) => `${shown(notebook)}, ${p}`));
  }
  const steps: [string, () => Promise<string[]>][] = [
    ["format", () => checkFormat(dir)],
    ["kernel rules", () => Promise.resolve(found)],
    ["type check", () => typeCheck(generated)],
    ["lint", () => lint(generated)],
  ];
  for (const [what, step] of steps) {
    const problems = await step();
    for (const problem of problems) console.log(problem);
    console.log(
      `check_notebooks: ${what} ${problems.length === 0 ? "clean" : "FAILED"} ` +
        `(${notebooks.length} notebooks)`,
    );
    if (problems.length > 0) failed = true;
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
if (failed) Deno.exit(1);
