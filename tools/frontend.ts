// Front-end test: notebook 1 in Jupyter Notebook 6 and headless Chromium, "Restart & Run All"
// several times, every output checked against the cell that made it.
//
//   deno run -A tools/frontend.ts [--kernel=project|deno] [--runs=3] [--interrupt] [--keep]
//
// --kernel=project (the default) installs the project's kernel specification (tools/kernel.ts,
// Deno's kernel behind tools/kernel_proxy.py); --kernel=deno registers Deno's own
// (`deno jupyter --install`). Either goes into a scratch Jupyter data folder, beside a scratch
// configuration and runtime folder: nothing of the user's is read or written. The notebook is
// copied into build/frontend-*/notebooks/ (so that its kernel finds deno.json, and the front end's
// autosave writes only the copy) with that kernel in its metadata, and runs in quick mode
// (SIGNS_EPOCHS=3, SIGNS_TRAIN_LIMIT=256, as tools/notebooks.ts --quick). A headless run of the copy
// (tools/run_notebook.py) says which kinds of output each cell makes. Jupyter Notebook (Debian's
// jupyter-notebook) serves on a free 127.0.0.1 port with a random token; Debian's chromium, driven
// by playwright-core, opens the notebook, chooses Kernel > Restart & Run All --runs times, waits
// until no cell is queued or running and the kernel has been idle for a few seconds, and reads
// the notebook back from the page. A run fails when a cell did not run, a cell failed, a value
// carries another cell's execution count, or a cell lacks the texts its source prints or the
// kinds of output the headless run shows (tools/_frontend_check.ts). The exit status is 1 when
// any run failed.
//
// --interrupt runs a different experiment instead: 100 epochs, Restart & Run All, the toolbar's Stop
// button pressed while the training cell runs, and a report of what the page shows afterwards (it
// fails only when the page does not settle).
// --keep leaves the scratch folders for a look (their paths are printed).
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { projectRoot } from "../lib/util/paths.ts";
import { option } from "./_args.ts";
import { type CodeCell, expectations, misplacedOutputs } from "./_frontend_check.ts";

const NOTEBOOK = "notebooks/01_signs_baseline.ipynb";
const QUICK = { SIGNS_EPOCHS: "3", SIGNS_TRAIN_LIMIT: "256" };
const INTERRUPTED = { SIGNS_EPOCHS: "100", SIGNS_TRAIN_LIMIT: "256" };
const CHROMIUM = "/usr/bin/chromium";
const PYTHON = "/usr/bin/python3";
const RUN_TIMEOUT_MS = 15 * 60_000;
/** How long the kernel must stay idle, with no cell queued, before a run counts as finished. */
const SETTLE_MS = 3_000;

const kernel = option("kernel", "project");
const runs = Number(option("runs", "3"));
const keep = Deno.args.includes("--keep");
const tryInterrupt = Deno.args.includes("--interrupt");

function fail(message: string): never {
  console.error(`frontend: ${message}`);
  Deno.exit(1);
}

if (kernel !== "project" && kernel !== "deno") {
  fail(`--kernel must be project or deno, not "${kernel}"`);
}
if (!Number.isInteger(runs) || runs < 1) fail(`--runs must be a positive integer, not "${runs}"`);

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}
if (
  !await succeeds(CHROMIUM, ["--version"]) ||
  !await succeeds(PYTHON, ["-c", "import notebook, nbclient, zmq"])
) {
  fail(
    "needs Debian's chromium and jupyter-notebook (and python3-nbclient); " +
      "deno task frontend installs them when run as root",
  );
}

