import { assert, assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { useBackend } from "@lib/backends/mod.ts";
import { registerTrainingKernels, WASM_TRAINING_KERNELS } from "@lib/backends/wasm/mod.ts";

await useBackend("wasm", { log: null });

Deno.test("registerTrainingKernels() is idempotent; the kernels it lists are registered", () => {
  assertEquals(registerTrainingKernels(), 0);
  const registered = new Set(tf.getKernelsForBackend("wasm").map((k) => k.kernelName));
  for (const name of WASM_TRAINING_KERNELS) assert(registered.has(name), name);
});
