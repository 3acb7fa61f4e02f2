import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import { createRequire } from "node:module";
import process from "node:process";
import {
  builtNapiVersions,
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
const olderNapi = () =>
  Promise.resolve(createRequire(import.meta.url)(join(standins, "older_napi.cjs")));

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

Deno.test("loadNativeTensorflow() names a binding built for an older N-API version than Deno looks for, with the link that fixes it", async () => {
  const error = await assertRejects(
    () => loadNativeTensorflow((name) => name === GPU ? olderNapi() : notInstalled(name)),
    Error,
  );
  const lib = join(standins, "older_napi", "lib");
  assertStringIncludes(
    error.message,
    `${GPU} is built, but for N-API 6 (lib/napi-v6/), and Deno (N-API ${process.versions.napi}) ` +
      "looks for it in lib/napi-v8/",
  );
  assertStringIncludes(error.message, `"ln -s napi-v6 ${lib}/napi-v8"`);
});

Deno.test("explainNativeFailure() reads the folder tfjs-node's own message names", () => {
  const text = "The Node.js native addon module (tfjs_binding.node) can not be found at path: " +
    "/p/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node. \nPlease run command";
  const failure = explainNativeFailure(CPU, new Error(text), (dir) => {
    assertEquals(dir, "/p/node_modules/@tensorflow/tfjs-node/lib");
    return [5];
  });
  assertEquals(failure.problem, "binding for another N-API version");
  assertStringIncludes(
    failure.message,
    `"ln -s napi-v5 ${"/p/node_modules/@tensorflow/tfjs-node/lib"}/napi-v8"`,
  );
  assertEquals(explainNativeFailure(CPU, new Error(text), () => []).problem, "binding not built");
});

Deno.test("builtNapiVersions() lists the napi-vN folders that hold a binding", () => {
  assertEquals(builtNapiVersions(join(standins, "older_napi", "lib")), [6]);
  assertEquals(builtNapiVersions(join(standins, "missing")), []);
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
