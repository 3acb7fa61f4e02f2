import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import * as tf from "@lib/tf.ts";
import { backendReport, useBackend } from "@lib/backends/mod.ts";
import { registerOnednnBackend } from "@lib/backends/onednn/mod.ts";

Deno.test("backendReport() before any choice says to call useBackend()", () => {
  assertThrows(() => backendReport(), Error, "call useBackend() first");
});

Deno.test("useBackend() with an explicit choice activates it and says so", async () => {
  const lines: string[] = [];
  assertEquals(await useBackend("cpu", { log: (line) => lines.push(line) }), "cpu");
  assertEquals(tf.getBackend(), "cpu");
  assertEquals(lines, [
    "backend cpu: plain JavaScript, always available (slow) (chosen explicitly)",
  ]);
  assertEquals(backendReport().explicit, true);
});

Deno.test("useBackend() rejects an unknown name and an unavailable explicit choice", async () => {
  await assertRejects(
    () => useBackend("tpu"),
    RangeError,
    `Cannot use backend "tpu": expected one of`,
  );
  const error = await assertRejects(() => useBackend("tensorflow", { log: null }), Error);
  assertStringIncludes(
    error.message,
    `Cannot use backend "tensorflow": neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed`,
  );
});

Deno.test("useBackend() without a choice takes the first available backend, one line per backend", async () => {
  const lines: string[] = [];
  const name = await useBackend(undefined, { log: (line) => lines.push(line) });
  const report = backendReport();
  assertEquals(report.name, name);
  assertEquals(tf.getBackend(), name);
  const tried = report.attempts.map((a) => a.name);
  assertEquals(tried, ["tensorflow", "webgpu", "onednn", "wasm", "cpu"].slice(0, tried.length));
  assert(
    report.attempts.slice(0, -1).every((a) => !a.available),
    "every backend before the choice was unavailable",
  );
  assertEquals(lines.length, tried.length);
  // without native TensorFlow or a hardware GPU: onednn where libdnnl is installed, else wasm
  if (!report.attempts.some((a) => ["tensorflow", "webgpu"].includes(a.name) && a.available)) {
    assertEquals(name, (await registerOnednnBackend()).available ? "onednn" : "wasm");
  }
});

Deno.test("useBackend() follows SIGNS_BACKEND when no name is given", async () => {
  Deno.env.set("SIGNS_BACKEND", "cpu");
  try {
    assertEquals(await useBackend(undefined, { log: null }), "cpu");
  } finally {
    Deno.env.delete("SIGNS_BACKEND");
  }
});
