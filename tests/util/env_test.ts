import { assertEquals } from "@std/assert";
import { join } from "node:path";
import { readEnv } from "@lib/util/env.ts";

Deno.test("readEnv() returns a variable's value, and undefined when it is unset", () => {
  Deno.env.set("SIGNS_ENV_TEST", " 3 ");
  try {
    assertEquals(readEnv("SIGNS_ENV_TEST"), " 3 ");
  } finally {
    Deno.env.delete("SIGNS_ENV_TEST");
  }
  assertEquals(readEnv("SIGNS_ENV_TEST"), undefined);
});

Deno.test("readEnv() returns undefined where the program may not read the environment", async () => {
  const module = join(import.meta.dirname!, "..", "..", "lib", "util", "env.ts");
  const script = `import { readEnv } from ${JSON.stringify(module)};` +
    `console.log(JSON.stringify(readEnv("HOME") ?? null));`;
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "read_home.ts");
    await Deno.writeTextFile(file, script);
    // deno run grants nothing unasked: the module may be read, the environment may not.
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", `--allow-read=${module}`, file],
      env: { HOME: "/somewhere" },
    }).output();
    assertEquals(new TextDecoder().decode(output.stderr), "");
    assertEquals(new TextDecoder().decode(output.stdout).trim(), "null");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
