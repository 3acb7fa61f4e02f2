/**
 * A training history as a `nodejs-polars` data frame, the course's `pd.DataFrame(history.history)`.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { TrainingHistory } from "./fit.ts";

/**
 * One row per epoch, with the columns `epoch`, `loss`, `accuracy` and, when the run had validation
 * data, `val_loss` and `val_accuracy`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const frame = historyFrame({ epoch: [1, 2], loss: [1.5, 1.2], accuracy: [0.4, 0.5] });
 * assertEquals(frame.columns, ["epoch", "loss", "accuracy"]);
 * assertEquals(frame.height, 2);
 * ```
 */
export function historyFrame(history: TrainingHistory): pl.DataFrame {
  const columns: Record<string, number[]> = {
    epoch: history.epoch,
    loss: history.loss,
    accuracy: history.accuracy,
  };
  if (history.val_loss) columns.val_loss = history.val_loss;
  if (history.val_accuracy) columns.val_accuracy = history.val_accuracy;
  for (const [name, values] of Object.entries(columns)) {
    if (values.length !== history.epoch.length) {
      throw new RangeError(
        `Cannot tabulate the history: column "${name}" has ${values.length} values for ${history.epoch.length} epochs`,
      );
    }
  }
  return pl.DataFrame(columns);
}
