// The crash-safe folder swap: a checkpoint is written into a temporary folder beside its own and
// renamed into place, the one it replaces kept aside until then. A folder that cannot be renamed
// (a mount point) is saved into instead: the temporary folder is made inside it, renamed to
// `.checkpoint.next` once complete, and its files are then renamed into place one by one. What an
// interrupted save left behind is put right by the next save, and read past by a load.
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

// The folders a save into `dir` uses inside it, when `dir` cannot be renamed: its temporary
// ones, and the complete checkpoint whose files are being moved into place.
function insideFolders(dir: string) {
  return {
    next: join(dir, ".checkpoint.next"),
    temporary: join(dir, `.checkpoint.saving-${Deno.pid}-${Date.now()}`),
    isTemporary: (name: string) => name.startsWith(".checkpoint.saving-"),
  };
}

// A path as /proc/self/mountinfo writes it: space, tab, newline and backslash in octal escapes.
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, code) => String.fromCharCode(parseInt(code, 8)));
}

/**
 * Whether `dir` is an existing folder on which something is mounted: a file system of its own
 * (its device differs from its parent's), or a bind mount, which Linux lists in
 * `/proc/self/mountinfo` even on the parent's device.
 */
async function isMountPoint(dir: string): Promise<boolean> {
  const info = await Deno.stat(dir).catch(() => null);
  if (!info?.isDirectory) return false;
  const path = await Deno.realPath(dir);
  if (info.dev !== (await Deno.stat(dirname(path))).dev) return true;
  const table = await Deno.readTextFile("/proc/self/mountinfo").catch(() => "");
  return table.split("\n").some((line) => unescapeMountPath(line.split(" ")[4] ?? "") === path);
}

/**
 * Whether a save of the folder `dir` writes inside it rather than replacing it: `test` says so
 * for a folder that cannot be renamed (a mount point). Tests replace `test`, so that this way of
 * saving is checked where nothing can be mounted.
 */
export const savedInside: { test: (dir: string) => Promise<boolean> } = { test: isMountPoint };

// The longest name a save keeps beside a folder NAME, beyond NAME itself:
// `.NAME.saving-PID-TIME`, with a pid of up to 7 digits and a time of 13.
const SIDE_NAME_EXTRA = ".".length + ".saving-".length + 7 + "-".length + 13;
// The longest file name most file systems take (NAME_MAX), in bytes.
const NAME_MAX = 255;

/**
 * Where a save of `dir` writes: `dir` itself, or for a symbolic link the folder it points to, so
 * that the link stays and the checkpoint lands where it leads (on another disk, say). Refuses,
 * naming the folder, what no save could use: a file where one of the folders above it should be,
 * and a name too long for the hidden folders a save keeps beside it (a mount point, saved into,
 * keeps none there).
 */
export async function savingPlace(dir: string): Promise<string> {
  const file = await fileAbove(dir);
  if (file !== null) {
    throw new Error(`Cannot save checkpoint "${dir}": "${file}" is a file, not a folder`);
  }
  const place = await placeOf(dir).catch(() => {
    throw new Error(
      `Cannot save checkpoint "${dir}": it is a symbolic link to a folder that does not exist`,
    );
  });
  if (await savedInside.test(place)) return place;
  const bytes = new TextEncoder().encode(basename(resolve(place))).length;
  if (bytes + SIDE_NAME_EXTRA > NAME_MAX) {
    throw new RangeError(
      `Cannot save checkpoint "${dir}": its name is ${bytes} bytes long, and a save keeps ` +
        `hidden folders beside it (".NAME.previous", ".NAME.saving-…") whose names would pass ` +
        `the file system's limit of ${NAME_MAX} bytes; give a name of at most ` +
        `${NAME_MAX - SIDE_NAME_EXTRA} bytes`,
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

// The lock file of a checkpoint folder, holding the saving process's id: `.NAME.lock` beside it,
// or `.checkpoint.lock` inside a folder that is saved into.
async function lockFile(dir: string): Promise<string> {
  return (await savedInside.test(dir))
    ? join(dir, ".checkpoint.lock")
    : join(dirname(dir), `.${basename(dir)}.lock`);
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
  const pid = await lockHolder(await lockFile(dir));
  return pid !== null && pid !== Deno.pid && (await processAlive(pid)) ? pid : null;
}

/**
 * Takes the lock of the checkpoint folder `dir` (a place from {@linkcode savingPlace}) for this
 * process: throws an `Error` naming the process and the folder when another process that still
 * runs holds it, and takes over a lock whose process has ended. Release it with
 * {@linkcode unlockFolder} as often as it was taken.
 */
export async function lockFolder(dir: string, shownAs = dir): Promise<void> {
  const path = await lockFile(dir);
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
  const path = await lockFile(dir);
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
 * Refuses a `dir` that a checkpoint must not be saved to: the current folder or one holding it, a
 * file, or (unless the save goes `inside` it, leaving the rest alone) a folder with anything in it
 * but a checkpoint's three files.
 */
async function checkTarget(dir: string, inside: boolean): Promise<void> {
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
  if (inside) return;
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

// Removes the temporary folders in `folder` (those `isTemporary` names) of saves whose process
// has ended.
async function removeLeftovers(folder: string, isTemporary: (name: string) => boolean) {
  for await (const entry of Deno.readDir(folder)) {
    if (isTemporary(entry.name) && !(await saverAlive(entry.name))) {
      await Deno.remove(join(folder, entry.name), { recursive: true });
    }
  }
}

/**
 * Puts back the state a complete save beside `dir` leaves: if a save stopped between moving the
 * old checkpoint aside and moving the new one in, the old one goes back; a checkpoint moved aside
 * whose replacement is complete is removed, and so are the temporary folders of saves whose
 * process has ended.
 */
async function recover(dir: string): Promise<void> {
  const { previous, isTemporary } = sideFolders(dir);
  if (await exists(previous)) {
    if (await exists(dir)) await Deno.remove(previous, { recursive: true });
    else await Deno.rename(previous, dir);
  }
  await removeLeftovers(dirname(dir), isTemporary);
}

// Moves the files of the complete checkpoint in `next` into `dir`, each replacing its namesake in
// one rename (so that each file in `dir` is at any moment the old one or the new one, and those
// still in `next` are new), then removes `next`.
async function moveIn(next: string, dir: string): Promise<void> {
  for (const name of OWN_FILES) {
    if (await exists(join(next, name))) await Deno.rename(join(next, name), join(dir, name));
  }
  await Deno.remove(next, { recursive: true });
}

/**
 * Puts back the state a complete save inside `dir` leaves: a checkpoint that was complete in
 * `.checkpoint.next` has the rest of its files moved into place, and the temporary folders of
 * saves whose process has ended are removed.
 */
async function recoverInside(dir: string): Promise<void> {
  const { next, isTemporary } = insideFolders(dir);
  if (await exists(next)) await moveIn(next, dir);
  await removeLeftovers(dir, isTemporary);
}

/**
 * The paths of the checkpoint saved at `dir`, by file name, or `null` when nothing is saved
 * there. A save that stopped part-way is read as the next save would complete it, and nothing is
 * changed: the checkpoint moved aside when `dir` itself is gone, and the files still waiting in
 * `.checkpoint.next` inside it.
 */
export async function checkpointFiles(dir: string): Promise<Record<string, string> | null> {
  const { previous } = sideFolders(dir);
  const source = !(await exists(dir)) && (await exists(previous)) ? previous : dir;
  if (!(await exists(source))) return null;
  const { next } = insideFolders(source);
  const files: Record<string, string> = {};
  for (const name of OWN_FILES) {
    const waiting = join(next, name);
    files[name] = (await exists(waiting)) ? waiting : join(source, name);
  }
  return files;
}

// `bytes` as a stream of 16 MB slices. Deno.writeFile copies a whole array before writing it (283
// MB for ResNet-50 with its Adam state, which raised a run's peak memory by as much), but writes a
// stream slice by slice.
function slices(bytes: Uint8Array, size = 1 << 24): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + size));
      at += size;
    },
  });
}

