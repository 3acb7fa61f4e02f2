// Executes the notebooks headless with Deno's Jupyter kernel and checks their outputs.
//
//   deno run -A tools/notebooks.ts [--quick] [--twice] [--out DIR] [NAME ...]
//   deno run -A tools/notebooks.ts --check [--quick] [--out DIR] [--expect TEXT]... [--expect-mime TYPE]... [NAME ...]
//
// NAME is a notebook file or its number (01, 02); by default both run. --quick shortens training
// (SIGNS_EPOCHS, SIGNS_TRAIN_LIMIT, unless already set) for CI, keeps its checkpoints in a
// temporary folder (SIGNS_CHECKPOINT_DIR) and stops a cell that runs longer than 15 minutes.
// --twice runs the code cells a second time in order before the last one, as a learner re-runs
// cells, and fails when the second pass leaves another number of tensors than the first
// (tools/run_notebook.py --twice); the outputs are then checked as a full run's are.
// Executed notebooks and HTML copies are written to build/notebooks/ or DIR (tools/run_notebook.py
// executes them), then checked: every cell ran without an error, and the outputs contain the
// texts and MIME types listed below for each notebook (plus any --expect / --expect-mime).
// --check only checks: it reads build/notebooks/NAME.ipynb (or the executed .ipynb given) and
// executes nothing. The exit status is non-zero when a cell fails or an expected output is missing.
import { basename, join, resolve } from "node:path";
import { projectRoot } from "../lib/util/paths.ts";
import { type ExecutedNotebook, notebookProblems, outputCounts } from "./_notebook_check.ts";

interface NotebookRun {
  file: string;
  /** Texts some output must contain. */
  expect: string[];
  /** MIME types some output must have. */
  expectMime: string[];
  /** Texts some output must contain in quick mode only (a fresh run that trains). */
  expectQuick: string[];
  /** Epochs of a full run, for the live view's last line. */
  epochs: number;
  /** Environment of the quick mode. */
  quick: Record<string, string>;
}

const RICH = ["image/png", "text/html", "application/vnd.plotly.v1+json"];

const NOTEBOOKS: NotebookRun[] = [
  {
    file: "notebooks/01_signs_baseline.ipynb",
    expect: [
      "X_train shape: (1080, 64, 64, 3)",
      "Y_train shape: (1080, 6)",
      "X_test shape: (120, 64, 64, 3)",
      "Y_test shape: (120, 6)",
      "Total params: 1,310",
      "// lib/models/baseline.ts:",
      "export function convolutionalModel(",
      "test accuracy",
      '<table class="dataframe">',
      "The number of this image is",
      "all tests passed",
      "Plotly chart: Confusion matrix",
      "misclassified (true → predicted)",
      '"tensors left: 0"',
    ],
    expectQuick: [],
    expectMime: RICH,
    epochs: 100,
    quick: { SIGNS_EPOCHS: "3", SIGNS_TRAIN_LIMIT: "256" },
  },
  {
    file: "notebooks/02_resnet50.ipynb",
    expect: [
      "X_train shape: (1080, 64, 64, 3)",
      "Total params: 23,600,006",
      "Trainable params: 23,546,886",
      "Non-trainable params: 53,120",
      '<table class="dataframe">',
      "Test Accuracy = ",
      "Class prediction vector",
      "✔ identity block: all tests passed",
      "✘ identity block",
      "Test Accuracy with moving averages = ",
      "Kept the model of epoch",
      "Test Accuracy in inference mode (recalibrated) = ",
      "Test Accuracy of the kept epoch = ",
      "// lib/models/resnet.ts:",
      "export function identityBlock<",
      "export function resNet50(",
      "The training loss",
      "From the last block to the first the gradient changes by",
      "course notes",
      "One image at a time: test accuracy",
      "The number in your photo is",
      "Plotly chart: Confusion matrix",
      "misclassified (true → predicted)",
      '"tensors left: 0"',
    ],
    expectQuick: ["No saved model in"],
    expectMime: RICH,
    epochs: 20,
    quick: { SIGNS_EPOCHS: "2", SIGNS_TRAIN_LIMIT: "64" },
  },
];

interface Options {
  quick: boolean;
  twice: boolean;
  check: boolean;
  out?: string;
  names: string[];
  texts: string[];
  mimeTypes: string[];
}

function parseArgs(args: string[]): Options {
  const options: Options = {
    quick: false,
    twice: false,
    check: false,
    names: [],
    texts: [],
    mimeTypes: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--quick") options.quick = true;
    else if (arg === "--twice") options.twice = true;
    else if (arg === "--check") options.check = true;
    else if (arg === "--out") {
      options.out = args[++i];
      if (options.out === undefined) fail(`${arg} needs a folder`, 2);
    } else if (arg === "--expect" || arg === "--expect-mime") {
      const value = args[++i];
      if (value === undefined) fail(`${arg} needs a value`, 2);
      (arg === "--expect" ? options.texts : options.mimeTypes).push(value);
    } else if (arg.startsWith("--")) fail(`unknown option "${arg}"`, 2);
    else options.names.push(arg);
  }
  return options;
}

