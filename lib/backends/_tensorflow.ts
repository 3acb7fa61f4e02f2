// Finding the native TensorFlow backend of @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and
// saying which of four things went wrong when it cannot be used: the package is not installed;
// it is installed but its native binding was never built (Deno runs a package's install script,
// which downloads libtensorflow and builds the binding, only once it is approved); the binding is
// built, but for another N-API version than the one it is looked for under; or the binding is
// built but a library it needs (CUDA's, cuDNN's, libtensorflow itself) cannot be loaded. Each
// message carries the command that fixes it.
//
// The N-API case: the packages build their binding into lib/napi-vN/, for the highest N of their
// list (3 to 8 in 4.22) that the runtime running the install script supports, and look for it in
// lib/napi-vN/ for the highest N that the runtime loading them supports (both through
// @mapbox/node-pre-gyp). Deno 2.9 reports N-API 10 and so looks in lib/napi-v8/; an install script
// run by an older Node.js (N-API below 8) leaves the binding in a lower napi-vN/ that Deno never
// looks in. N-API is forward compatible: a binding built for version N loads on any later one.
import process from "node:process";

// Package names are put together at run time so that no tool tries to fetch these optional
// packages: their install step downloads libtensorflow, which is impossible on many machines.
const SCOPE = "@tensorflow";
/** The native packages, the GPU one first. */
export const NATIVE_PACKAGES: readonly string[] = ["tfjs-node-gpu", "tfjs-node"].map((name) =>
  [SCOPE, name].join("/")
);
const VERSION = "4.22.0";

/** What went wrong with one native package. */
export type NativeProblem =
  | "not installed"
  | "binding not built"
  | "binding for another N-API version"
  | "library missing"
  | "other";

/** One package's failure: its case, and one line saying it with the command that fixes it. */
export interface NativeFailure {
  /** The package. */
  name: string;
  /** Which case it is. */
  problem: NativeProblem;
  /** What happened and what to run. */
  message: string;
}

const approve = (name: string) => `deno approve-scripts npm:${name}`;

/** The N-API versions a package's lib/ folder holds a built binding for (lib/napi-vN/). */
export function builtNapiVersions(libDir: string): number[] {
  const versions: number[] = [];
  try {
    for (const entry of Deno.readDirSync(libDir)) {
      const version = /^napi-v(\d+)$/.exec(entry.name)?.[1];
      if (!version) continue;
      try {
        if (Deno.statSync(`${libDir}/${entry.name}/tfjs_binding.node`).isFile) {
          versions.push(Number(version));
        }
      } catch {
        // no binding in that folder
      }
    }
  } catch {
    // no lib/ folder, or no permission to read it
  }
  return versions.sort((a, b) => b - a);
}

/**
 * Sorts the error of importing `name` into one of the cases, with the fix. `builtVersions` lists
 * the N-API versions a package's lib/ folder has a binding for (tests pass stand-ins).
 */
export function explainNativeFailure(
  name: string,
  error: unknown,
  builtVersions: (libDir: string) => number[] = builtNapiVersions,
): NativeFailure {
  const text = String((error as Error)?.message ?? error);
  if (
    /not a dependency|not in import map|Cannot find (module|package) ['"]?@tensorflow/i.test(text)
  ) {
    return { name, problem: "not installed", message: `${name} is not installed` };
  }
  const wanted = /((?:\/|[A-Za-z]:\\)[^\s'"]*?[\\/]lib)[\\/]napi-v(\d+)[\\/]tfjs_binding\.node/
    .exec(text);
  const built = wanted ? builtVersions(wanted[1]).filter((v) => v !== Number(wanted[2])) : [];
  if (wanted && built.length) {
    const [libDir, asked] = [wanted[1], wanted[2]];
    return {
      name,
      problem: "binding for another N-API version",
      message: `${name} is built, but for N-API ${built[0]} (lib/napi-v${built[0]}/), and Deno ` +
        `(N-API ${process.versions.napi}) looks for it in lib/napi-v${asked}/ (the install ` +
        "script ran under a runtime of an older N-API version): a binding works on any later " +
        `version, so link it there: "ln -s napi-v${built[0]} ${libDir}/napi-v${asked}"`,
    };
  }
  if (/tfjs_binding\.node/.test(text)) {
    return {
      name,
      problem: "binding not built",
      message: `${name} is installed, but its native binding was never built (Deno runs its ` +
        `install script only once approved): run "${approve(name)}" (the script downloads ` +
        "libtensorflow, so it needs a connection beyond the npm registry)",
    };
  }
  const library = /(lib[\w.+-]*\.so[\w.]*): cannot open shared object file/.exec(text)?.[1];
  if (library) {
    const fix = /^libtensorflow/.test(library)
      ? `run "${approve(name)}" again to download it`
      : "install the CUDA 11.2 and cuDNN 8.1 libraries that its TensorFlow 2.9 needs and add " +
        `their folder to LD_LIBRARY_PATH (or use ${NATIVE_PACKAGES[1]}, which needs no GPU)`;
    return {
      name,
      problem: "library missing",
      message: `${name} is built, but ${library} cannot be loaded: ${fix}`,
    };
  }
  return { name, problem: "other", message: `${name}: ${text.split("\n")[0]}` };
}

/**
 * One line for all the native packages' failures: the installed ones' cases, or, when neither is
 * installed, how to install the GPU one.
 */
export function nativeFailureLine(failures: readonly NativeFailure[]): string {
  const installed = failures.filter((f) => f.problem !== "not installed");
  if (installed.length) return installed.map((f) => f.message).join("; ");
  const [gpu] = NATIVE_PACKAGES;
  return `neither ${NATIVE_PACKAGES.join(" nor ")} is installed (with an NVIDIA GPU and CUDA: ` +
    `"deno add npm:${gpu}@${VERSION}", then "${approve(gpu)}")`;
}

/**
 * Imports the first native package that loads and resolves to a line naming it; throws an
 * `Error` whose message is {@linkcode nativeFailureLine}'s otherwise. `importPackage` is
 * `import()` (tests pass stand-ins).
 */
export async function loadNativeTensorflow(
  importPackage: (name: string) => Promise<unknown> = (name) => import(name),
): Promise<string> {
  const failures: NativeFailure[] = [];
  for (const name of NATIVE_PACKAGES) {
    try {
      await importPackage(name);
      return `native TensorFlow from ${name}`;
    } catch (error) {
      failures.push(explainNativeFailure(name, error));
    }
  }
  throw new Error(nativeFailureLine(failures));
}