// Writes the files of a snapshot and its record into the new folder `folder`. A snapshot already
// written elsewhere is linked rather than written again where the file system allows (its files
// are never changed in place, so two folders can share them).
async function writeFiles(folder: string, snapshot: Snapshot, record: string): Promise<void> {
  const weightsFile = join(folder, WEIGHTS_FILE);
  const linked = snapshot.weightsAt !== undefined &&
    await Deno.link(snapshot.weightsAt, weightsFile).then(() => true, () => false);
  if (!linked) await Deno.writeFile(weightsFile, slices(snapshot.weights));
  await Deno.writeFile(join(folder, MODEL_FILE), snapshot.model);
  await Deno.writeTextFile(join(folder, INFO_FILE), record);
}

// Saves by replacing `dir`: written into a temporary folder beside it, then renamed into place,
// the checkpoint it replaces moved aside until then.
async function saveBeside(dir: string, snapshot: Snapshot, record: string): Promise<void> {
  await Deno.mkdir(dirname(dir), { recursive: true });
  await recover(dir);
  await checkTarget(dir, false);
  const { previous, temporary } = sideFolders(dir);
  await Deno.mkdir(temporary);
  try {
    await writeFiles(temporary, snapshot, record);
    if (await exists(dir)) await Deno.rename(dir, previous);
    await Deno.rename(temporary, dir);
    await Deno.remove(previous, { recursive: true }).catch(() => {});
  } catch (error) {
    await Deno.remove(temporary, { recursive: true }).catch(() => {});
    throw error;
  }
}

// Saves into `dir`, which stays: written into a temporary folder inside it, renamed to
// `.checkpoint.next` once complete, whose files then replace the checkpoint's one by one.
// Nothing else in `dir` is touched.
async function saveInside(dir: string, snapshot: Snapshot, record: string): Promise<void> {
  await recoverInside(dir);
  await checkTarget(dir, true);
  const { next, temporary } = insideFolders(dir);
  await Deno.mkdir(temporary);
  try {
    await writeFiles(temporary, snapshot, record);
    await Deno.rename(temporary, next);
  } catch (error) {
    await Deno.remove(temporary, { recursive: true }).catch(() => {});
    throw error;
  }
  await moveIn(next, dir);
}

// Writes a snapshot and its record into `dir` (a place from `savingPlace`), replacing the folder,
// or saving into it when it cannot be renamed, after the earlier writes of the same snapshot.
export function writeCheckpoint(dir: string, snapshot: Snapshot, record: string): Promise<void> {
  const earlier = [...snapshot.writes];
  const write = (async () => {
    await Promise.allSettled(earlier);
    const save = (await savedInside.test(dir)) ? saveInside : saveBeside;
    await save(dir, snapshot, record);
    snapshot.weightsAt = join(dir, WEIGHTS_FILE);
  })();
  snapshot.writes.push(write);
  return write;
}
