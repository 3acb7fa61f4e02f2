/**
 * Getting the SIGNS files into place: `datasets/` keeps the SHA-256 checksums of the known copies,
 * and {@linkcode prepareSignsFiles} copies the files from a source folder when they are missing,
 * and says of each which copy it is (a known one, or another that the loader's checks accept).
 *
 * @module
 */
import { join, relative } from "node:path";
import { datasetsDir } from "../lib/util/paths.ts";
import { dataSourceDir } from "../lib/training/settings.ts";
import { exists } from "../lib/util/fs.ts";
import { NUM_CLASSES, readSignsFile } from "../lib/data/signs_dataset.ts";

/** Options of {@linkcode prepareSignsFiles}. */
export interface PrepareOptions {
  /** Folder the files are copied from when missing. Default: {@linkcode dataSourceDir}'s. */
  source?: string;
  /** Folder that must hold the files and `SHA256SUMS`. Default: the project's `datasets/`. */
  target?: string;
}

/** One file in place, as reported by {@linkcode prepareSignsFiles}. */
export interface PreparedFile {
  /** Absolute path of the file. */
  path: string;
  /** Whether it was copied in this call. */
  copied: boolean;
  /** Its SHA-256, hex. */
  sha256: string;
  /** Whether its checksum is the one `SHA256SUMS` lists (a known copy). */
  known: boolean;
  /** Which copy it is, in words: the known copy's description, or another copy's counts. */
  copy: string;
}

/** What the copies `SHA256SUMS` lists are, by file name. */
export const KNOWN_COPIES: Readonly<Record<string, string>> = {
  "train_signs.h5": "this project's training file (rebuilt from the course's photographs)",
  "test_signs.h5": "the course's own test file",
};

/**
 * Reads a `SHA256SUMS` file (lines of `<hex>  <name>`) into a map from file name to checksum.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const sums = parseChecksums("ab12  a.h5\ncd34 *b.h5\n", "SHA256SUMS");
 * assertEquals(sums.get("b.h5"), "cd34");
 * ```
 */
export function parseChecksums(text: string, fileName: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const match = /^([0-9a-fA-F]+)\s+\*?(.+)$/.exec(line.trim());
    if (!match) {
      throw new SyntaxError(
        `Cannot read "${fileName}": line ${i + 1} is "${line}", expected "<sha256>  <file name>"`,
      );
    }
    sums.set(match[2], match[1].toLowerCase());
  });
  return sums;
}

/** The SHA-256 of a file's contents, as lowercase hex. */
export async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// The split a SIGNS file holds, from its name (train_signs.h5, test_signs.h5); null for others.
function splitOf(name: string): "train" | "test" | null {
  const match = /^(train|test)_/.exec(name);
  return match ? match[1] as "train" | "test" : null;
}

// Which copy of `name` the file at `path` is: the known one (its checksum is `expected`), or
// another copy that the loader's checks accept. Throws naming the file otherwise.
async function identify(
  path: string,
  name: string,
  expected: string,
  sumsPath: string,
): Promise<{ sha256: string; known: boolean; copy: string }> {
  const sha256 = await sha256File(path);
  if (sha256 === expected) {
    return { sha256, known: true, copy: KNOWN_COPIES[name] ?? `the copy ${sumsPath} lists` };
  }
  const split = splitOf(name);
  if (!split) {
    throw new Error(
      `Checksum mismatch for "${path}": SHA-256 is ${sha256}, expected ${expected} (from ` +
        `${sumsPath}), and a file of this name cannot be checked otherwise`,
    );
  }
  let arrays;
  try {
    arrays = await readSignsFile(path, split);
  } catch (error) {
    throw new Error(
      `${(error as Error).message} (it is not the copy ${sumsPath} lists either: SHA-256 ` +
        `${sha256})`,
    );
  }
  const perClass = new Array(NUM_CLASSES).fill(0);
  for (const label of arrays.labels) perClass[label]++;
  return {
    sha256,
    known: false,
    copy: `another copy of the SIGNS ${split === "train" ? "training" : "test"} set ` +
      `(${arrays.count} images, ${perClass.join("/")} of classes 0 to 5; SHA-256 ${sha256} is ` +
      `not the one ${sumsPath} lists), which passes the loader's checks`,
  };
}

/**
 * Makes sure every file listed in `<target>/SHA256SUMS` is present in `target`, copying missing
 * files from `source`. A file is accepted when its checksum is the listed one (a known copy,
 * {@linkcode KNOWN_COPIES}) or when the loader's checks pass (the datasets, shapes, dtypes, labels
 * 0..5 and counts of `readSignsFile`): the course's own training file, for one, has other bytes
 * than this project's. Throws an `Error` that names the missing file and where it must go when it
 * is in neither folder, and one that names the file and what is wrong with it otherwise. A source
 * file that is refused is not copied; a file already in `target` is never changed or removed.
 */
export async function prepareSignsFiles(options: PrepareOptions = {}): Promise<PreparedFile[]> {
  const target = options.target ?? datasetsDir;
  const source = options.source ?? dataSourceDir();
  const sumsPath = join(target, "SHA256SUMS");
  const sums = parseChecksums(await Deno.readTextFile(sumsPath), sumsPath);
  const prepared: PreparedFile[] = [];
  for (const [name, expected] of sums) {
    const path = join(target, name);
    if (await exists(path)) {
      prepared.push({ path, copied: false, ...(await identify(path, name, expected, sumsPath)) });
      continue;
    }
    const from = join(source, name);
    if (!(await exists(from))) {
      throw new Error(
        `Cannot find the SIGNS file "${name}": it is not in "${target}" and not in "${source}". ` +
          `Put ${name} at ${path} (see ${relative(Deno.cwd(), join(target, "README.md"))}).`,
      );
    }
    let found;
    try {
      found = await identify(from, name, expected, sumsPath);
    } catch (error) {
      throw new Error(`${(error as Error).message}; nothing was copied to ${path}`);
    }
    await Deno.copyFile(from, path);
    if (await sha256File(path) !== found.sha256) {
      await Deno.remove(path); // the copy made just now, which did not come out whole
      throw new Error(`Copying "${from}" to "${path}" did not give the same bytes; try again`);
    }
    prepared.push({ path, copied: true, ...found });
  }
  return prepared;
}
