// The code cells of a notebook as one TypeScript module, so that `deno check` and `deno lint` (which
// do not read .ipynb files) can check them, with a map from the module's lines back to the cells.
//
// The cells go into one module, in order, because they share one scope in the kernel: a cell uses
// what earlier cells declared. Deno's kernel also accepts top-level `await` (fine in a module) and
// shows the value of a cell's last expression (an expression statement, which neither tool
// rejects). What the kernel rejects although a module accepts it is reported here: `import.meta`.

/** The parts of an .ipynb file this module reads. */
export interface NotebookJson {
  cells: { cell_type: string; source: string | string[] }[];
}

/** Where a line of the generated module came from. */
export interface CellLocation {
  /** Number of the code cell, counting code cells only from 1 (as a top-to-bottom run's `In [n]`). */
  cell: number;
  /** Line inside that cell, from 1. */
  line: number;
}

/** A notebook's code as one module. */
export interface NotebookCode {
  /** The module's text. */
  text: string;
  /** The cell and line of a line of the module (from 1), or null for a line added between cells. */
  locate(line: number): CellLocation | null;
  /** Problems found without the compiler: `code cell N, line L: message`. */
  problems: string[];
}

const sourceOf = (cell: { source: string | string[] }): string =>
  Array.isArray(cell.source) ? cell.source.join("") : cell.source;

// A cell that starts with one of these would continue the previous cell's last statement when that
// statement has no semicolon (automatic semicolon insertion does not apply): `a` then `(b)` is `a(b)`.
const CONTINUES = /^\s*[([`+\-/]/;

/** The code cells of a notebook as one module, with a map back to the cells. */
export function notebookCode(notebook: NotebookJson): NotebookCode {
  const lines: string[] = ["// The code cells of a notebook, in order."];
  const origins: (CellLocation | null)[] = [null];
  const problems: string[] = [];
  let previous = "";
  let cell = 0;
  for (const entry of notebook.cells) {
    if (entry.cell_type !== "code") continue;
    cell++;
    const source = sourceOf(entry).replace(/\n$/, "");
    const separator = CONTINUES.test(source) && !/[;}]\s*$/.test(previous) ? ";" : "";
    lines.push(`${separator}// code cell ${cell}`);
    origins.push(null);
    source.split("\n").forEach((text, i) => {
      lines.push(text);
      origins.push({ cell, line: i + 1 });
      if (/\bimport\.meta\b/.test(text)) {
        problems.push(
          `code cell ${cell}, line ${i + 1}: import.meta is not available in a notebook cell ` +
            "(resolve paths inside lib/)",
        );
      }
    });
    if (source.trim() !== "") previous = source;
  }
  lines.push("export {};");
  origins.push(null);
  return {
    text: lines.join("\n") + "\n",
    locate: (line) => origins[line - 1] ?? null,
    problems,
  };
}
