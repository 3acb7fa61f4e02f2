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

// The longest name a save keeps beside a folder NAME, beyond NAME itself:
// `.NAME.saving-PID-TIME`, with a pid of up to 7 digits and a time of 13.
const SIDE_NAME_EXTRA = ".".length + ".saving-".length + 7 + "-".length + 13;
// The longest file name most file systems take (NAME_MAX), in bytes.
const NAME_MAX = 255;

/**
 * Where a save of `dir` writes: `dir` itself, or for a symbolic link the folder it points to, so
 * that the link stays and the checkpoint lands where it leads (on another disk, say). Refuses,
 * naming the folder, what no save could use: a name too long for the hidden folders a save keeps
 * beside it, a file where one of the folders above it should be, and a mount point (which cannot
 * be renamed).
 */
export async function savingPlace(dir: string): Promise<string> {
  const bytes = new TextEncoder().encode(basename(resolve(dir))).length;
  if (bytes + SIDE_NAME_EXTRA > NAME_MAX) {
    throw new RangeError(
      `Cannot save checkpoint "${dir}": its name is ${bytes} bytes long, and a save keeps ` +
        `hidden folders beside it (".NAME.previous", ".NAME.saving-…") whose names would pass ` +
        `the file system's limit of ${NAME_MAX} bytes; give a name of at most ` +
        `${NAME_MAX - SIDE_NAME_EXTRA} bytes`,
    );
  }
  const file = await fileAbove(dir);
  if (file !== null) {
    throw new Error(`Cannot save checkpoint "${dir}": "${file}" is a file, not a folder`);
  }
  const place = await placeOf(dir).catch(() => {
    throw new Error(
      `Cannot save checkpoint "${dir}": it is a symbolic link to a folder that does not exist`,
    );
  });
  const info = await Deno.stat(place).catch(() => null);
  const parent = await Deno.stat(dirname(resolve(place))).catch(() => null);
  if (info?.isDirectory && parent && info.dev !== parent.dev) {
    throw new Error(
      `Cannot save checkpoint "${dir}": it is a mount point, which a save cannot replace; save ` +
        `into a folder inside it, such as "${join(dir, "run")}"`,
    );
  }
  return place;
}

/** `dir`, or for a symbolic link the path it leads to. */
export async function placeOf(dir: string): Promise<string> {
  const link = await Deno.lstat(dir).catch(() => null);
  return link?.isSymlink ? await Deno.realPath(dir) : dir;
}

/**
 * The nearest path above `dir` that exists, when it is not a folder (a file where a folder must
 * be), else `null`.
 */
export async function fileAbove(dir: string): Promise<string | null> {
  let path = dir;
  while (dirname(path) !== path) {
    path = dirname(path);
    try {
      return (await Deno.stat(path)).isDirectory ? null : path;
    } catch (error) {
      const missing = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory;
      if (!missing) throw error;
    }
  }
  return null;
}

// The lock file of a checkpoint folder, beside it: `.NAME.lock`, holding the saving process's id.
function lockFile(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.lock`);
}

// How many holders in this process each lock has (the callbacks and saves of one run share it).
const held = new Map<string, number>();

async function lockHolder(path: string): Promise<number | null> {
  const text = await Deno.readTextFile(path).catch(() => null);
  const pid = Number(text?.trim());
  return text !== null && Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function processAlive(pid: number): Promise<boolean> {
  if (pid === Deno.pid) return true;
  if (!(await exists("/proc/self"))) return true; // no way to tell: assume it runs
  return await exists(`/proc/${pid}`);
}

/**
 * The id of another process that holds the lock of `dir` and still runs, or `null`: a save of
 * that folder from here would interleave with its saves.
 */
export async function otherSaver(dir: string): Promise<number | null> {
  const pid = await lockHolder(lockFile(dir));
  return pid !== null && pid !== Deno.pid && (await processAlive(pid)) ? pid : null;
}

/**
 * Takes the lock of the checkpoint folder `dir` (a place from {@linkcode savingPlace}) for this
 * process: throws an `Error` naming the process and the folder when another process that still
 * runs holds it, and takes over a lock whose process has ended. Release it with
 * {@linkcode unlockFolder} as often as it was taken.
 */
export async function lockFolder(dir: string, shownAs = dir): Promise<void> {
  const path = lockFile(dir);
  await Deno.mkdir(dirname(path), { recursive: true });
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.writeTextFile(path, `${Deno.pid}\n`, { createNew: true });
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists) || attempt > 2) throw error;
    }
    const pid = await lockHolder(path);
    if (pid === Deno.pid) break;
    if (pid !== null && (await processAlive(pid))) {
      throw new Error(
        `Cannot save checkpoint "${shownAs}": process ${pid} is saving into this folder (its ` +
          `lock is "${path}"); give this run a folder of its own, or let that process finish`,
      );
    }
    await Deno.remove(path).catch(() => {}); // left by a process that has ended
  }
  held.set(path, (held.get(path) ?? 0) + 1);
}

/** Gives back a lock taken with {@linkcode lockFolder}; the last holder removes the file. */
export async function unlockFolder(dir: string): Promise<void> {
  const path = lockFile(dir);
  const count = (held.get(path) ?? 0) - 1;
  if (count > 0) {
    held.set(path, count);
    return;
  }
  held.delete(path);
  if ((await lockHolder(path)) === Deno.pid) await Deno.remove(path).catch(() => {});
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