function fail(message: string, status = 1): never {
  console.error(`notebooks: ${message}`);
  Deno.exit(status);
}

const options = parseArgs(Deno.args);
const outDir = options.out === undefined
  ? join(projectRoot, "build", "notebooks")
  : resolve(options.out);

interface Selected {
  run: NotebookRun;
  /** Where its executed copy is (written by a run, read by the checks). */
  executed: string;
}

/**
 * A notebook of the table by name, number or path; with --check also an executed notebook given
 * by path (checked against the table's entry of the same name, if any, and the --expect options).
 */
function find(name: string): Selected {
  const stem = basename(name, ".ipynb");
  const run = NOTEBOOKS.find((n) => basename(n.file, ".ipynb") === stem) ??
    NOTEBOOKS.find((n) => basename(n.file).startsWith(name));
  const givenPath = options.check && name.endsWith(".ipynb") && !name.startsWith("notebooks/");
  if (givenPath) {
    return {
      run: run ?? { file: name, expect: [], expectMime: [], expectQuick: [], epochs: 0, quick: {} },
      executed: name,
    };
  }
  if (!run) {
    fail(`unknown notebook "${name}" (known: ${NOTEBOOKS.map((n) => n.file).join(", ")})`, 2);
  }
  return { run, executed: join(outDir, basename(run.file)) };
}
const selected = (options.names.length === 0 ? NOTEBOOKS.map((n) => n.file) : options.names)
  .map(find);

// What a run must show: the fixed texts, and in quick mode (a fresh run that trains) the fresh
// start and the live view's last epoch; a full run, or the second pass of --twice, may load a
// saved model and train no epoch.
function expected(notebook: NotebookRun, env: Record<string, string>): string[] {
  const epochs = env.SIGNS_EPOCHS ?? Deno.env.get("SIGNS_EPOCHS") ?? String(notebook.epochs);
  return [
    ...notebook.expect,
    ...(options.quick && !options.twice
      ? [...notebook.expectQuick, `Epoch ${epochs}/${epochs}`]
      : []),
    ...options.texts,
  ];
}

/** Checks an executed notebook; prints its problems and returns whether it passed. */
async function check(path: string, texts: string[], mimeTypes: string[]): Promise<boolean> {
  let notebook: ExecutedNotebook;
  try {
    notebook = JSON.parse(await Deno.readTextFile(path)) as ExecutedNotebook;
  } catch (error) {
    console.error(`notebooks: cannot read the executed notebook "${path}": ${error}`);
    return false;
  }
  const problems = notebookProblems(notebook, { texts, mimeTypes });
  const name = basename(path, ".ipynb");
  for (const problem of problems) console.error(`${name}: check failed: ${problem}`);
  const counts = Object.entries(outputCounts(notebook)).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(
    `${name}: ${problems.length === 0 ? "checks passed" : "checks FAILED"} ` +
      `(${texts.length} texts, ${mimeTypes.length} output types expected; outputs: ${counts})`,
  );
  return problems.length === 0;
}

async function execute(notebook: NotebookRun, env: Record<string, string>): Promise<boolean> {
  const python = "/usr/bin/python3";
  const probe = await new Deno.Command(python, {
    args: ["-c", "import nbclient, nbconvert"],
    stderr: "null",
  }).output().catch(() => null);
  if (!probe?.success) {
    fail(
      "Debian's python3-nbclient and jupyter-nbconvert are needed to execute notebooks " +
        "headless (deno task setup installs them as root).",
    );
  }
  const { success } = await new Deno.Command(python, {
    args: [
      join(projectRoot, "tools", "run_notebook.py"),
      "--deno",
      Deno.execPath(),
      "--out",
      outDir,
      "--html",
      ...(options.quick ? ["--cell-timeout", "900"] : []),
      ...(options.twice ? ["--twice"] : []),
      join(projectRoot, notebook.file),
    ],
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return success;
}

let failures = 0;
for (const { run: notebook, executed } of selected) {
  const env: Record<string, string> = {};
  if (options.quick && !options.check) {
    for (const [name, value] of Object.entries(notebook.quick)) {
      env[name] = Deno.env.get(name) ?? value;
    }
    // A quick run always trains: no checkpoint of an earlier run is found.
    env.SIGNS_CHECKPOINT_DIR = await Deno.makeTempDir({ prefix: "signs-checkpoints-" });
  }
  let passed = true;
  if (!options.check) {
    const mode = options.quick ? ` in quick mode (${JSON.stringify(env)})` : "";
    console.log(`notebooks: running ${notebook.file}${mode}`);
    try {
      passed = await execute(notebook, env);
    } finally {
      if (env.SIGNS_CHECKPOINT_DIR) {
        await Deno.remove(env.SIGNS_CHECKPOINT_DIR, { recursive: true });
      }
    }
  }
  // A failed run has already said which cell failed and how.
  if (passed) {
    passed = await check(executed, expected(notebook, env), [
      ...notebook.expectMime,
      ...options.mimeTypes,
    ]);
  }
  if (!passed) failures++;
}
if (failures > 0) fail(`${failures} of ${selected.length} notebooks failed`);
console.log(`notebooks: ${selected.length} passed, 0 failed`);
