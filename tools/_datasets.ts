/**
 * Getting the SIGNS files into place: `datasets/` keeps their SHA-256 checksums, and
 * {@linkcode prepareSignsFiles} copies the files from a source folder when they are missing and
 * verifies every one of them.
 *
 * @module
 */
import { join, relative } from "node:path";
import { datasetsDir } from "../lib/util/_paths.ts";
import { dataSourceDir } from "../lib/settings.ts";
import { exists } from "../lib/util/_fs.ts";

/** Options of {@linkcode prepareSignsFiles}. */
export interface PrepareOptions {
  /** Folder the files are copied from when missing. Default: {@linkcode dataSourceDir}'s. */
  source?: string;
  /** Folder that must hold the files and `SHA256SUMS`. Default: the project's `datasets/`. */
  target?: string;
}

/** One verified file, as reported by {@linkcode prepareSignsFiles}. */
export interface PreparedFile {
  /** Absolute path of the file. */
  path: string;
  /** Whether it was copied in this call. */
  copied: boolean;
  /** Its SHA-256, hex. */
  sha256: string;
}

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

/**
 * Makes sure every file listed in `<target>/SHA256SUMS` is present in `target` with the right
 * checksum, copying missing files from `source`. Throws an `Error` that names the missing file and
 * where it must go when it is in neither folder, and one that names the file and both checksums
 * when a file does not match (a source file that does not match is not copied).
 */
export async function prepareSignsFiles(options: PrepareOptions = {}): Promise<PreparedFile[]> {
  const target = options.target ?? datasetsDir;
  const source = options.source ?? dataSourceDir();
  const sumsPath = join(target, "SHA256SUMS");
  const sums = parseChecksums(await Deno.readTextFile(sumsPath), sumsPath);
  const prepared: PreparedFile[] = [];
  const mismatch = (path: string, actual: string, expected: string, advice: string) =>
    new Error(
      `Checksum mismatch for "${path}": SHA-256 is ${actual}, expected ${expected} ` +
        `(from ${sumsPath}); ${advice}`,
    );
  for (const [name, expected] of sums) {
    const path = join(target, name);
    let copied = false;
    if (!(await exists(path))) {
      const from = join(source, name);
      if (!(await exists(from))) {
        throw new Error(
          `Cannot find the SIGNS file "${name}": it is not in "${target}" and not in "${source}". ` +
            `Put ${name} at ${path} (see ${relative(Deno.cwd(), join(target, "README.md"))}).`,
        );
      }
      const sourceSum = await sha256File(from);
      if (sourceSum !== expected) {
        throw mismatch(from, sourceSum, expected, `nothing was copied to ${path}.`);
      }
      await Deno.copyFile(from, path);
      copied = true;
    }
    const actual = await sha256File(path);
    if (actual !== expected) {
      if (copied) await Deno.remove(path);
      throw mismatch(path, actual, expected, "replace the file with the original one.");
    }
    prepared.push({ path, copied, sha256: actual });
  }
  return prepared;
}
