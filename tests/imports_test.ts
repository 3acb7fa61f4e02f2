// The layout rules of lib/ (its module documentation states them), checked on every import of
// lib/, tests/ and tools/:
//
// - a file whose name starts with `_` is private to its folder and the folders below it; a test
//   may also import the private files of the folder it mirrors (tests/X/ for lib/X/);
// - every import in lib/ points down the list of layers below, or stays in its own folder.
import { assertEquals } from "@std/assert";
import { dirname, join, normalize, relative } from "node:path";

/** lib/'s layers, top to bottom: a file may import its own folder and the layers below it. */
const LAYERS = [
  "mod.ts",
  "training",
  "keras",
  "models",
  "layers",
  "data",
  "hdf5",
  "backends",
  "ops",
  "display",
  "util",
  "tf.ts",
];

const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*"([^"]+)"/g;

/** The project-relative paths that `source` (the text of the file at `path`) imports. */
function importsOf(path: string, source: string): string[] {
  const found: string[] = [];
  for (const [, specifier] of source.matchAll(SPECIFIER)) {
    if (specifier.startsWith("@lib/")) found.push(normalize(join("lib", specifier.slice(5))));
    else if (specifier.startsWith(".")) found.push(normalize(join(dirname(path), specifier)));
  }
  return found;
}

// The layer of a path inside lib/ (its first folder, or the file itself at the top).
function layerOf(path: string): string {
  return relative("lib", path).split("/")[0];
}

function isInside(path: string, folder: string): boolean {
  return path.startsWith(folder + "/");
}

/** Every breach of the rules in `files` (project-relative path to source text), one line each. */
function importProblems(files: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [path, source] of files) {
    for (const target of importsOf(path, source)) {
      if (!isInside(target, "lib")) continue;
      const folder = dirname(target);
      const mirrored = folder.replace(/^lib/, "tests");
      const allowed = isInside(path, folder) ||
        (isInside(path, "tests") && (dirname(path) === mirrored || isInside(path, mirrored)));
      if (target.split("/").pop()!.startsWith("_") && !allowed) {
        problems.push(`${path} imports ${target}, which is private to ${folder}/`);
      }
      if (!isInside(path, "lib") || dirname(path) === folder) continue;
      const from = LAYERS.indexOf(layerOf(path));
      const to = LAYERS.indexOf(layerOf(target));
      if (from === -1 || to === -1) {
        problems.push(`${path} imports ${target}: a layer missing from the list`);
      } else if (to < from) {
        problems.push(`${path} imports ${target}, which is a layer above it`);
      } else if (to === from && layerOf(path).endsWith(".ts")) {
        problems.push(`${path} imports ${target}, which is its own layer`);
      }
    }
  }
  return problems;
}

async function sourcesUnder(folders: string[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  async function walk(folder: string): Promise<void> {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory && entry.name !== "fixtures") await walk(path);
      else if (entry.isFile && path.endsWith(".ts")) files.set(path, await Deno.readTextFile(path));
    }
  }
  for (const folder of folders) await walk(folder);
  return files;
}

Deno.test("importProblems() reports a private file imported from another folder", () => {
  const files = new Map([
    ["lib/training/fit.ts", 'import { x } from "../backends/wasm/_conv.ts";'],
    ["lib/backends/onednn/_conv.ts", 'import { y } from "../_layout.ts";'],
    ["tools/bench.ts", 'import { z } from "../lib/util/_env.ts";'],
    ["tests/backends/wasm/conv_test.ts", 'import { w } from "@lib/backends/wasm/_conv.ts";'],
    ["tests/training/fit_test.ts", 'import { v } from "@lib/backends/wasm/_conv.ts";'],
  ]);
  assertEquals(importProblems(files), [
    "lib/training/fit.ts imports lib/backends/wasm/_conv.ts, which is private to lib/backends/wasm/",
    "tools/bench.ts imports lib/util/_env.ts, which is private to lib/util/",
    "tests/training/fit_test.ts imports lib/backends/wasm/_conv.ts, which is private to " +
    "lib/backends/wasm/",
  ]);
});

Deno.test("importProblems() reports an import that points up a layer", () => {
  const files = new Map([
    ["lib/display/table.ts", 'import { fitModel } from "../training/fit.ts";'],
    ["lib/training/fit.ts", 'import * as tf from "../tf.ts";\nimport "../display/table.ts";'],
    ["lib/ops/adam.ts", 'export { a } from "../mod.ts";'],
    ["lib/backends/mod.ts", 'const m = await import("../models/resnet.ts");'],
  ]);
  assertEquals(importProblems(files), [
    "lib/display/table.ts imports lib/training/fit.ts, which is a layer above it",
    "lib/ops/adam.ts imports lib/mod.ts, which is a layer above it",
    "lib/backends/mod.ts imports lib/models/resnet.ts, which is a layer above it",
  ]);
});

Deno.test("lib/, tests/ and tools/ keep private files private and import down the layers", async () => {
  const files = await sourcesUnder(["lib", "tests", "tools"]);
  files.delete("tests/imports_test.ts"); // its examples above break the rules on purpose
  assertEquals(importProblems(files), []);
});
