// Two training steps of the small residual network on `wasm`, on as many threads as
// SIGNS_WASM_THREADS asks for; prints the backend line, the losses and the weights as one JSON
// line (for threads_test.ts, which compares thread counts).
import { backendReport, useBackend } from "@lib/backends/mod.ts";
import { smallResNet, twoSteps } from "../_training_compare.ts";

await useBackend("wasm", { log: null });
const run = await twoSteps("wasm", smallResNet, [8, 24, 24, 3]);
console.log(JSON.stringify({
  reason: backendReport().reason,
  losses: run.losses,
  weights: run.weights.map((w) => Array.from(w)),
}));
