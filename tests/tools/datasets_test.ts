import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { join } from "node:path";
import { parseChecksums, prepareSignsFiles, sha256File } from "../../tools/_datasets.ts";

async function tempDirs(): Promise<
  { source: string; target: string; cleanup: () => Promise<void> }
> {
  const root = await Deno.makeTempDir({ prefix: "signs-prepare-" });
  const source = join(root, "source");
  const target = join(root, "target");
  await Deno.mkdir(source);
  await Deno.mkdir(target);
  return { source, target, cleanup: () => Deno.remove(root, { recursive: true }) };
}

// SHA-256 of the ASCII text "abc" (FIPS 180-2, appendix B.1).
const ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

Deno.test("sha256File() matches the published digest of 'abc'", async () => {
  const { source, cleanup } = await tempDirs();
  await Deno.writeTextFile(join(source, "abc"), "abc");
  assertEquals(await sha256File(join(source, "abc")), ABC_SHA256);
  await cleanup();
});

Deno.test("parseChecksums() reads sha256sum's text and binary forms and names a bad line", () => {
  const sums = parseChecksums(`${ABC_SHA256}  a.h5\n${ABC_SHA256} *b.h5\n`, "SUMS");
  assertEquals([...sums.keys()], ["a.h5", "b.h5"]);
  assertThrows(
    () => parseChecksums("nonsense", "SUMS"),
    SyntaxError,
    `"SUMS": line 1 is "nonsense"`,
  );
});

Deno.test("prepareSignsFiles() copies a missing file from the source and verifies it", async () => {
  const { source, target, cleanup } = await tempDirs();
  await Deno.writeTextFile(join(target, "SHA256SUMS"), `${ABC_SHA256}  data.h5\n`);
  await Deno.writeTextFile(join(source, "data.h5"), "abc");
  const first = await prepareSignsFiles({ source, target });
  assertEquals(first.map((f) => [f.copied, f.sha256]), [[true, ABC_SHA256]]);
  assertEquals(await Deno.readTextFile(join(target, "data.h5")), "abc");
  const second = await prepareSignsFiles({ source, target });
  assertEquals(second[0].copied, false);
  await cleanup();
});

Deno.test("prepareSignsFiles() says which file is missing and where it must go", async () => {
  const { source, target, cleanup } = await tempDirs();
  await Deno.writeTextFile(join(target, "SHA256SUMS"), `${ABC_SHA256}  train_signs.h5\n`);
  await assertRejects(
    () => prepareSignsFiles({ source, target }),
    Error,
    `Cannot find the SIGNS file "train_signs.h5": it is not in "${target}" and not in "${source}". ` +
      `Put train_signs.h5 at ${join(target, "train_signs.h5")}`,
  );
  await cleanup();
});

Deno.test("prepareSignsFiles() names the source file whose checksum differs, and copies nothing", async () => {
  const { source, target, cleanup } = await tempDirs();
  await Deno.writeTextFile(join(target, "SHA256SUMS"), `${ABC_SHA256}  data.h5\n`);
  await Deno.writeTextFile(join(source, "data.h5"), "abd");
  await assertRejects(
    () => prepareSignsFiles({ source, target }),
    Error,
    `Checksum mismatch for "${join(source, "data.h5")}"`,
  );
  await assertRejects(() => Deno.stat(join(target, "data.h5")), Deno.errors.NotFound);
  await cleanup();
});

Deno.test("prepareSignsFiles() names a file in place whose checksum differs, and keeps it", async () => {
  const { source, target, cleanup } = await tempDirs();
  await Deno.writeTextFile(join(target, "SHA256SUMS"), `${ABC_SHA256}  data.h5\n`);
  await Deno.writeTextFile(join(target, "data.h5"), "abd");
  await assertRejects(
    () => prepareSignsFiles({ source, target }),
    Error,
    `Checksum mismatch for "${join(target, "data.h5")}"`,
  );
  assertEquals(await Deno.readTextFile(join(target, "data.h5")), "abd");
  await cleanup();
});

Deno.test("the project's datasets/SHA256SUMS lists both SIGNS files", async () => {
  const path = join(import.meta.dirname!, "..", "..", "datasets", "SHA256SUMS");
  const sums = parseChecksums(await Deno.readTextFile(path), path);
  assertEquals([...sums.keys()].sort(), ["test_signs.h5", "train_signs.h5"]);
});
