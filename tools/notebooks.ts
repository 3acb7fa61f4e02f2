// Executes the notebooks headless with Deno's Jupyter kernel and checks their outputs.
//
//   deno run -A tools/notebooks.ts [--quick] [NAME ...]
//
// NAME is a notebook file or its number (01, 02); by default both run. --quick shortens training
// (SIGNS_EPOCHS, SIGNS_TRAIN_LIMIT, unless already set) for CI and keeps its checkpoints in a
// temporary folder (SIGNS_CHECKPOINT_DIR). Executed notebooks and HTML copies
// are written to build/notebooks/. The exit status is non-zero when a cell fails or an expected
// output is missing.
import { join } from "node:path";
import { projectRoot } from "../lib/_paths.ts";

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
      '<table class="dataframe">',
      "The number of this image is",
      "all tests passed",
      "Plotly chart: Confusion matrix",
      "misclassified (true → predicted)",
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
      "Plotly chart: Confusion matrix",
      "misclassified (true → predicted)",
    ],
    expectQuick: ["No saved model in"],
    expectMime: RICH,
    epochs: 20,
    quick: { SIGNS_EPOCHS: "2", SIGNS_TRAIN_LIMIT: "64" },
  },
];

const args = [...Deno.args];
const quick = args.includes("--quick");
const names = args.filter((a) => !a.startsWith("--"));
const selected = names.length === 0 ? NOTEBOOKS : names.map((name) => {
  const found = NOTEBOOKS.find((n) => n.file === name || n.file.includes(`/${name}`));
  if (!found) {
    console.error(
      `notebooks: unknown notebook "${name}" (known: ${NOTEBOOKS.map((n) => n.file).join(", ")})`,
    );
    Deno.exit(2);
  }
  return found;
});

const python = "/usr/bin/python3";
const probe = await new Deno.Command(python, {
  args: ["-c", "import nbclient, nbconvert"],
  stderr: "null",
})
  .output().catch(() => null);
if (!probe?.success) {
  console.error(
    "notebooks: Debian's python3-nbclient and jupyter-nbconvert are needed to execute notebooks " +
      "headless (deno task setup installs them as root).",
  );
  Deno.exit(1);
}

// What a run must show: the fixed texts, the live view's last epoch (unless a saved run was
// loaded, in which case no epoch runs), and in quick mode the fresh start.
function expected(notebook: NotebookRun, env: Record<string, string>): string[] {
  const epochs = env.SIGNS_EPOCHS ?? Deno.env.get("SIGNS_EPOCHS") ?? String(notebook.epochs);
  return [
    ...notebook.expect,
    ...(quick ? [...notebook.expectQuick, `Epoch ${epochs}/${epochs}`] : []),
  ];
}

let failures = 0;
for (const notebook of selected) {
  const env: Record<string, string> = {};
  if (quick) {
    for (const [name, value] of Object.entries(notebook.quick)) {
      env[name] = Deno.env.get(name) ?? value;
    }
    // A quick run always trains: no checkpoint of an earlier run is found.
    env.SIGNS_CHECKPOINT_DIR = await Deno.makeTempDir({ prefix: "signs-checkpoints-" });
  }
  console.log(
    `notebooks: running ${notebook.file}${quick ? ` in quick mode (${JSON.stringify(env)})` : ""}`,
  );
  const command = new Deno.Command(python, {
    args: [
      join(projectRoot, "tools", "run_notebook.py"),
      "--deno",
      Deno.execPath(),
      "--out",
      join(projectRoot, "build", "notebooks"),
      "--html",
      ...expected(notebook, env).flatMap((text) => ["--expect", text]),
      ...notebook.expectMime.flatMap((mime) => ["--expect-mime", mime]),
      join(projectRoot, notebook.file),
    ],
    env,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { success } = await command.output();
  if (!success) failures++;
  if (env.SIGNS_CHECKPOINT_DIR) await Deno.remove(env.SIGNS_CHECKPOINT_DIR, { recursive: true });
}
if (failures > 0) {
  console.error(`notebooks: ${failures} of ${selected.length} notebooks failed`);
  Deno.exit(1);
}
console.log(`notebooks: ${selected.length} passed, 0 failed`);
