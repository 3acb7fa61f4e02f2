/**
 * The assertions of `jsr:@std/assert`, under the same names and call shapes, on top of Deno's
 * built-in `node:assert`.
 *
 * The JSR registry cannot be reached from the machines this project is built and tested on (only
 * the npm registry can), so `deno.json` maps `@std/assert` to this module. Where JSR is reachable,
 * mapping `@std/assert` back to `jsr:@std/assert@1` needs no change in any test.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

export { AssertionError } from "node:assert/strict";

/** Fails unless `condition` is truthy. */
export function assert(condition: unknown, message?: string): asserts condition {
  nodeAssert.ok(condition, message);
}

/** Fails unless `actual` and `expected` are deeply equal. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Fails when `actual` and `expected` are deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

/** Fails unless `actual === expected` (by `Object.is`). */
export function assertStrictEquals<T>(actual: unknown, expected: T, message?: string): void {
  nodeAssert.strictEqual(actual, expected, message);
}

/** Fails unless `actual` is within `tolerance` of `expected` (default 1e-7 relative to it). */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance?: number,
  message?: string,
): void {
  const tol = tolerance ?? Math.abs(expected) * 1e-7;
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(expected - actual);
  nodeAssert.ok(
    delta <= tol,
    message ?? `Expected actual: "${actual}" to be close to "${expected}": delta "${delta}" ` +
        `is greater than "${tol}"`,
  );
}

/** Fails unless `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.ok(actual > expected, message ?? `Expect ${actual} > ${expected}`);
}

/** Fails unless `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.ok(actual >= expected, message ?? `Expect ${actual} >= ${expected}`);
}

/** Fails unless `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.ok(actual < expected, message ?? `Expect ${actual} < ${expected}`);
}

/** Fails unless `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.ok(actual <= expected, message ?? `Expect ${actual} <= ${expected}`);
}

/** Fails when `actual` is `null` or `undefined`. */
export function assertExists<T>(actual: T, message?: string): asserts actual is NonNullable<T> {
  nodeAssert.ok(actual !== null && actual !== undefined, message ?? "actual is null or undefined");
}

/** Fails unless `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  actual: unknown,
  expectedType: T,
  message?: string,
): asserts actual is InstanceType<T> {
  nodeAssert.ok(
    actual instanceof expectedType,
    message ?? `Expected object to be an instance of "${expectedType.name}"`,
  );
}

/** Fails unless `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    message ?? `Expected actual: "${actual}" to contain: "${expected}".`,
  );
}

/** Fails unless `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, message?: string): void {
  nodeAssert.match(actual, expected, message);
}

/** Fails unless every value of `expected` is in `actual`. */
export function assertArrayIncludes<T>(
  actual: ArrayLike<T>,
  expected: ArrayLike<T>,
  message?: string,
): void {
  const values = Array.from(actual);
  for (const value of Array.from(expected)) {
    nodeAssert.ok(
      values.some((v) => isDeepEqual(v, value)),
      message ?? `Expected actual to include ${String(value)}`,
    );
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    nodeAssert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(
  error: unknown,
  errorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  if (errorClass) {
    nodeAssert.ok(
      error instanceof errorClass,
      `Expected error to be instance of "${errorClass.name}", but was "${
        (error as Error)?.constructor?.name
      }": ${(error as Error)?.message}`,
    );
  }
  if (msgIncludes !== undefined) {
    const message = (error as Error)?.message ?? String(error);
    nodeAssert.ok(
      message.includes(msgIncludes),
      `Expected error message to include "${msgIncludes}", but got "${message}".`,
    );
  }
  return error as E;
}

/** Fails unless `fn` throws (an instance of `errorClass`, with `msgIncludes` in its message). */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, errorClass, msgIncludes);
  }
  throw new nodeAssert.AssertionError({ message: "Expected function to throw." });
}

/** Fails unless the promise from `fn` rejects (as `assertThrows` checks a throw). */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, errorClass, msgIncludes);
  }
  throw new nodeAssert.AssertionError({ message: "Expected function to reject." });
}

/** Always fails. */
export function fail(message?: string): never {
  nodeAssert.fail(message ?? "Failed assertion");
}