/** Runs a command to its end; throws with its output when it fails. */
async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${decoder.decode(result.stdout)}` +
        decoder.decode(result.stderr),
    );
  }
  return decoder.decode(result.stdout);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

const scratch = await Deno.makeTempDir({ prefix: "signs-frontend-" });
await Deno.mkdir(join(projectRoot, "build"), { recursive: true });
const served = await Deno.makeTempDir({ dir: join(projectRoot, "build"), prefix: "frontend-" });
const xdgData = join(scratch, "xdg-data");
const jupyterEnv: Record<string, string> = {
  JUPYTER_DATA_DIR: join(xdgData, "jupyter"),
  JUPYTER_CONFIG_DIR: join(scratch, "config"),
  JUPYTER_RUNTIME_DIR: join(scratch, "runtime"),
  JUPYTER_PATH: join(xdgData, "jupyter"),
  IPYTHONDIR: join(scratch, "ipython"),
  ...(tryInterrupt ? INTERRUPTED : QUICK),
  SIGNS_CHECKPOINT_DIR: join(scratch, "checkpoints"),
};
console.log(
  `frontend: kernel ${kernel}, ${tryInterrupt ? "the Stop button" : `${runs} runs`}; ` +
    `scratch ${scratch}, notebook copy in ${served}`,
);

let server: Deno.ChildProcess | undefined;
let failures = 0;
try {
  // The kernel specification, in the scratch data folder only. `deno jupyter --install` ignores
  // JUPYTER_DATA_DIR and writes to $XDG_DATA_HOME/jupyter, hence both.
  let kernelName: string;
  if (kernel === "deno") {
    await run(Deno.execPath(), ["jupyter", "--install"], { XDG_DATA_HOME: xdgData });
    kernelName = "deno";
  } else {
    const out = await run(
      Deno.execPath(),
      ["run", "-A", join(projectRoot, "tools", "kernel.ts"), `--deno=${Deno.execPath()}`],
      { JUPYTER_DATA_DIR: jupyterEnv.JUPYTER_DATA_DIR },
    );
    console.log(out.trimEnd());
    kernelName = "signs-deno";
  }
  const spec = JSON.parse(
    await Deno.readTextFile(join(xdgData, "jupyter", "kernels", kernelName, "kernel.json")),
  );

  // The notebook's copy, with that kernel.
  const notebook = JSON.parse(await Deno.readTextFile(join(projectRoot, NOTEBOOK)));
  notebook.metadata.kernelspec = {
    name: kernelName,
    display_name: spec.display_name,
    language: "typescript",
  };
  await Deno.mkdir(join(served, "notebooks"));
  const copy = join(served, NOTEBOOK);
  await Deno.writeTextFile(copy, JSON.stringify(notebook, null, 1));

  // What each cell shows when it runs alone.
  if (!tryInterrupt) {
    console.log("frontend: headless run of the notebook for the kinds of output of each cell");
    await run(PYTHON, [
      join(projectRoot, "tools", "run_notebook.py"),
      "--deno",
      Deno.execPath(),
      "--out",
      join(scratch, "headless"),
      copy,
    ], jupyterEnv);
  }
  const headless = tryInterrupt ? undefined : JSON.parse(
    await Deno.readTextFile(join(scratch, "headless", "01_signs_baseline.ipynb")),
  );
  const codeCells = (cells: (CodeCell & { cell_type: string })[]) =>
    cells.filter((c) => c.cell_type === "code");
  const expected = expectations(
    codeCells(notebook.cells),
    headless && codeCells(headless.cells),
  );

  // The notebook server.
  const port = freePort();
  const token = crypto.randomUUID().replaceAll("-", "");
  const log = await Deno.open(join(scratch, "server.log"), { write: true, create: true });
  server = new Deno.Command("jupyter-notebook", {
    args: [
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${served}`,
      ...(Deno.uid() === 0 ? ["--allow-root"] : []),
    ],
    env: jupyterEnv,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  server.stderr.pipeTo(log.writable);
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while (true) {
    const ok = await fetch(`${base}/api/status?token=${token}`).then((r) => {
      r.body?.cancel();
      return r.ok;
    }, () => false);
    if (ok) break;
    if (Date.now() - started > 60_000) throw new Error("the notebook server did not start in 60 s");
    await new Promise((r) => setTimeout(r, 250));
  }

  const profile = join(scratch, "chromium-profile");
  // Chromium also writes crash reports and caches under the home folder: a scratch one.
  const home = join(scratch, "home");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    env: {
      ...Deno.env.toObject(),
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_CACHE_HOME: join(home, ".cache"),
    },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(`${base}/notebooks/${NOTEBOOK}?token=${token}`);
    await page.waitForFunction(
      () => {
        // deno-lint-ignore no-explicit-any
        const nb = (globalThis as any).Jupyter?.notebook;
        return nb?.kernel?.is_connected?.() === true;
      },
      undefined,
      { timeout: 120_000 },
    );
    for (let i = 1; i <= (tryInterrupt ? 0 : runs); i++) {
      const t0 = Date.now();
      await restartAndRunAll(page);
      const { cells, at, settled } = await finished(page);
      const problems = misplacedOutputs(cells, expected);
      if (!settled) problems.push(`the run did not finish in ${RUN_TIMEOUT_MS / 60_000} minutes`);
      const misplaced = problems.filter((p) =>
        / shows the value of | does not show | where the headless run shows /.test(p)
      ).length;
      const seconds = ((at - t0) / 1000).toFixed(1);
      console.log(
        `frontend: run ${i}/${runs} (${kernel} kernel, ${seconds} s): ${cells.length} code cells, ` +
          `${problems.length} problems (${misplaced} about outputs under the wrong cell)`,
      );
      for (const problem of problems) {
        console.log(`  ${problem}`);
      }
      if (problems.length > 0) {
        failures++;
      }
    }
    if (tryInterrupt) await interruptTraining(page);
  } finally {
    await context.close();
  }
} catch (error) {
  // What the notebook server said (kernel starts and deaths) helps more than the stack alone.
  const log = await Deno.readTextFile(join(scratch, "server.log")).catch(() => "");
  if (log) console.error(`frontend: the notebook server's log ends:\n${log.slice(-3000)}`);
  throw error;
} finally {
  if (server) {
    try {
      server.kill("SIGTERM");
    } catch { /* already gone */ }
    await server.status;
  }
  if (keep) console.log(`frontend: kept ${scratch} and ${served}`);
  else {
    await Deno.remove(scratch, { recursive: true });
    await Deno.remove(served, { recursive: true });
  }
}
if (failures > 0) fail(`${failures} of ${runs} runs showed outputs under the wrong cell or failed`);
if (!tryInterrupt) console.log(`frontend: ${runs} runs, every output under its own cell`);

