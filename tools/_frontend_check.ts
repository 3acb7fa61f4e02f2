// Checks that a notebook run in a front end shows every output under the cell that made it.
//
// What each code cell should show comes from two places: its source (the text it prints with
// console.log and the fixed parts of a string or template it ends with), and a headless run of
// the same notebook, whose outputs are attributed by construction (tools/run_notebook.py sends a
// cell only once the previous one is finished and quiet): which streams, how many displays and
// whether a value. A front end's copy passes when every cell ran in order, none failed, every
// value carries its own cell's execution count, and each cell shows what it should.
import type { NotebookOutput } from "./_notebook_check.ts";

/** A code cell as a front end holds it (nbformat's fields). */
export interface CodeCell {
  source: string | string[];
  execution_count?: number | null;
  outputs?: (NotebookOutput & { execution_count?: number | null })[];
}

/** What one code cell should show. */
export interface CellExpectation {
  /** Texts some output of the cell contains (printed or shown). */
  texts: string[];
  /** The kinds of its outputs in the headless run (see {@linkcode outputKinds}); none to skip. */
  kinds?: string[];
}

const joined = (value: unknown): string => Array.isArray(value) ? value.join("") : String(value);

/** The fixed parts of a string or template literal (its text between `${…}`), longest first. */
function literalParts(literal: string): string[] {
  const body = literal.slice(1, -1);
  const parts = literal.startsWith("`") ? body.split(/\$\{[^}]*\}/) : [body];
  return parts.filter((p) => /\S/.test(p) && !/[\\$`{}]/.test(p)).sort((a, b) =>
    b.length - a.length
  );
}

const STRING = String.raw`("[^"\\\n]*"|'[^'\\\n]*'|\`[^\`\\]*\`)`;

/**
 * Texts a cell's source says it shows: the first fixed part of each string or template that
 * `console.log` prints, and of a string or template the cell ends with (its value), where that part
 * has at least `minLength` characters.
 */
export function sourceTexts(source: string, minLength = 6): string[] {
  const texts: string[] = [];
  for (const match of source.matchAll(new RegExp(String.raw`console\.log\(\s*${STRING}`, "g"))) {
    texts.push(...literalParts(match[1]).slice(0, 1));
  }
  const last = source.trimEnd().replace(/;$/, "").split("\n").at(-1) ?? "";
  const value = new RegExp(String.raw`^\s*${STRING}$`).exec(last);
  if (value) texts.push(...literalParts(value[1]).slice(0, 1));
  return texts.filter((t) => t.trim().length >= minLength);
}

/**
 * The kinds of a cell's outputs, as comparable between runs: the names of its streams (once each,
 * as front ends join consecutive stream outputs differently), then one entry per display and per
 * value.
 */
export function outputKinds(outputs: NotebookOutput[]): string[] {
  const streams = new Set<string>();
  const others: string[] = [];
  for (const output of outputs) {
    if (output.output_type === "stream") streams.add(`stream:${output.name}`);
    else others.push(output.output_type);
  }
  return [...[...streams].sort(), ...others.sort()];
}

/** Every text an output shows: printed text, its plain-text and HTML forms, an error. */
function outputText(output: NotebookOutput): string {
  if (output.output_type === "stream") return joined(output.text ?? "");
  if (output.output_type === "error") return `${output.ename}: ${output.evalue}`;
  const data = output.data ?? {};
  return ["text/plain", "text/html"].filter((m) => m in data).map((m) => joined(data[m])).join(
    "\n",
  );
}

/** Expectations for each code cell, from its source and the same cell of a headless run. */
export function expectations(cells: CodeCell[], headless?: CodeCell[]): CellExpectation[] {
  return cells.map((cell, i) => ({
    texts: sourceTexts(joined(cell.source)),
    kinds: headless?.[i] ? outputKinds(headless[i].outputs ?? []) : undefined,
  }));
}

/**
 * What is wrong with a front end's run of the code cells: cells that did not run (no execution
 * count, or one not above the previous cell's), cells that failed, values that carry another
 * cell's execution count, texts missing from the cell that shows them, and cells whose kinds of
 * output differ from the headless run's. Cells are numbered from 1 among code cells.
 */
export function misplacedOutputs(cells: CodeCell[], expected: CellExpectation[]): string[] {
  const problems: string[] = [];
  let previous = 0;
  cells.forEach((cell, i) => {
    const number = i + 1;
    const count = cell.execution_count ?? null;
    const outputs = cell.outputs ?? [];
    if (count === null || count <= previous) {
      problems.push(`code cell ${number} did not run (execution count ${count})`);
    } else previous = count;
    for (const output of outputs) {
      if (output.output_type === "error") {
        problems.push(`code cell ${number} failed: ${output.ename}: ${output.evalue}`);
      }
      if (output.output_type === "execute_result" && count !== null) {
        const own = output.execution_count ?? null;
        if (own !== count) {
          problems.push(
            `code cell ${number} (In [${count}]) shows the value of In [${own}]: ` +
              JSON.stringify(outputText(output).slice(0, 80)),
          );
        }
      }
    }
    const shown = outputs.map(outputText).join("\n");
    for (const text of expected[i]?.texts ?? []) {
      if (!shown.includes(text)) {
        problems.push(`code cell ${number} does not show ${JSON.stringify(text)}`);
      }
    }
    const kinds = expected[i]?.kinds;
    if (kinds !== undefined) {
      const actual = outputKinds(outputs);
      if (JSON.stringify(actual) !== JSON.stringify(kinds)) {
        problems.push(
          `code cell ${number} shows [${actual.join(", ")}] where the headless run shows ` +
            `[${kinds.join(", ")}]`,
        );
      }
    }
  });
  return problems;
}
