import { assertEquals, assertThrows } from "@std/assert";
import { historyFrame } from "@lib/training/history.ts";

Deno.test("historyFrame() has one row per epoch and Keras's column names", () => {
  const frame = historyFrame({
    epoch: [1, 2, 3],
    loss: [1.7, 1.2, 0.9],
    accuracy: [0.4, 0.6, 0.7],
    val_loss: [1.6, 1.3, 1.0],
    val_accuracy: [0.45, 0.55, 0.65],
  });
  assertEquals(frame.columns, ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]);
  assertEquals(frame.height, 3);
  assertEquals(frame.getColumn("val_accuracy").toArray(), [0.45, 0.55, 0.65]);
  assertEquals(frame.getColumn("epoch").toArray(), [1, 2, 3]);
});

Deno.test("historyFrame() rejects columns of different lengths, naming the column", () => {
  assertThrows(
    () => historyFrame({ epoch: [1, 2], loss: [1], accuracy: [0.1, 0.2] }),
    RangeError,
    `column "loss" has 1 values for 2 epochs`,
  );
});
