// Copies the SIGNS files into datasets/ when missing and verifies them (part of `deno task setup`).
// SIGNS_DATA_SOURCE names another folder to copy from (lib/training/settings.ts, dataSourceDir).
import { prepareSignsFiles } from "./_datasets.ts";

try {
  const files = await prepareSignsFiles();
  for (const file of files) {
    console.log(`setup: ${file.copied ? "copied" : "found"} ${file.path}: ${file.copy}`);
  }
} catch (error) {
  console.error(`setup: ${(error as Error).message}`);
  Deno.exit(1);
}
