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
