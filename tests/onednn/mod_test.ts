import { assert } from "@std/assert";
import { registerOnednnBackend } from "@lib/onednn/mod.ts";
import { onednn } from "./_compare.ts";

Deno.test({
  name: "registerOnednnBackend() is idempotent and names its library and kernels",
  ignore: !onednn.available,
  async fn() {
    const again = await registerOnednnBackend();
    assert(again.available);
    assert(again === onednn, "the same status object");
    assert(again.reason.includes("libdnnl"), again.reason);
    assert(again.reason.includes("convolutions"), again.reason);
  },
});

Deno.test({
  name: "registerOnednnBackend() reports a missing library in one line instead of throwing",
  async fn() {
    const command = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { registerOnednnBackend } from "${
          new URL("../../lib/onednn/mod.ts", import.meta.url).href
        }";
        console.log(JSON.stringify(await registerOnednnBackend()));`,
      ],
      env: { ONEDNN_LIBRARY: "/nonexistent/libdnnl.so.2" },
      stdout: "piped",
      stderr: "piped",
    });
    const output = await command.output();
    const status = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
    assert(!status.available);
    assert(!status.reason.includes("\n"), status.reason);
    assert(status.reason.includes("/nonexistent/libdnnl.so.2"), status.reason);
  },
});

/** What libgomp reports of its settings (OMP_DISPLAY_ENV) in a process that registers onednn. */
async function openMpSettings(env: Record<string, string>): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { registerOnednnBackend } from "${
        new URL("../../lib/onednn/mod.ts", import.meta.url).href
      }";
      console.log(JSON.stringify(await registerOnednnBackend()));
      console.log("left in the environment: " + Deno.env.get("OMP_WAIT_POLICY"));`,
    ],
    env: { ...env, OMP_DISPLAY_ENV: "true" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
}

Deno.test({
  name: "registerOnednnBackend() has OpenMP's threads wait passively, as libgomp itself reports",
  ignore: !onednn.available,
  async fn() {
    const home = { HOME: Deno.env.get("HOME") ?? "/tmp", PATH: Deno.env.get("PATH") ?? "" };
    const passive = await openMpSettings(home);
    assert(/OMP_WAIT_POLICY = 'PASSIVE'/.test(passive), passive);
    assert(passive.includes("passive waiting"), passive);
    assert(passive.includes("left in the environment: undefined"), passive);
    const active = await openMpSettings({ ...home, OMP_WAIT_POLICY: "active" });
    assert(/OMP_WAIT_POLICY = 'ACTIVE'/.test(active), active);
  },
});
