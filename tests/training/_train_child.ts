// A training run for the kill-and-resume test: trains a tiny model for EPOCHS epochs with a
// checkpoint after each, resuming from the checkpoint in DIR when there is one. Prints
// "saved epoch N" once each checkpoint is written, then pauses briefly so the test can stop it part-way.
import * as tf from "@lib/tf.ts";
import { checkpointEachEpoch, loadCheckpointIfPresent } from "@lib/training/checkpoint/mod.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { compileModel, fitModel } from "@lib/training/fit.ts";
import { seedRandom } from "@lib/training/random.ts";

const [dir, epochsText] = Deno.args;
const epochs = Number(epochsText);
await tf.setBackend("cpu");
seedRandom(1);
const resumed = await loadCheckpointIfPresent(dir);
const model = resumed?.model ?? convolutionalModel([8, 8, 3]);
if (!resumed) compileModel(model);
console.log(resumed ? `resumed at epoch ${resumed.epoch}` : "started");
const x = tf.randomUniform([16, 8, 8, 3], 0, 1, "float32", 2);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 6), "int32"), 6);
const save = checkpointEachEpoch(dir, model, { seed: 1 });
await fitModel(model, x, y, {
  epochs,
  batchSize: 8,
  initialEpoch: resumed?.epoch ?? 0,
  history: resumed?.history,
  log: null,
  onEpochEnd: async (result) => {
    await save(result);
    await save.finish?.();
    console.log(`saved epoch ${result.epoch}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  },
});
console.log("finished");
