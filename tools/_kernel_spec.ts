// The project's Jupyter kernel specification: Deno's kernel behind tools/kernel_proxy.py, installed
// for the current user by `deno task kernel` (tools/kernel.ts) and used by the front-end test.
import { delimiter, join, resolve, sep } from "node:path";

/** Folder name of the specification under `kernels/`. */
export const KERNEL_NAME = "signs-deno";
/** The name front ends list the kernel under. */
export const DISPLAY_NAME = "Deno (SIGNS notebooks)";
/** The key under kernel.json's `metadata` that marks a specification this project installed. */
export const MARKER = "signs-notebooks";
/** The files an installed specification holds; nothing else is ever removed. */
export const SPEC_FILES = ["kernel.json", "kernel_proxy.py", "deno"] as const;

/** A Deno binary for the kernel, and why it was chosen. */
export interface DenoChoice {
  /** The binary to run (before copying, when `copy` is set). */
  path: string;
  /** Whether the specification keeps its own copy (the binary may disappear from where it is). */
  copy: boolean;
  /** Why this one, in words. */
  why: string;
}

/**
 * Whether a path lies in npm's cache, where `npx` unpacks packages and from where they disappear
 * when the cache is cleaned: a `_npx` or `.npm` folder on the way, or the cache folder npm names.
 */
export function isInNpmCache(path: string, npmCache?: string): boolean {
  const parts = resolve(path).split(sep);
  if (parts.includes("_npx") || parts.includes(".npm")) return true;
  return npmCache !== undefined && npmCache !== "" &&
    (resolve(path) + sep).startsWith(resolve(npmCache) + sep);
}

