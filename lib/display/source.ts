/**
 * The library's own code on the page: a function's source, read from its file in `lib/` when the
 * cell runs (so it can never differ from the code that runs), shown as highlighted TypeScript with
 * a link to its file and line that VS Code and Jupyter open.
 *
 * @module
 */
import { join, relative } from "node:path";
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import { type Displayable, displayable, escapeHtml } from "./bundle.ts";
import { projectRoot } from "../util/paths.ts";

/** A function's source as {@linkcode showSource} found it. */
export interface SourceView extends Displayable {
  /** The function's name. */
  name: string;
  /** Its file, relative to the project's root (such as `lib/models/resnet.ts`). */
  file: string;
  /** The line its declaration starts on, counted from 1. */
  line: number;
  /** The source, from its declaration to its closing brace. */
  code: string;
}

/** Options of {@linkcode showSource}. */
export interface ShowSourceOptions {
  /**
   * The folder, relative to the project's root, of the notebook the link is followed from.
   * Default `"notebooks"`.
   */
  from?: string;
}

let registered = false;

function highlighted(code: string): string {
  if (!registered) {
    hljs.registerLanguage("typescript", typescript);
    registered = true;
  }
  return hljs.highlight(code, { language: "typescript" }).value;
}

// Colours for the classes highlight.js gives its spans, scoped to these views, light and dark.
const STYLE = `<style>
.signs-source pre { padding: 0.6em 0.8em; border-radius: 4px; overflow-x: auto; line-height: 1.35;
  background: rgba(127, 127, 127, 0.08); }
.signs-source .hljs-keyword, .signs-source .hljs-built_in { color: #8a3ab9; }
.signs-source .hljs-string { color: #2e7d32; }
.signs-source .hljs-number, .signs-source .hljs-literal { color: #c2185b; }
.signs-source .hljs-comment { color: #757575; font-style: italic; }
.signs-source .hljs-title, .signs-source .hljs-title.function_ { color: #1565c0; }
.signs-source .hljs-params, .signs-source .hljs-attr { color: #6d4c41; }
.signs-source .hljs-type, .signs-source .hljs-title.class_ { color: #00838f; }
</style>`;

/**
 * Finds the top-level function `name` in `lib/`'s file `file` (such as `"models/resnet.ts"`) and
 * returns its source, from `export function name` (or `function name`) to the closing brace at
 * the start of a line. A notebook shows it as highlighted TypeScript with a link to the file and
 * line; as text it is the code under a `// lib/…:line` comment. Throws a `RangeError` naming the
 * file when the function is not there.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * const view = showSource("courseTestInput", "models/self_check.ts");
 * assertEquals(view.file, "lib/models/self_check.ts");
 * assert(view.code.startsWith("export function courseTestInput("));
 * ```
 */
export function showSource(
  name: string,
  file: string,
  options: ShowSourceOptions = {},
): SourceView {
  const path = join(projectRoot, "lib", file);
  const lines = Deno.readTextFileSync(path).split("\n");
  const declaration = new RegExp(`^(export )?(async )?function\\*? ${name}\\b`);
  const start = lines.findIndex((line) => declaration.test(line));
  const end = start < 0 ? -1 : lines.findIndex((line, i) => i > start && line === "}");
  const shown = relative(projectRoot, path);
  if (start < 0 || end < 0) {
    throw new RangeError(`Cannot show the source of ${name}: "${shown}" has no function ${name}`);
  }
  const code = lines.slice(start, end + 1).join("\n");
  const line = start + 1;
  const link = `${relative(join(projectRoot, options.from ?? "notebooks"), path)}#L${line}`;
  const label = `${shown}:${line}`;
  return displayable({ name, file: shown, line, code }, () => ({
    "text/plain": `// ${label}\n${code}`,
    "text/markdown": `[${label}](${link})\n\n\`\`\`typescript\n${code}\n\`\`\``,
    "text/html": `${STYLE}<div class="signs-source"><a href="${escapeHtml(link)}">${
      escapeHtml(label)
    }</a><pre><code class="language-typescript">${highlighted(code)}</code></pre></div>`,
  }));
}
