import { assertEquals } from "@std/assert";
import {
  type ExecutedNotebook,
  notebookProblems,
  outputCounts,
} from "../../tools/_notebook_check.ts";

const executed: ExecutedNotebook = {
  cells: [
    { cell_type: "markdown", source: "# Title" },
    {
      cell_type: "code",
      source: "shapes",
      execution_count: 1,
      outputs: [
        { output_type: "stream", name: "stdout", text: ["X_train shape: ", "(1080, 64, 64, 3)\n"] },
        {
          output_type: "display_data",
          data: { "image/png": "iVBORw0KGgo=", "text/plain": "image 192x192" },
        },
      ],
    },
    {
      cell_type: "code",
      source: "table",
      execution_count: 2,
      outputs: [{
        output_type: "execute_result",
        data: { "text/html": ['<table class="dataframe">', "</table>"], "text/plain": "t" },
      }],
    },
  ],
};

Deno.test("notebookProblems() passes a notebook that shows every expected text and type", () => {
  assertEquals(
    notebookProblems(executed, {
      texts: ["(1080, 64, 64, 3)", '<table class="dataframe">', "image 192x192"],
      mimeTypes: ["image/png", "text/html"],
    }),
    [],
  );
});

Deno.test("notebookProblems() names each missing text and output type", () => {
  assertEquals(
    notebookProblems(executed, {
      texts: ["Total params: 1,310"],
      mimeTypes: ["application/vnd.plotly.v1+json"],
    }),
    [
      'no output contains "Total params: 1,310"',
      "no output of type application/vnd.plotly.v1+json",
    ],
  );
});

Deno.test("notebookProblems() reports a failed cell and the cells that did not run", () => {
  const failed: ExecutedNotebook = {
    cells: [
      {
        cell_type: "code",
        source: "throw new RangeError('x')",
        execution_count: 1,
        outputs: [{ output_type: "error", ename: "RangeError", evalue: "x" }],
      },
      { cell_type: "code", source: "1 + 1", execution_count: null, outputs: [] },
      { cell_type: "code", source: "  \n", execution_count: null, outputs: [] },
    ],
  };
  assertEquals(notebookProblems(failed), [
    "code cell 1 failed: RangeError: x",
    "code cell 2 did not run",
  ]);
});

Deno.test("outputCounts() counts outputs by MIME type and printed text as stream", () => {
  assertEquals(outputCounts(executed), {
    stream: 1,
    "image/png": 1,
    "text/plain": 2,
    "text/html": 1,
  });
});
