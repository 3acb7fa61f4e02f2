// Assertions on an executed notebook: every code cell ran without an error, some output contains
// each expected text, and some output carries each expected MIME type.

/** The parts of an executed .ipynb file this module reads. */
export interface ExecutedNotebook {
  cells: {
    cell_type: string;
    source: string | string[];
    execution_count?: number | null;
    outputs?: NotebookOutput[];
  }[];
}

/** One output of a code cell, as nbformat stores it. */
export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

/** What an executed notebook must show. */
export interface OutputExpectations {
  /** Texts that some output must contain (printed text, or a plain-text or HTML output). */
  texts?: string[];
  /** MIME types that some displayed output must carry (`image/png`, `text/html`, …). */
  mimeTypes?: string[];
}

// nbformat stores multi-line strings as lists of lines.
const joined = (value: unknown): string => Array.isArray(value) ? value.join("") : String(value);

/** Every text an output shows: printed text, and its plain-text and HTML forms. */
function outputTexts(output: NotebookOutput): string[] {
  if (output.output_type === "stream") return [joined(output.text ?? "")];
  if (output.output_type === "error") return [`${output.ename}: ${output.evalue}`];
  const data = output.data ?? {};
  return ["text/plain", "text/html"].filter((mime) => mime in data).map((m) => joined(data[m]));
}

/**
 * The problems of an executed notebook against `expect`, one sentence each; empty when it passes.
 * Code cells are numbered from 1 among code cells, as the runner numbers them.
 */
export function notebookProblems(
  notebook: ExecutedNotebook,
  expect: OutputExpectations = {},
): string[] {
  const problems: string[] = [];
  const code = notebook.cells.filter((c) => c.cell_type === "code");
  code.forEach((cell, i) => {
    if (joined(cell.source).trim() === "") return;
    if (cell.execution_count === null || cell.execution_count === undefined) {
      problems.push(`code cell ${i + 1} did not run`);
    }
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "error") {
        problems.push(`code cell ${i + 1} failed: ${output.ename}: ${output.evalue}`);
      }
    }
  });
  const outputs = code.flatMap((c) => c.outputs ?? []);
  const texts = outputs.flatMap(outputTexts);
  for (const text of expect.texts ?? []) {
    if (!texts.some((t) => t.includes(text))) {
      problems.push(`no output contains ${JSON.stringify(text)}`);
    }
  }
  for (const mime of expect.mimeTypes ?? []) {
    if (!outputs.some((o) => o.data !== undefined && mime in o.data)) {
      problems.push(`no output of type ${mime}`);
    }
  }
  return problems;
}

/** How many outputs carry each MIME type (printed text counts as `stream`). */
export function outputCounts(notebook: ExecutedNotebook): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      const kinds = output.output_type === "stream" || output.output_type === "error"
        ? [output.output_type]
        : Object.keys(output.data ?? {});
      for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
    }
  }
  return counts;
}
