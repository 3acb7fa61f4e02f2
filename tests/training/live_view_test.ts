import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { type DisplayFunction, liveTrainingView } from "@lib/training/live_view.ts";
import type { BatchProgress, EpochResult, TrainingHistory } from "@lib/training/fit.ts";

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

function progress(epoch: number, step: number): BatchProgress {
  return { epoch, epochs: 2, step, steps: 4, loss: 1.5, accuracy: 0.25 };
}

Deno.test("liveTrainingView() shows the epoch's steps, loss and the time left, a few times a second at most", async () => {
  const lines: { text: string; id: string; update?: boolean }[] = [];
  let clock = 0;
  const view = liveTrainingView({
    epochs: 2,
    now: () => clock,
    display: (bundle, options) => {
      if (options.display_id.endsWith("-progress")) {
        lines.push({
          text: bundle["text/plain"] as string,
          id: options.display_id,
          update: options.update,
        });
      }
    },
  });
  // Steps of 1 s: shown at once; then 0.1 s later (skipped); the epoch's last step always shows.
  clock = 1000;
  await view.onBatchEnd(progress(1, 1));
  clock = 1100;
  await view.onBatchEnd(progress(1, 2));
  clock = 1200;
  await view.onBatchEnd(progress(1, 3));
  clock = 1300;
  await view.onBatchEnd(progress(1, 4));
  assertEquals(lines.map((l) => l.text), [
    "Epoch 1/2 · step 1/4 · loss 1.5000 · accuracy 0.2500 · about 7 s left",
    "Epoch 1/2 · step 4/4 · loss 1.5000 · accuracy 0.2500 · about 1 s left",
  ]);
  assertEquals(lines.map((l) => l.update), [undefined, true]);
  assertEquals(new Set(lines.map((l) => l.id)).size, 1, "one progress output");
  clock = 2000;
  await view.onBatchEnd(progress(2, 1));
  assertStringIncludes(lines.at(-1)!.text, "Epoch 2/2 · step 1/4");
  for (const result of epochs(2)) await view.onEpochEnd(result);
  assertEquals(lines.at(-1)!.text, "Training done: epoch 2/2 in 2 s");
});

Deno.test("liveTrainingView() outside a notebook prints nothing per step", async () => {
  const lines: string[] = [];
  const view = liveTrainingView({ epochs: 2, steps: 4, log: (line) => lines.push(line) });
  await view.onBatchEnd(progress(1, 1));
  assertEquals(lines, []);
});
