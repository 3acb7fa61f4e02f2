import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { backendReport, useBackend } from "@lib/backends/mod.ts";
import { MAX_WASM_THREADS, requestedWasmThreads } from "@lib/backends/wasm/mod.ts";

await useBackend("wasm", { log: null });

const env = (value?: string) => (name: string) => name === "SIGNS_WASM_THREADS" ? value : undefined;

Deno.test("SIGNS_WASM_THREADS sets the wasm backend's threads; unset, every CPU up to 8", () => {
  assertEquals(requestedWasmThreads(env("1")), 1);
  assertEquals(requestedWasmThreads(env(" 3 ")), 3);
  assertEquals(
    requestedWasmThreads(env()),
    Math.min(navigator.hardwareConcurrency, MAX_WASM_THREADS),
  );
  assertEquals(requestedWasmThreads(env("")), requestedWasmThreads(env()));
  for (const bad of ["0", "two", "1.5", "-2"]) {
    assertThrows(
      () => requestedWasmThreads(env(bad)),
      RangeError,
      `SIGNS_WASM_THREADS="${bad}": expected a positive integer`,
    );
  }
  assertThrows(
    () => requestedWasmThreads(env("9")),
    RangeError,
    'SIGNS_WASM_THREADS="9": expected at most 8 threads',
  );
});

Deno.test("the wasm backend runs on every CPU here, up to 8, and says so", () => {
  const threads = requestedWasmThreads();
  const reason = backendReport().reason;
  assertStringIncludes(reason, threads === 1 ? "SIMD, 1 thread)" : `SIMD, ${threads} threads)`);
});

async function childRun(threads: number) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_threads_child.ts", import.meta.url).pathname],
    env: { SIGNS_WASM_THREADS: String(threads) },
    stderr: "inherit",
    // It must end by itself once done: pool threads that kept it alive would hang it here.
    signal: AbortSignal.timeout(120_000),
  }).output();
  assert(output.success, `the child on ${threads} threads failed or did not end (${output.code})`);
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!) as { reason: string; losses: number[]; weights: number[][] };
}

Deno.test({
  name: "two training steps on wasm give the very same losses and weights on 1 and 2 threads",
  ignore: navigator.hardwareConcurrency < 2,
  fn: async () => {
    const one = await childRun(1);
    const two = await childRun(2);
    assertStringIncludes(one.reason, "SIMD, 1 thread)");
    assertStringIncludes(two.reason, "SIMD, 2 threads)");
    assertEquals(two.losses, one.losses);
    assertEquals(two.weights.length, one.weights.length);
    for (let i = 0; i < one.weights.length; i++) assertEquals(two.weights[i], one.weights[i]);
    assert(one.losses.every(Number.isFinite) && one.weights.length > 10);
  },
});
