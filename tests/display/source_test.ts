import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { showSource } from "@lib/display/source.ts";
import { JUPYTER_DISPLAY } from "@lib/display/bundle.ts";

const resnetFile = new URL("../../lib/models/resnet.ts", import.meta.url);

Deno.test("showSource() gives a function's source from its declaration to its closing brace", () => {
  const view = showSource("identityBlock", "models/resnet.ts");
  const lines = Deno.readTextFileSync(resnetFile).split("\n");
  assertEquals(view.file, "lib/models/resnet.ts");
  assertEquals(lines[view.line - 1], view.code.split("\n")[0]);
  assert(view.code.startsWith("export function identityBlock<"), view.code.slice(0, 40));
  assert(view.code.endsWith("\n}"), view.code.slice(-40));
  // the function only: the next declaration is not part of it
  assert(!view.code.includes("export function convolutionalBlock"));
});

Deno.test("showSource() links the file and line from the notebooks' folder, highlighted", () => {
  const view = showSource("convolutionalModel", "models/baseline.ts");
  const bundle = view[JUPYTER_DISPLAY]();
  const html = bundle["text/html"] as string;
  assertStringIncludes(html, `href="../lib/models/baseline.ts#L${view.line}"`);
  assertStringIncludes(html, `lib/models/baseline.ts:${view.line}</a>`);
  assertStringIncludes(html, '<span class="hljs-keyword">export</span>');
  assertStringIncludes(bundle["text/markdown"] as string, "```typescript\nexport function");
  assertEquals(
    (bundle["text/plain"] as string).split("\n")[0],
    `// lib/models/baseline.ts:${view.line}`,
  );
  const fromRoot = showSource("convolutionalModel", "models/baseline.ts", { from: "." });
  assertStringIncludes(fromRoot[JUPYTER_DISPLAY]()["text/html"] as string, 'href="lib/models/');
});

Deno.test("showSource() refuses a function the file does not have, naming both", () => {
  assertThrows(
    () => showSource("identityBlok", "models/resnet.ts"),
    RangeError,
    'Cannot show the source of identityBlok: "lib/models/resnet.ts" has no function identityBlok',
  );
});
