import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { createRequire } from "node:module";
import {
  explainNativeFailure,
  loadNativeTensorflow,
  NATIVE_PACKAGES,
} from "@lib/backends/_tensorflow.ts";

const standins = join(import.meta.dirname!, "..", "fixtures", "native_standins");
const [GPU, CPU] = NATIVE_PACKAGES;

// Importing a package this project does not depend on: Deno's own error.
const notInstalled = (name: string) => import(name);
// The stand-ins, loaded the way Deno loads an npm package's CommonJS or ES entry point.
const unbuilt = () =>
  Promise.resolve(createRequire(import.meta.url)(join(standins, "unbuilt.cjs")));
const noCuda = () => import(join(standins, "no_cuda.ts"));

Deno.test("loadNativeTensorflow() says neither package is installed, and how to install the GPU one", async () => {
  const error = await assertRejects(() => loadNativeTensorflow(notInstalled), Error);
  assertEquals(
    error.message,
    `neither ${GPU} nor ${CPU} is installed (with an NVIDIA GPU and CUDA: ` +
      `"deno add npm:${GPU}@4.22.0", then "deno approve-scripts npm:${GPU}")`,
  );
});

Deno.test("loadNativeTensorflow() names a package whose binding was never built, with the command that builds it", async () => {
  const error = await assertRejects(
    () => loadNativeTensorflow((name) => name === GPU ? unbuilt() : notInstalled(name)),
    Error,
  );
  assertStringIncludes(
    error.message,
    `${GPU} is installed, but its native binding was never built`,
  );
  assertStringIncludes(error.message, `run "deno approve-scripts npm:${GPU}"`);
  assert(
    !error.message.includes(`${CPU} is`),
    "the package that is not installed is not mentioned",
  );
});

Deno.test("loadNativeTensorflow() names the CUDA library a built package cannot load", async () => {
  const error = await assertRejects(
    () => loadNativeTensorflow((name) => name === GPU ? noCuda() : notInstalled(name)),
    Error,
  );
  assertStringIncludes(error.message, `${GPU} is built, but libcudart.so.11.0 cannot be loaded`);
  assertStringIncludes(error.message, "LD_LIBRARY_PATH");
});

Deno.test("loadNativeTensorflow() takes the first package that loads", async () => {
  const loaded = await loadNativeTensorflow((name) =>
    name === CPU ? Promise.resolve({}) : unbuilt()
  );
  assertEquals(loaded, `native TensorFlow from ${CPU}`);
});

Deno.test("explainNativeFailure() sorts other errors into their first line", () => {
  assertEquals(explainNativeFailure(GPU, new Error("boom\nstack")), {
    name: GPU,
    problem: "other",
    message: `${GPU}: boom`,
  });
  assertEquals(
    explainNativeFailure(CPU, new Error("libtensorflow.so.2: cannot open shared object file"))
      .message,
    `${CPU} is built, but libtensorflow.so.2 cannot be loaded: ` +
      `run "deno approve-scripts npm:${CPU}" again to download it`,
  );
});
