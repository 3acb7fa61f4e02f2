import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import {
  chooseDeno,
  DISPLAY_NAME,
  installKernelSpec,
  isInNpmCache,
  isOurs,
  MARKER,
  uninstallKernelSpec,
} from "../../tools/_kernel_spec.ts";

const root = join(import.meta.dirname!, "..", "..");
const proxy = join(root, "tools", "kernel_proxy.py");

// A stand-in for deno: a script that prints a version as deno does.
async function fakeDeno(dir: string, version: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "deno");
  await Deno.writeTextFile(path, `#!/bin/sh\necho "deno ${version} (stable)"\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("isInNpmCache() recognises npx's folders and the cache npm names", () => {
  assert(isInNpmCache("/home/a/.npm/_npx/7a40/node_modules/deno/deno"));
  assert(isInNpmCache("/tmp/cache/_npx/1/node_modules/.bin/deno"));
  assert(isInNpmCache("/srv/npm-cache/x/deno", "/srv/npm-cache"));
  assert(!isInNpmCache("/srv/npm-cache-old/deno", "/srv/npm-cache"));
  assert(!isInNpmCache("/home/a/.deno/bin/deno"));
  assert(!isInNpmCache("/usr/local/lib/node_modules/deno/deno"));
});

Deno.test("chooseDeno() keeps a deno outside npm's cache, else finds one on PATH, else copies", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "signs-kernel-spec-" });
  try {
    const cached = await fakeDeno(join(tmp, ".npm", "_npx", "1", "node_modules", "deno"), "2.9.6");
    const global = await fakeDeno(join(tmp, "global"), "2.9.6");
    const old = await fakeDeno(join(tmp, "old"), "1.46.3");

    const kept = await chooseDeno({ running: global, version: "2.9.6" });
    assertEquals([kept.path, kept.copy], [global, false]);

    const onPath = await chooseDeno({
      running: cached,
      version: "2.9.6",
      path: [
        join(tmp, "old"),
        join(tmp, ".npm", "_npx", "1", "node_modules", "deno"),
        join(tmp, "global"),
      ]
        .join(":"),
    });
    assertEquals([onPath.path, onPath.copy], [global, false]);
    assertStringIncludes(onPath.why, "PATH");

    const copied = await chooseDeno({ running: cached, version: "2.9.6", path: join(tmp, "old") });
    assertEquals([copied.path, copied.copy], [cached, true]);
    assertStringIncludes(copied.why, "npm's cache");

    const named = await chooseDeno({ explicit: old, running: cached, version: "2.9.6" });
    assertEquals([named.path, named.copy], [old, false]);
    await assertRejects(
      () => chooseDeno({ explicit: join(tmp, "missing"), running: cached, version: "2.9.6" }),
      Error,
      "does not run as deno",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("installKernelSpec() writes a marked specification and replaces only its own", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "signs-kernel-spec-" });
  try {
    const cached = await fakeDeno(join(tmp, "_npx", "deno"), "2.9.6");
    const kernels = join(tmp, "kernels");
    const deno = { path: cached, copy: true, why: "a copy" };
    const installed = await installKernelSpec({
      kernelsDir: kernels,
      python: "/usr/bin/python3",
      proxy,
      deno,
    });
    const dir = join(kernels, "signs-deno");
    assertEquals(installed.dir, dir);
    assertEquals(installed.deno, join(dir, "deno"));
    const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
    assertEquals(spec.argv, [
      "/usr/bin/python3",
      join(dir, "kernel_proxy.py"),
      "--deno",
      join(dir, "deno"),
      "{connection_file}",
    ]);
    assertEquals([spec.display_name, spec.language, spec.interrupt_mode], [
      DISPLAY_NAME,
      "typescript",
      "message",
    ]);
    assert(await isOurs(dir));
    assertEquals(
      (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort(),
      ["deno", "kernel.json", "kernel_proxy.py"],
    );

    // Again, pointing at a deno that stays: the copy goes.
    await installKernelSpec({
      kernelsDir: kernels,
      python: "/usr/bin/python3",
      proxy,
      deno: { path: cached, copy: false, why: "kept" },
    });
    assertEquals(
      (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort(),
      ["kernel.json", "kernel_proxy.py"],
    );

    // A file of the user's in the folder: not replaced, not removed.
    await Deno.writeTextFile(join(dir, "notes.txt"), "mine");
    await assertRejects(
      () => installKernelSpec({ kernelsDir: kernels, python: "/usr/bin/python3", proxy, deno }),
      Error,
      "did not write (notes.txt)",
    );
    assert(await uninstallKernelSpec(kernels));
    assertEquals(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), ["notes.txt"]);
    await Deno.remove(join(dir, "notes.txt"));
    await Deno.remove(dir);
    assertEquals(await uninstallKernelSpec(kernels), false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("installKernelSpec() and uninstallKernelSpec() leave a specification of another's alone", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "signs-kernel-spec-" });
  try {
    const dir = join(tmp, "signs-deno");
    await Deno.mkdir(dir);
    const theirs = JSON.stringify({ argv: ["deno"], display_name: "Deno", language: "typescript" });
    await Deno.writeTextFile(join(dir, "kernel.json"), theirs);
    const deno = { path: "/bin/true", copy: false, why: "test" };
    await assertRejects(
      () => installKernelSpec({ kernelsDir: tmp, python: "/usr/bin/python3", proxy, deno }),
      Error,
      `no "${MARKER}" metadata`,
    );
    await assertRejects(() => uninstallKernelSpec(tmp), Error, "left as it is");
    assertEquals(await Deno.readTextFile(join(dir, "kernel.json")), theirs);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
