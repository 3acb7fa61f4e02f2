// What a notebook cell's variables held before the cell runs again, freed: the tensors, models
// and data sets that a re-run makes unreachable (and that TF.js, unlike the garbage collector,
// never frees by itself). tools/run_notebook.py --twice calls it before each cell's second run, so
// that whatever the tensor count still gains is a leak of the functions the cell calls.
import * as tf from "../lib/tf.ts";
import { disposeModel } from "../lib/mod.ts";

/** Frees the tensors, models and disposable objects in `values`, looking into arrays and plain objects. */
export function freeHeld(values: unknown[], depth = 0): void {
  for (const value of values) {
    if (value === null || typeof value !== "object" || depth > 2) continue;
    let kind: string;
    try {
      kind = kindOf(value);
    } catch {
      continue; // an object that answers every name (a polars data frame): holds no tensor
    }
    if (kind === "tensor") (value as tf.Tensor).dispose();
    else if (kind === "model") {
      try {
        disposeModel(value as tf.LayersModel);
      } catch {
        // Freed already (the cell itself, or another variable, held the same model).
      }
    } else if (kind === "disposable") (value as { dispose: () => void }).dispose();
    else if (kind === "container") {
      let members: unknown[];
      try {
        members = Object.values(value);
      } catch {
        continue; // getters that compute (a polars data frame's): no tensor held there
      }
      freeHeld(members, depth + 1);
    }
  }
}

function kindOf(value: object): string {
  if (value instanceof tf.Tensor) return "tensor";
  if (value instanceof tf.LayersModel) return "model";
  if (Array.isArray(value)) return "container";
  if (typeof (value as { dispose?: unknown }).dispose === "function") return "disposable";
  return Object.getPrototypeOf(value) === Object.prototype ? "container" : "other";
}

/**
 * The number of tensors TF.js holds now (after the cell that ran last), then frees what `values`
 * hold, as {@linkcode freeHeld} does.
 */
export function countThenFree(values: unknown[]): number {
  const count = tensorCount();
  freeHeld(values);
  return count;
}

/** The number of tensors TF.js holds now. */
export function tensorCount(): number {
  return tf.memory().numTensors;
}
