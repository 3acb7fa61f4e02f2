/**
 * Small text formats the notebooks print, in the course's notation.
 *
 * @module
 */

/**
 * A shape as Python prints a tuple: `(1080, 64, 64, 3)`, `(6,)`, `()`. Unknown dimensions
 * (`null`, as in a layer's batch dimension) print as `None`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(formatShape([1080, 64, 64, 3]), "(1080, 64, 64, 3)");
 * assertEquals(formatShape([6]), "(6,)");
 * assertEquals(formatShape([null, 6]), "(None, 6)");
 * ```
 */
export function formatShape(shape: readonly (number | null)[]): string {
  const dims = shape.map((d) => (d === null ? "None" : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
}

/**
 * A layer's output shape, or its output shapes joined by commas, each as {@linkcode formatShape}
 * writes it (Keras's summary prints them so).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(formatShapes([null, 6]), "(None, 6)");
 * assertEquals(formatShapes([[null, 2], [null, 3]]), "(None, 2), (None, 3)");
 * ```
 */
export function formatShapes(
  shape: readonly (number | null)[] | readonly (readonly (number | null)[])[],
): string {
  return Array.isArray(shape[0])
    ? (shape as (number | null)[][]).map((s) => formatShape(s)).join(", ")
    : formatShape(shape as (number | null)[]);
}

/**
 * A shape as the error messages write it: `[1080, 64, 64, 3]`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(shapeText([1080, 64, 64, 3]), "[1080, 64, 64, 3]");
 * ```
 */
export function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * A duration in whole seconds, minutes and hours, as a progress line gives the time left.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(formatDuration(7.4), "7 s");
 * assertEquals(formatDuration(190), "3 min 10 s");
 * assertEquals(formatDuration(3900), "1 h 5 min");
 * ```
 */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  if (h > 0) return `${h} h ${m} min`;
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

/**
 * A number with thousands separators, as Keras prints parameter counts: `23,600,006`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(formatCount(23600006), "23,600,006");
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
