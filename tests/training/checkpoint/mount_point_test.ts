// Checkpoint folders that cannot be renamed (mount points) are saved into. The tests mark an
// ordinary folder as such through `savedInside`, so that this way of saving is checked on every
// machine; where this process may mount file systems (as root on Linux), real mount points are
// saved into as well, and those tests are reported as ignored where it may not.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { join, resolve } from "node:path";
import { exists } from "@lib/util/fs.ts";
import * as tf from "@lib/tf.ts";
import {
  checkpointEachEpoch,
  loadCheckpoint,
  saveCheckpoint,
} from "@lib/training/checkpoint/mod.ts";
import { savedInside } from "@lib/training/checkpoint/_folder.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { compileModel, disposeModel, fitModel } from "@lib/training/fit.ts";
import { crashingAt, diskFullHalfway, recordOf } from "../_crashes.ts";

await tf.setBackend("cpu");

const root = await Deno.makeTempDir({ prefix: "signs-mount-point-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
let counter = 0;
const newDir = () => join(root, `disk-${++counter}`);

// Runs `body` with the folders `dirs` taken for folders that cannot be renamed.
async function unmovable(dirs: string[], body: () => Promise<void>): Promise<void> {
  const { test } = savedInside;
  const marked = new Set(dirs.map((dir) => resolve(dir)));
  savedInside.test = (dir) => Promise.resolve(marked.has(resolve(dir)));
  try {
    await body();
  } finally {
    savedInside.test = test;
  }
}

// A folder holding what a freshly formatted disk and its owner put there.
async function diskFolder(): Promise<string> {
  const dir = newDir();
  await Deno.mkdir(join(dir, "lost+found"), { recursive: true });
  await Deno.writeTextFile(join(dir, "lost+found", "#1234"), "found");
  await Deno.writeTextFile(join(dir, "notes.txt"), "mine");
  return dir;
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const DISK_AFTER_SAVE = ["checkpoint.json", "lost+found", "model.json", "notes.txt", "weights.bin"];

async function epochOf(dir: string): Promise<number> {
  const saved = await loadCheckpoint(dir);
  saved.model.dispose();
  return saved.epoch;
}

Deno.test("saveCheckpoint() saves into a folder that cannot be renamed, leaving the rest of it alone", async () => {
  const dir = await diskFolder();
  const before = await Deno.stat(dir);
  const model = convolutionalModel([8, 8, 3]);
  compileModel(model);
  const x = tf.zeros([4, 8, 8, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 6);
  await unmovable([dir], async () => {
    const history = await fitModel(model, x, y, {
      epochs: 2,
      batchSize: 2,
      log: null,
      onEpochEnd: checkpointEachEpoch(dir, model),
    });
    await saveCheckpoint(dir, model, { epoch: 2, history });
  });
  assertEquals((await Deno.stat(dir)).ino, before.ino, "the folder itself stays");
  assertEquals(names(dir), DISK_AFTER_SAVE, "nothing hidden left behind, nothing removed");
  assertEquals(await Deno.readTextFile(join(dir, "notes.txt")), "mine");
  assertEquals(await Deno.readTextFile(join(dir, "lost+found", "#1234")), "found");
  assertEquals(names(root).filter((n) => n.startsWith(".")), [], "nothing saved beside it");
  assertEquals(await epochOf(dir), 2);
  tf.dispose([x, y]);
  disposeModel(model);
});

Deno.test("saveCheckpoint() into a folder that cannot be renamed takes its lock inside it", async () => {
  const dir = await diskFolder();
  const model = convolutionalModel([8, 8, 3]);
  const other = new Deno.Command("sleep", { args: ["60"] }).spawn();
  try {
    await Deno.writeTextFile(join(dir, ".checkpoint.lock"), `${other.pid}\n`);
    await unmovable([dir], async () => {
      await assertRejects(
        () => saveCheckpoint(dir, model, recordOf(0)),
        Error,
        `Cannot save checkpoint "${dir}": process ${other.pid} is saving into this folder`,
      );
      await assertRejects(
        () => loadCheckpoint(dir),
        Error,
        `Cannot load checkpoint "${dir}": process ${other.pid} is saving into it`,
      );
    });
  } finally {
    other.kill();
    await other.status;
  }
  await unmovable([dir], () => saveCheckpoint(dir, model, recordOf(0)));
  assertEquals(names(dir), DISK_AFTER_SAVE, "the stale lock is taken over, then given back");
  model.dispose();
});

Deno.test("saveCheckpoint() into a folder that cannot be renamed keeps a good checkpoint through a crash at any step, and two in a row", async () => {
  const model = convolutionalModel([8, 8, 3]);
  // A save's renames and removals: the complete temporary folder becomes `.checkpoint.next` (1),
  // its three files are moved in (2 to 4), the empty folder is removed (5), the lock given back.
  for (let first = 1; first <= 6; first++) {
    for (let second = 0; second <= 7; second++) {
      const dir = await diskFolder();
      await unmovable([dir], async () => {
        await saveCheckpoint(dir, model, recordOf(1));
        const crashed = await crashingAt(first, () => saveCheckpoint(dir, model, recordOf(2)));
        const left = names(dir);
        const afterFirst = await epochOf(dir);
        assertEquals(names(dir), left, "loading changes nothing");
        assertEquals(afterFirst, first === 1 ? 1 : 2, `crash at step ${first}`);
        if (!crashed || second === 0) return;
        await crashingAt(second, () => saveCheckpoint(dir, model, recordOf(3)));
        const afterSecond = await epochOf(dir);
        assert(
          afterSecond >= afterFirst,
          `crashes at steps ${first} and ${second}: epoch ${afterSecond}, had ${afterFirst}`,
        );
        await saveCheckpoint(dir, model, recordOf(4));
      });
      if (second > 0) assertEquals(await epochOf(dir), 4, `after steps ${first} and ${second}`);
      assertEquals(await Deno.readTextFile(join(dir, "notes.txt")), "mine");
      if (second > 0) assertEquals(names(dir), DISK_AFTER_SAVE, "a clean save tidies up");
    }
  }
  model.dispose();
});

Deno.test("saveCheckpoint() into a folder that cannot be renamed keeps the last checkpoint when a write fails", async () => {
  const dir = await diskFolder();
  const model = convolutionalModel([8, 8, 3]);
  await unmovable([dir], async () => {
    await saveCheckpoint(dir, model, recordOf(1));
    await assertRejects(
      () => diskFullHalfway(() => saveCheckpoint(dir, model, recordOf(2))),
      Error,
      "disk full",
    );
  });
  assertEquals(await epochOf(dir), 1);
  assertEquals(names(dir), DISK_AFTER_SAVE, "the temporary folder is removed");
  model.dispose();
});

// Whether this process may mount file systems: it tries, on a folder of its own.
async function mayMount(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const probe = await Deno.makeTempDir({ dir: root });
  const run = (cmd: string, args: string[]) =>
    new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()
      .then((r) => r.success, () => false);
  const mounted = await run("mount", ["-t", "tmpfs", "none", probe]);
  if (mounted) await run("umount", [probe]);
  return mounted;
}

const mounting = await mayMount();

async function command(cmd: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command(cmd, { args, stdout: "null" }).output();
  if (!success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

Deno.test({
  name: "saveCheckpoint() saves into real mount points: a file system of its own, a bind mount",
  ignore: !mounting,
  fn: async () => {
    const model = convolutionalModel([8, 8, 3]);
    const disk = await diskFolder();
    const bound = await diskFolder();
    await command("mount", "-t", "tmpfs", "none", disk);
    await command("mount", "--bind", bound, bound); // the same device as its parent
    try {
      await Deno.writeTextFile(join(disk, "notes.txt"), "mine");
      for (const dir of [disk, bound]) {
        assert(await savedInside.test(dir), `${dir} is found to be a mount point`);
        for (const epoch of [1, 2]) await saveCheckpoint(dir, model, recordOf(epoch));
        assertEquals(await epochOf(dir), 2);
        assertEquals(await Deno.readTextFile(join(dir, "notes.txt")), "mine");
        assert(await exists(join(dir, "weights.bin")));
      }
      assert(!(await savedInside.test(root)), "an ordinary folder is not");
    } finally {
      await command("umount", disk);
      await command("umount", bound);
    }
    model.dispose();
  },
});
