import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "node:path";

const script = join(import.meta.dirname!, "..", "..", "tools", "gpu_check.ts");

Deno.test("gpu-check says there is no GPU backend and why, and exits 0", async () => {
  // SIGNS_BACKEND must not leak into the checks, and no GPU package is installed here.
  const env = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete (env as Record<string, string>).SIGNS_BACKEND;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--backends=tensorflow"],
    env,
    clearEnv: true,
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  assertEquals(output.code, 0);
  assert(text.startsWith("gpu-check: no GPU backend here (tensorflow: "), text);
  assertStringIncludes(
    text,
    "neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed",
  );
});

Deno.test("gpu-check refuses a bad option, naming it", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--epochs=two"],
  }).output();
  assertEquals(output.code, 2);
  assertStringIncludes(
    new TextDecoder().decode(output.stderr),
    'gpu-check: --epochs must be a positive integer, got "two"',
  );
});
