// Installs the notebooks' Jupyter kernel for the current user: Deno's kernel behind
// tools/kernel_proxy.py, which hands it one cell at a time so that Run All files every output under
// the cell that made it.
//
//   deno task kernel [--uninstall] [--deno=PATH] [--name=NAME] [--display-name=TEXT]
//
// The specification goes to $JUPYTER_DATA_DIR/kernels/NAME when JUPYTER_DATA_DIR is set, otherwise
// to the user's Jupyter data folder (as Jupyter reports it; ~/.local/share/jupyter on Linux).
// NAME is signs-deno by default. The kernel runs --deno PATH when given; else the deno running this
// task, unless that lies in npm's cache (`npx deno@…` unpacks it there, and cleaning the cache
// removes it); else a deno of the same version on PATH outside npm's cache; else the specification
// keeps a copy of the running deno. The proxy needs a Python with pyzmq and jupyter_client (Debian:
// python3-zmq, python3-jupyter-client); /usr/bin/python3 is tried first. --uninstall removes the
// specification. A folder of that name that this task did not install is never replaced or removed.
import { join } from "node:path";
import { projectRoot } from "../lib/util/paths.ts";
import { option } from "./_args.ts";
import {
  chooseDeno,
  DISPLAY_NAME,
  findPython,
  installKernelSpec,
  KERNEL_NAME,
  uninstallKernelSpec,
  userKernelsDir,
} from "./_kernel_spec.ts";

function fail(message: string): never {
  console.error(`kernel: ${message}`);
  Deno.exit(1);
}

const name = option("name", KERNEL_NAME);
const python = await findPython(["/usr/bin/python3", "python3", "python"]);
const kernelsDir = await userKernelsDir(python);

try {
  if (Deno.args.includes("--uninstall")) {
    const removed = await uninstallKernelSpec(kernelsDir, name);
    console.log(
      removed
        ? `kernel: removed the kernel specification "${name}" from ${kernelsDir}`
        : `kernel: no kernel specification "${name}" in ${kernelsDir}; nothing to remove`,
    );
    Deno.exit(0);
  }
  if (python === undefined) {
    fail(
      "the kernel needs a Python with pyzmq and jupyter_client (on Debian or Ubuntu: apt-get " +
        "install python3-zmq python3-jupyter-client; elsewhere: pip install jupyter_client)",
    );
  }
  const deno = await chooseDeno({
    explicit: option("deno"),
    running: Deno.execPath(),
    version: Deno.version.deno,
    path: Deno.env.get("PATH"),
    npmCache: Deno.env.get("npm_config_cache"),
  });
  const installed = await installKernelSpec({
    kernelsDir,
    python,
    proxy: join(projectRoot, "tools", "kernel_proxy.py"),
    deno,
    name,
    displayName: option("display-name", DISPLAY_NAME),
  });
  console.log(
    [
      `kernel: installed "${installed.kernelJson.display_name}" in ${installed.dir}`,
      `  deno:   ${installed.deno} (${deno.why})`,
      `  python: ${python} (runs ${join(installed.dir, "kernel_proxy.py")}, a copy of ` +
      `tools/kernel_proxy.py: run this task again after updating the project)`,
      `Choose "${installed.kernelJson.display_name}" as the kernel in Jupyter or VS Code; ` +
      `"deno task kernel --uninstall" removes it.`,
    ].join("\n"),
  );
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