/** What a command prints, trimmed; undefined when it cannot start or fails. */
async function stdoutOf(command: string, args: string[]): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(command, { args, stderr: "null" }).output();
    return output.success ? new TextDecoder().decode(output.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The version `deno --version` prints, or undefined when the binary does not run. */
export async function denoVersion(path: string): Promise<string | undefined> {
  return /^deno (\S+)/.exec(await stdoutOf(path, ["--version"]) ?? "")?.[1];
}

/** Where to look for a Deno binary, and what it must be. */
export interface DenoSearch {
  /** A binary named by the user: used as it is. */
  explicit?: string;
  /** The binary running this script (`Deno.execPath()`). */
  running: string;
  /** Its version (`Deno.version.deno`): a binary found on PATH must have the same. */
  version: string;
  /** The PATH to search. */
  path?: string;
  /** npm's cache folder, when known (`npm_config_cache`). */
  npmCache?: string;
}

/**
 * The Deno binary a kernel specification should point at: the one named, else the running one
 * where it stays (not in npm's cache), else a `deno` of the same version on PATH outside npm's
 * cache, else a copy of the running one kept with the specification.
 */
export async function chooseDeno(search: DenoSearch): Promise<DenoChoice> {
  if (search.explicit !== undefined) {
    const path = resolve(search.explicit);
    if (await denoVersion(path) === undefined) {
      throw new Error(`Cannot use --deno=${search.explicit}: "${path}" does not run as deno`);
    }
    const cached = isInNpmCache(path, search.npmCache);
    return {
      path,
      copy: false,
      why: `named with --deno${cached ? "; it lies in npm's cache, which may be cleaned" : ""}`,
    };
  }
  const running = await Deno.realPath(search.running);
  if (!isInNpmCache(running, search.npmCache)) {
    return { path: running, copy: false, why: `the deno ${search.version} running this task` };
  }
  for (const folder of (search.path ?? "").split(delimiter).filter((f) => f !== "")) {
    const candidate = await Deno.realPath(join(folder, "deno")).catch(() => undefined);
    if (candidate === undefined || isInNpmCache(candidate, search.npmCache)) continue;
    if (await denoVersion(candidate) === search.version) {
      return { path: candidate, copy: false, why: `deno ${search.version} found on PATH` };
    }
  }
  return {
    path: running,
    copy: true,
    why: `a copy of the deno ${search.version} running this task, which lies in npm's cache ` +
      `(cleaning the cache would remove it), kept with the kernel specification`,
  };
}

/** The first of the given Pythons that can import pyzmq and jupyter_client (the proxy needs both). */
export async function findPython(candidates: string[]): Promise<string | undefined> {
  for (const python of candidates) {
    const executable = await stdoutOf(python, [
      "-c",
      "import sys, zmq, jupyter_client; print(sys.executable)",
    ]);
    if (executable) return executable;
  }
  return undefined;
}

/**
 * The `kernels/` folder of the user's Jupyter data folder: `$JUPYTER_DATA_DIR/kernels` when the
 * variable is set, else where Jupyter itself says (asked through the given Python), else
 * `~/.local/share/jupyter/kernels`.
 */
export async function userKernelsDir(python?: string): Promise<string> {
  const dataDir = Deno.env.get("JUPYTER_DATA_DIR");
  if (dataDir) return join(resolve(dataDir), "kernels");
  if (python !== undefined) {
    const dir = await stdoutOf(python, [
      "-c",
      "from jupyter_core.paths import jupyter_data_dir; print(jupyter_data_dir())",
    ]);
    if (dir) return join(dir, "kernels");
  }
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("Cannot find the Jupyter data folder: HOME is not set");
  return join(home, ".local", "share", "jupyter", "kernels");
}

/** What kernel.json holds. */
export interface KernelJson {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode?: string;
  metadata?: Record<string, unknown>;
}

/** What an installation wrote. */
export interface InstalledSpec {
  /** The specification's folder. */
  dir: string;
  /** The deno binary its kernel runs. */
  deno: string;
  kernelJson: KernelJson;
}

/** Options of {@linkcode installKernelSpec}. */
export interface InstallOptions {
  /** The `kernels/` folder to install into. */
  kernelsDir: string;
  /** The Python that runs the proxy. */
  python: string;
  /** tools/kernel_proxy.py, copied into the specification. */
  proxy: string;
  deno: DenoChoice;
  /** Folder name (default {@linkcode KERNEL_NAME}). */
  name?: string;
  /** Display name (default {@linkcode DISPLAY_NAME}). */
  displayName?: string;
  /** Extra arguments for the proxy (such as `--quiet-ms=100`). */
  proxyArgs?: string[];
}

/**
 * Whether a kernel specification folder is one this project installed (its kernel.json carries
 * the marker); false when it is missing.
 */
export async function isOurs(dir: string): Promise<boolean> {
  const text = await Deno.readTextFile(join(dir, "kernel.json")).catch(() => undefined);
  if (text === undefined) return false;
  try {
    const spec = JSON.parse(text) as KernelJson;
    return typeof spec.metadata?.[MARKER] === "object";
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/**
 * Writes the kernel specification: kernel.json, a copy of the proxy and, where chosen, of deno.
 * Replaces a specification of the same name only if this project installed it; anything else in
 * that folder is refused, naming it, and left as it is.
 */
export async function installKernelSpec(options: InstallOptions): Promise<InstalledSpec> {
  const name = options.name ?? KERNEL_NAME;
  const dir = join(options.kernelsDir, name);
  if (await exists(dir)) {
    if (!await isOurs(dir)) {
      throw new Error(
        `Cannot install the kernel specification into "${dir}": that folder exists and is not ` +
          `one this project installed (its kernel.json has no "${MARKER}" metadata); remove it ` +
          `yourself or choose another --name`,
      );
    }
    const others = (await Array.fromAsync(Deno.readDir(dir), (e) => e.name))
      .filter((n) => !(SPEC_FILES as readonly string[]).includes(n) && !n.endsWith(".tmp"));
    if (others.length > 0) {
      throw new Error(
        `Cannot replace the kernel specification in "${dir}": it holds files this project did ` +
          `not write (${others.sort().join(", ")})`,
      );
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  // Each file is written under a temporary name and renamed, kernel.json last, so that a front end
  // never reads a half-written specification.
  const place = async (file: string, write: (tmp: string) => Promise<void>) => {
    const tmp = join(dir, `${file}.tmp`);
    await write(tmp);
    await Deno.rename(tmp, join(dir, file));
  };
  const proxy = join(dir, "kernel_proxy.py");
  await place("kernel_proxy.py", (tmp) => Deno.copyFile(options.proxy, tmp));
  let deno = options.deno.path;
  if (options.deno.copy) {
    deno = join(dir, "deno");
    await place("deno", async (tmp) => {
      await Deno.copyFile(options.deno.path, tmp);
      await Deno.chmod(tmp, 0o755);
    });
  } else {
    await Deno.remove(join(dir, "deno")).catch(() => {});
  }
  const kernelJson: KernelJson = {
    argv: [
      options.python,
      proxy,
      "--deno",
      deno,
      ...(options.proxyArgs ?? []),
      "{connection_file}",
    ],
    display_name: options.displayName ?? DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "message",
    metadata: {
      [MARKER]: {
        installedBy: "deno task kernel",
        deno,
        denoChosen: options.deno.why,
        proxySource: options.proxy,
      },
    },
  };
  await place("kernel.json", (tmp) => Deno.writeTextFile(tmp, JSON.stringify(kernelJson, null, 2)));
  return { dir, deno, kernelJson };
}

/**
 * Removes a kernel specification this project installed: its own files, then the folder if that
 * leaves it empty. Returns false when there is none; refuses (throws) a folder without the marker.
 */
export async function uninstallKernelSpec(
  kernelsDir: string,
  name = KERNEL_NAME,
): Promise<boolean> {
  const dir = join(kernelsDir, name);
  if (!await exists(dir)) return false;
  if (!await isOurs(dir)) {
    throw new Error(
      `Cannot remove "${dir}": it is not a kernel specification this project installed ` +
        `(its kernel.json has no "${MARKER}" metadata), so it is left as it is`,
    );
  }
  for (const file of [...SPEC_FILES].reverse()) {
    await Deno.remove(join(dir, `${file}.tmp`)).catch(() => {});
    await Deno.remove(join(dir, file)).catch(() => {});
  }
  const left = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
  if (left.length === 0) await Deno.remove(dir);
  return true;
}
