// The crash-safe folder swap: a checkpoint is written into a temporary folder beside its own and
// renamed into place, the one it replaces kept aside until then; what an interrupted save left
// behind is put right by the next save or load.
import { basename, dirname, join, relative, resolve } from "node:path";
import { exists } from "../../util/fs.ts";
import { INFO_FILE, MODEL_FILE, OWN_FILES, WEIGHTS_FILE } from "./_format.ts";
import type { Snapshot } from "./_snapshot.ts";

// The folders a save of `dir` uses beside it: the checkpoint it replaces, and its temporary ones.
export function sideFolders(dir: string) {
  const prefix = `.${basename(dir)}.`;
  return {
    previous: join(dirname(dir), `${prefix}previous`),
    temporary: join(dirname(dir), `${prefix}saving-${Deno.pid}-${Date.now()}`),
    isTemporary: (name: string) => name.startsWith(`${prefix}saving-`),
  };
}

// Whether the process that made a temporary folder `.NAME.saving-PID-TIME` may still be saving.
async function saverAlive(name: string): Promise<boolean> {
  const pid = Number(/saving-(\d+)-\d+$/.exec(name)?.[1]);
  if (!Number.isInteger(pid) || pid === Deno.pid) return false;
  if (!(await exists("/proc/self"))) return false; // no way to tell: the folder is left over
  return await exists(`/proc/${pid}`);
}

/**
 * Refuses a `dir` that a checkpoint must not replace: the current folder or one holding it, a
 * file, or a folder with anything in it but a checkpoint's three files.
 */
async function checkTarget(dir: string): Promise<void> {
  const path = resolve(dir);
  const cwd = resolve(Deno.cwd());
  if (!relative(path, cwd).startsWith("..")) {
    throw new Error(
      `Cannot save checkpoint "${dir}": it is the current folder or holds it; give the run a ` +
        `folder of its own, such as "${join(dir, "run")}"`,
    );
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isDirectory) {
    throw new Error(`Cannot save checkpoint "${dir}": it is a file, not a folder`);
  }
  const others: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!OWN_FILES.has(entry.name) || !entry.isFile) others.push(entry.name);
  }
  if (others.length > 0) {
    const names = others.sort().slice(0, 5).map((n) => `"${n}"`).join(", ");
    throw new Error(
      `Cannot save checkpoint "${dir}": the folder holds ${names}${
        others.length > 5 ? ` and ${others.length - 5} more` : ""
      }, which are not part of a checkpoint, and saving would replace the folder. Give a new or ` +
        `empty folder, or one that holds only a checkpoint.`,
    );
  }
}

/**
 * Puts back the state a complete save leaves: if a save stopped between moving the old checkpoint
 * aside and moving the new one in, the old one goes back; a checkpoint moved aside whose
 * replacement is complete is removed, and so are the temporary folders of saves whose process
 * has ended.
 */
export async function recover(dir: string): Promise<void> {
  const { previous, isTemporary } = sideFolders(dir);
  if (await exists(previous)) {
    if (await exists(dir)) await Deno.remove(previous, { recursive: true });
    else await Deno.rename(previous, dir);
  }
  for await (const entry of Deno.readDir(dirname(dir))) {
    if (isTemporary(entry.name) && !(await saverAlive(entry.name))) {
      await Deno.remove(join(dirname(dir), entry.name), { recursive: true });
    }
  }
}

// Writes a snapshot and its record into `dir`: into a temporary folder beside it first, then
// renamed into place, the checkpoint it replaces moved aside until then. A snapshot already
// written elsewhere is linked rather than written again where the file system allows (its files
// are never changed in place, so two folders can share them).
export function writeCheckpoint(dir: string, snapshot: Snapshot, record: string): Promise<void> {
  const earlier = [...snapshot.writes];
  const write = (async () => {
    await Promise.allSettled(earlier);
    await Deno.mkdir(dirname(dir), { recursive: true });
    await recover(dir);
    await checkTarget(dir);
    const { previous, temporary } = sideFolders(dir);
    await Deno.mkdir(temporary);
    try {
      const weightsFile = join(temporary, WEIGHTS_FILE);
      const linked = snapshot.weightsAt !== undefined &&
        await Deno.link(snapshot.weightsAt, weightsFile).then(() => true, () => false);
      if (!linked) await Deno.writeFile(weightsFile, snapshot.weights);
      await Deno.writeFile(join(temporary, MODEL_FILE), snapshot.model);
      await Deno.writeTextFile(join(temporary, INFO_FILE), record);
      if (await exists(dir)) await Deno.rename(dir, previous);
      await Deno.rename(temporary, dir);
      await Deno.remove(previous, { recursive: true }).catch(() => {});
    } catch (error) {
      await Deno.remove(temporary, { recursive: true }).catch(() => {});
      throw error;
    }
    snapshot.weightsAt = join(dir, WEIGHTS_FILE);
  })();
  snapshot.writes.push(write);
  return write;
}
