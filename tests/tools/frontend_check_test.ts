import { assertEquals } from "@std/assert";
import {
  type CodeCell,
  expectations,
  misplacedOutputs,
  outputKinds,
  sourceTexts,
} from "../../tools/_frontend_check.ts";

Deno.test("sourceTexts() takes the fixed text of what a cell prints and of the string it ends with", () => {
  assertEquals(sourceTexts("console.log(`The number of this image is ${predicted}`);"), [
    "The number of this image is ",
  ]);
  assertEquals(sourceTexts("const n = 3;\n`tensors left: ${n}`;\n"), ["tensors left: "]);
  assertEquals(sourceTexts('x;\n"all tests passed"'), ["all tests passed"]);
  // Too short to tell cells apart, not a literal, or not the last line: nothing.
  assertEquals(sourceTexts("`${n} ok`;"), []);
  assertEquals(sourceTexts("console.log(shapes);\nsettings;"), []);
  assertEquals(sourceTexts('"a long string here";\nx;'), []);
});

Deno.test("outputKinds() names each stream once and counts displays and values", () => {
  assertEquals(
    outputKinds([
      { output_type: "stream", name: "stdout", text: "a" },
      { output_type: "display_data", data: {} },
      { output_type: "stream", name: "stderr", text: "b" },
      { output_type: "stream", name: "stdout", text: "c" },
      { output_type: "execute_result", data: {} },
      { output_type: "display_data", data: {} },
    ]),
    ["stream:stderr", "stream:stdout", "display_data", "display_data", "execute_result"],
  );
});

const value = (count: number, text: string) => ({
  output_type: "execute_result",
  execution_count: count,
  data: { "text/plain": text },
});

const headless: CodeCell[] = [
  { source: "settings;", execution_count: 1, outputs: [value(1, "{ epochs: 3 }")] },
  { source: "`${n} epochs`", execution_count: 2, outputs: [value(2, '"3 epochs"')] },
  { source: "signs.table(frame);", execution_count: 3, outputs: [value(3, "table")] },
];

Deno.test("misplacedOutputs() passes a run that matches its source and the headless run", () => {
  assertEquals(misplacedOutputs(headless, expectations(headless, headless)), []);
});

Deno.test("misplacedOutputs() reports a value filed under the next cell", () => {
  const frontEnd: CodeCell[] = [
    { source: "settings;", execution_count: 1, outputs: [] },
    { source: "`${n} epochs`", execution_count: 2, outputs: [value(1, "{ epochs: 3 }")] },
    {
      source: "signs.table(frame);",
      execution_count: 3,
      outputs: [value(2, '"3 epochs"'), value(3, "table")],
    },
  ];
  assertEquals(misplacedOutputs(frontEnd, expectations(headless, headless)), [
    "code cell 1 shows [] where the headless run shows [execute_result]",
    'code cell 2 (In [2]) shows the value of In [1]: "{ epochs: 3 }"',
    `code cell 3 (In [3]) shows the value of In [2]: ${JSON.stringify('"3 epochs"')}`,
    "code cell 3 shows [execute_result, execute_result] where the headless run shows [execute_result]",
  ]);
});

Deno.test("misplacedOutputs() reports cells that failed or did not run", () => {
  const frontEnd: CodeCell[] = [
    {
      source: "settings;",
      execution_count: 1,
      outputs: [{
        output_type: "error",
        ename: "ReferenceError",
        evalue: "settings is not defined",
      }],
    },
    { source: "`${n} epochs`", execution_count: null, outputs: [] },
    { source: "signs.table(frame);", execution_count: 1, outputs: [value(1, "table")] },
  ];
  assertEquals(misplacedOutputs(frontEnd, expectations(headless)), [
    "code cell 1 failed: ReferenceError: settings is not defined",
    "code cell 2 did not run (execution count null)",
    'code cell 2 does not show " epochs"',
    "code cell 3 did not run (execution count 1)",
  ]);
});
