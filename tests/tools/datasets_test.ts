import { assertEquals, assertRejects, assertStringIncludes, assertThrows } from "@std/assert";
import { join } from "node:path";
import {
  KNOWN_COPIES,
  parseChecksums,
  prepareSignsFiles,
  sha256File,
} from "../../tools/_datasets.ts";
import { signsSplit, writeHdf5 } from "../_hdf5.ts";

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

Deno.test("prepareSignsFiles() copies another copy of a SIGNS file that passes the loader's checks, and says so", async () => {
  const { source, target, cleanup } = await tempDirs();
  await Deno.writeTextFile(join(target, "SHA256SUMS"), `${ABC_SHA256}  train_signs.h5\n`);
  await writeHdf5(join(source, "train_signs.h5"), signsSplit("train", 12));
  const [file] = await prepareSignsFiles({ source, target });
  assertEquals([file.copied, file.known], [true, false]);
  assertEquals(file.sha256, await sha256File(join(source, "train_signs.h5")));
  assertEquals(file.sha256, await sha256File(join(target, "train_signs.h5")));
  assertStringIncludes(
    file.copy,
    "another copy of the SIGNS training set (12 images, 2/2/2/2/2/2 of classes 0 to 5",
  );
  const again = await prepareSignsFiles({ source, target });
  assertEquals([again[0].copied, again[0].known, again[0].copy], [false, false, file.copy]);
  await cleanup();
});

Deno.test("prepareSignsFiles() names a known copy by what it is", async () => {
  const { source, target, cleanup } = await tempDirs();
  await writeHdf5(join(source, "test_signs.h5"), signsSplit("test", 6));
  const sum = await sha256File(join(source, "test_signs.h5"));
  await Deno.writeTextFile(join(target, "SHA256SUMS"), `${sum}  test_signs.h5\n`);
  const [file] = await prepareSignsFiles({ source, target });
  assertEquals([file.copied, file.known, file.copy], [true, true, KNOWN_COPIES["test_signs.h5"]]);
  assertEquals(file.copy, "the course's own test file");
  await cleanup();
});

Deno.test("prepareSignsFiles() refuses a SIGNS file the loader refuses, naming it, and copies nothing", async () => {
  const { source, target, cleanup } = await tempDirs();
  await Deno.writeTextFile(join(target, "SHA256SUMS"), `${ABC_SHA256}  train_signs.h5\n`);
  const small = new Uint8Array(4 * 32 * 32 * 3);
  await writeHdf5(
    join(source, "train_signs.h5"),
    signsSplit("train", 4, { train_set_x: { data: small, shape: [4, 32, 32, 3], dtype: "<B" } }),
  );
  const error = await assertRejects(() => prepareSignsFiles({ source, target }), Error);
  assertStringIncludes(
    error.message,
    `Cannot load "${join(source, "train_signs.h5")}": dataset "train_set_x" has shape ` +
      "[4, 32, 32, 3], expected [m, 64, 64, 3]",
  );
  assertStringIncludes(error.message, `nothing was copied to ${join(target, "train_signs.h5")}`);
  await assertRejects(() => Deno.stat(join(target, "train_signs.h5")), Deno.errors.NotFound);
  // The same file already in place is refused as well, and kept.
  await Deno.copyFile(join(source, "train_signs.h5"), join(target, "train_signs.h5"));
  await assertRejects(
    () => prepareSignsFiles({ source, target }),
    Error,
    "has shape [4, 32, 32, 3]",
  );
  assertEquals(
    await sha256File(join(target, "train_signs.h5")),
    await sha256File(join(source, "train_signs.h5")),
  );
  await cleanup();
});

Deno.test("the project's own SIGNS files are the known copies", async () => {
  const dir = join(import.meta.dirname!, "..", "..", "datasets");
  const files = await prepareSignsFiles({ source: dir, target: dir });
  assertEquals(
    files.map((f) => [f.path.split("/").at(-1), f.known, f.copy]),
    [...parseChecksums(await Deno.readTextFile(join(dir, "SHA256SUMS")), "SHA256SUMS").keys()]
      .map((name) => [name, true, KNOWN_COPIES[name]]),
  );
});
