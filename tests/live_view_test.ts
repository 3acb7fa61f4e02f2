import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { type DisplayFunction, liveTrainingView } from "@lib/live_view.ts";
import type { EpochResult, TrainingHistory } from "@lib/training/fit.ts";

function epochs(count: number): EpochResult[] {
  const history: TrainingHistory = {
    epoch: [],
    loss: [],
    accuracy: [],
    val_loss: [],
    val_accuracy: [],
  };
  return Array.from({ length: count }, (_, i) => {
    history.epoch.push(i + 1);
    history.loss.push(2 - i * 0.1);
    history.accuracy.push(0.2 + i * 0.1);
    history.val_loss!.push(2 - i * 0.05);
    history.val_accuracy!.push(0.2 + i * 0.05);
    const logs = { loss: history.loss[i], accuracy: history.accuracy[i] };
    return { epoch: i + 1, logs, seconds: 1.5, history: structuredClone(history) };
  });
}

Deno.test("liveTrainingView() shows one display and updates it in place after each epoch", async () => {
  const calls: { bundle: Record<string, unknown>; options: Parameters<DisplayFunction>[1] }[] = [];
  const view = liveTrainingView({
    epochs: 3,
    minSeconds: 0,
    display: (bundle, options) => calls.push({ bundle, options }),
  });
  assertEquals(view.log, null, "no progress lines in a notebook");
  for (const result of epochs(3)) await view.onEpochEnd(result);
  assertEquals(calls.length, 3);
  assertEquals(new Set(calls.map((c) => c.options.display_id)).size, 1, "one display");
  assertEquals(calls.map((c) => c.options.update), [undefined, true, true]);
  const last = calls[2].bundle;
  assertEquals(last["text/plain"], "Epoch 3/3 (1.5 s) · loss 1.8000 · accuracy 0.4000");
  const figure = last["application/vnd.plotly.v1+json"] as {
    data: { name: string; y: number[] }[];
  };
  assertEquals(figure.data.map((t) => t.name), ["loss", "accuracy", "val_loss", "val_accuracy"]);
  assertEquals(figure.data[0].y.length, 3, "the chart grows with the history");
  assert(
    (last["text/html"] as string).length > 1_000_000,
    "each version carries the Plotly library",
  );
});

Deno.test("liveTrainingView() skips updates closer than minSeconds, but always shows the last epoch", async () => {
  const shown: string[] = [];
  const view = liveTrainingView({
    epochs: 5,
    minSeconds: 3600,
    display: (bundle) => shown.push(bundle["text/plain"] as string),
  });
  for (const result of epochs(5)) await view.onEpochEnd(result);
  assertEquals(shown.length, 2);
  assertStringIncludes(shown[1], "Epoch 5/5");
});

Deno.test("liveTrainingView() prints a progress line per epoch outside a notebook", async () => {
  const lines: string[] = [];
  const view = liveTrainingView({ epochs: 2, steps: 4, log: (line) => lines.push(line) });
  for (const result of epochs(2)) await view.onEpochEnd(result);
  assertEquals(lines, [
    "Epoch 1/2 - 4/4 steps - 1.5s - loss: 2.0000 - accuracy: 0.2000",
    "Epoch 2/2 - 4/4 steps - 1.5s - loss: 1.9000 - accuracy: 0.3000",
  ]);
});

Deno.test("liveTrainingView() rejects bad arguments", () => {
  assertThrows(() => liveTrainingView({ epochs: 0 }), RangeError, "0 epochs");
  assertThrows(
    () => liveTrainingView({ epochs: 1, display: "yes" as unknown as DisplayFunction }),
    TypeError,
    "display is string",
  );
});