/** Kernel > Restart & Run All, confirmed, as a learner chooses it. */
async function restartAndRunAll(page: Page): Promise<void> {
  await page.click("#kernellink");
  await page.click("#restart_run_all > a");
  await page.getByRole("button", { name: "Restart and Run All Cells" }).click();
  // Run All marks every code cell as queued at once.
  await page.waitForSelector(".code_cell.running", { timeout: 120_000 });
}

/**
 * Waits until no cell is queued or running and the kernel stays idle; returns the code cells and
 * when that began (ms since the epoch).
 */
async function finished(
  page: Page,
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<{ cells: CodeCell[]; at: number; settled: boolean }> {
  const settled = () =>
    page.evaluate(() => {
      // deno-lint-ignore no-explicit-any
      const document = (globalThis as any).document;
      const running = document.querySelectorAll(".code_cell.running").length;
      const icon = document.querySelector("#kernel_indicator_icon");
      return running === 0 && icon?.classList.contains("kernel_idle_icon") === true;
    });
  const deadline = Date.now() + timeoutMs;
  let idleSince: number | undefined;
  let done = false;
  while (!done && Date.now() < deadline) {
    if (await settled()) {
      idleSince ??= Date.now();
      done = Date.now() - idleSince >= SETTLE_MS;
    } else idleSince = undefined;
    if (!done) await new Promise((r) => setTimeout(r, 250));
  }
  const cells = await page.evaluate(() =>
    // deno-lint-ignore no-explicit-any
    (globalThis as any).Jupyter.notebook.toJSON().cells.filter((c: { cell_type: string }) =>
      c.cell_type === "code"
    )
  );
  return { cells, at: done ? idleSince! : Date.now(), settled: done };
}

/** Presses Stop while the training cell runs; says what the page shows then. */
async function interruptTraining(page: Page): Promise<void> {
  await page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const g = globalThis as any;
    g.kernelDeaths = 0;
    g.Jupyter.notebook.events.on("kernel_dead.Kernel kernel_autorestarting.Kernel", () => {
      g.kernelDeaths++;
    });
  });
  await restartAndRunAll(page);
  const trainingCell = 13;
  await page.waitForFunction(
    (n) => {
      // deno-lint-ignore no-explicit-any
      const cells = (globalThis as any).document.querySelectorAll(".code_cell");
      return cells[n - 1]?.classList.contains("running") &&
        !cells[n - 2]?.classList.contains("running");
    },
    trainingCell,
    { timeout: 300_000 },
  );
  await new Promise((r) => setTimeout(r, 3_000));
  await page.click("#run_int button[title='interrupt the kernel']");
  const t0 = Date.now();
  const { cells, at, settled } = await finished(page, 120_000);
  const deaths = await page.evaluate(() =>
    // deno-lint-ignore no-explicit-any
    (globalThis as any).kernelDeaths
  );
  const after = cells.slice(trainingCell).filter((c) => typeof c.execution_count === "number");
  const errors = cells.flatMap((c, i) =>
    (c.outputs ?? []).filter((o) => o.output_type === "error").map((o) =>
      `cell ${i + 1}: ${o.ename}: ${String(o.evalue).slice(0, 100)}`
    )
  );
  console.log(
    `frontend: interrupt: ${
      settled
        ? `the page settled ${((at - t0) / 1000).toFixed(1)} s after Stop`
        : "not settled 120 s after Stop"
    }; kernel died or restarted ${deaths} times; training cell count ${
      cells[trainingCell - 1]?.execution_count
    }; ${after.length} of ${cells.length - trainingCell} later cells ran; errors: ` +
      (errors.length ? errors.join(" | ") : "none"),
  );
}
