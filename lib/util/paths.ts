// Paths inside the project, resolved from this file's location so that they work from any
// working directory (a notebook's kernel starts in notebooks/, tests in the project root).
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path of the project's root folder. */
export const projectRoot: string = fileURLToPath(new URL("../..", import.meta.url));

/** Absolute path of the project's `datasets/` folder. */
export const datasetsDir: string = join(projectRoot, "datasets");
