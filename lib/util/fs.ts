// Small file-system helpers shared by the modules that read and write files.

/** Whether something exists at `path` (errors other than "not found" are thrown). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
