import { assertResNet50Trains, assertTrainsLikeCpu, TRAINING_CASES } from "../_training_compare.ts";
import { onednn } from "./_compare.ts";

for (const [name, build, shape] of TRAINING_CASES) {
  Deno.test({
    name: `two training steps of ${name} give the same losses and weights on onednn and cpu`,
    ignore: !onednn.available,
    fn: () => assertTrainsLikeCpu("onednn", build, shape),
  });
}

Deno.test({
  name: "ResNet-50 trains on onednn: every kernel exists, the loss is finite, no tensors leak",
  ignore: !onednn.available,
  fn: () => assertResNet50Trains("onednn"),
});
