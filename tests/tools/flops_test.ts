import { assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { convolutionalModel } from "@lib/models/baseline.ts";
import { resNet50 } from "@lib/models/resnet.ts";
import { modelFlops } from "../../tools/_flops.ts";

await tf.setBackend("cpu");

Deno.test("modelFlops() counts the baseline's multiply-adds layer by layer", () => {
  const model = convolutionalModel([64, 64, 3]);
  // conv2d_1: 4·4·3·8 weights at 64·64 pixels; conv2d_2: 2·2·8·16 at 8·8; dense: 64·6
  const macs = [4 * 4 * 3 * 8 * 64 * 64, 2 * 2 * 8 * 16 * 8 * 8, 64 * 6];
  assertEquals(modelFlops(model), {
    forward: 2 * (macs[0] + macs[1] + macs[2]),
    convolutionForward: 2 * (macs[0] + macs[1]),
    // the first convolution has no input gradient: forward and filter gradient only
    trainingStep: 2 * (2 * macs[0] + 3 * macs[1] + 3 * macs[2]),
    convolutionTrainingStep: 2 * (2 * macs[0] + 3 * macs[1]),
  });
  model.dispose();
});

Deno.test("modelFlops() gives ResNet-50 on 64x64 images about 0.62 GFLOP forward per image", () => {
  const model = resNet50();
  const flops = modelFlops(model);
  assertEquals(Math.round(flops.forward / 1e6), 616);
  assertEquals(Math.round(flops.trainingStep / 1e6), 1830);
  model.dispose();
});
