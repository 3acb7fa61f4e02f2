import { assertEquals } from "@std/assert";
import { notebookCode } from "../../tools/_notebook_code.ts";

const notebook = {
  cells: [
    { cell_type: "markdown", source: "# Title" },
    { cell_type: "code", source: ["const a = 1;\n", "a"] },
    { cell_type: "markdown", source: "text" },
    { cell_type: "code", source: "(a + 1);\nconsole.log(import.meta.url);\n" },
  ],
};

Deno.test("notebookCode() maps each line of the module back to its code cell and line", () => {
  const code = notebookCode(notebook);
  const lines = code.text.split("\n");
  const at = (text: string) => code.locate(lines.indexOf(text) + 1);
  assertEquals(at("const a = 1;"), { cell: 1, line: 1 });
  assertEquals(at("a"), { cell: 1, line: 2 });
  assertEquals(at("console.log(import.meta.url);"), { cell: 2, line: 2 });
  assertEquals(code.locate(1), null, "the heading line belongs to no cell");
  assertEquals(lines.at(-2), "export {};");
});

Deno.test("notebookCode() ends a bare last expression before a cell that starts with a parenthesis", () => {
  const code = notebookCode(notebook);
  // without the semicolon, `a` and `(a + 1)` would read as the call `a(a + 1)`
  assertEquals(code.text.includes("a\n;// code cell 2\n(a + 1);"), true);
  const ended = notebookCode({
    cells: [{ cell_type: "code", source: "const b = 2;" }, { cell_type: "code", source: "(b);" }],
  });
  assertEquals(ended.text.includes(";// code cell"), false, "no empty statement after a semicolon");
});

Deno.test("notebookCode() reports import.meta, which the kernel rejects", () => {
  assertEquals(notebookCode(notebook).problems, [
    "code cell 2, line 2: import.meta is not available in a notebook cell (resolve paths inside lib/)",
  ]);
});
