import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { ONEDNN_FAMILIES, registerOnednnBackend } from "@lib/backends/onednn/mod.ts";
import { ONEDNN_KERNELS } from "@lib/backends/onednn/_kernels.ts";
import { onednn } from "./_compare.ts";

Deno.test({
  name: "registerOnednnBackend() is idempotent and names its library and kernels",
  ignore: !onednn.available,
  async fn() {
    const again = await registerOnednnBackend();
    assert(again.available);
    assert(again === onednn, "the same status object");
    assert(again.reason.includes("libdnnl"), again.reason);
    for (const family of ONEDNN_FAMILIES) assert(again.reason.includes(family), again.reason);
  },
});

Deno.test({
  name: "registerOnednnBackend() registers every kernel of its table in place of the wasm one",
  ignore: !onednn.available,
  fn() {
    assertEquals(ONEDNN_FAMILIES, [
      "convolution",
      "pooling",
      "batch normalisation",
      "element-wise",
    ]);
    for (const { name } of ONEDNN_KERNELS) {
      const own = tf.getKernel(name, "onednn")?.kernelFunc;
      assert(own, `${name} is registered for onednn`);
      assert(own !== tf.getKernel(name, "wasm")?.kernelFunc, `${name} is oneDNN's own`);
    }
  },
});

/**
 * Registers onednn in a new process with `env` as its whole environment: its stdout (the status
 * as JSON, then what the registration left in OMP_WAIT_POLICY and GOMP_SPINCOUNT) and its stderr.
 */
async function registerInChild(env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { registerOnednnBackend } from "${
        new URL("../../../lib/backends/onednn/mod.ts", import.meta.url).href
      }";
      console.log(JSON.stringify(await registerOnednnBackend()));
      console.log("left in the environment: " + Deno.env.get("OMP_WAIT_POLICY") + " " +
        Deno.env.get("GOMP_SPINCOUNT"));`,
    ],
    env: { HOME: Deno.env.get("HOME") ?? "/tmp", PATH: Deno.env.get("PATH") ?? "", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

Deno.test({
  name: "registerOnednnBackend() reports a missing library in one line instead of throwing",
  async fn() {
    const { stdout } = await registerInChild({ ONEDNN_LIBRARY: "/nonexistent/libdnnl.so.2" });
    const status = JSON.parse(stdout.split("\n").find((line) => line.startsWith("{"))!);
    assert(!status.available);
    assert(!status.reason.includes("\n"), status.reason);
    assert(status.reason.includes("/nonexistent/libdnnl.so.2"), status.reason);
  },
});

/** What libgomp reports of its settings (OMP_DISPLAY_ENV), and the child's own output. */
async function openMpSettings(env: Record<string, string>): Promise<string> {
  const { stdout, stderr } = await registerInChild({ ...env, OMP_DISPLAY_ENV: "verbose" });
  return stderr + stdout;
}

Deno.test({
  name: "registerOnednnBackend() has OpenMP's threads wait passively after a short spin, as " +
    "libgomp itself reports",
  ignore: !onednn.available,
  async fn() {
    const passive = await openMpSettings({});
    assert(/OMP_WAIT_POLICY = 'PASSIVE'/.test(passive), passive);
    assert(/GOMP_SPINCOUNT = '3000'/.test(passive), passive);
    assert(passive.includes("passive waiting after 3000 spins"), passive);
    assert(passive.includes("left in the environment: undefined undefined"), passive);
    const active = await openMpSettings({ OMP_WAIT_POLICY: "active" });
    assert(/OMP_WAIT_POLICY = 'ACTIVE'/.test(active), active);
    assert(!/GOMP_SPINCOUNT = '3000'/.test(active), active);
    const theirs = await openMpSettings({ GOMP_SPINCOUNT: "20" });
    assert(/GOMP_SPINCOUNT = '20'/.test(theirs), theirs);
    assert(theirs.includes("left in the environment: undefined 20"), theirs);
  },
});
