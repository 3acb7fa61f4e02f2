import { useBackend } from "@lib/backends/mod.ts";
import { assertResNet50Trains, assertTrainsLikeCpu, TRAINING_CASES } from "../_training_compare.ts";

await useBackend("wasm", { log: null });

for (const [name, build, shape] of TRAINING_CASES) {
  Deno.test(
    `two training steps of ${name} give the same losses and weights on wasm and cpu`,
    () => assertTrainsLikeCpu("wasm", build, shape),
  );
}

Deno.test(
  "ResNet-50 trains on wasm: every kernel exists, the loss is finite, no tensors leak",
  () => assertResNet50Trains("wasm"),
);
