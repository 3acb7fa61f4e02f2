import { assertEquals } from "@std/assert";
import { checklistHtml, statusLineHtml } from "@lib/display/html.ts";

Deno.test("checklistHtml() escapes every text and shows a list only when there are items", () => {
  assertEquals(
    checklistHtml({ heading: "✔ a <b> block: all tests passed", tone: "pass" }),
    '<div style="color:#137333"><b>✔ a &lt;b&gt; block: all tests passed</b></div>',
  );
  assertEquals(
    checklistHtml({
      heading: "Backend: wasm",
      detail: 'x & "y"',
      items: [{ mark: "✘", code: "<onednn>", text: "no libdnnl" }, { text: "1 < 2" }],
    }),
    "<div><b>Backend: wasm</b> — x &amp; &quot;y&quot;<ul>" +
      "<li>✘ <code>&lt;onednn&gt;</code>: no libdnnl</li><li>1 &lt; 2</li></ul></div>",
  );
});

Deno.test("statusLineHtml() writes one escaped line in a fixed-width font", () => {
  assertEquals(
    statusLineHtml("Epoch 1/2 · loss <1"),
    '<div style="font-family:monospace">Epoch 1/2 · loss &lt;1</div>',
  );
});
