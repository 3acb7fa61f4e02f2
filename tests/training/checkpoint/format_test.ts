import { assert, assertEquals } from "@std/assert";
import { wholeBuffer } from "@lib/training/checkpoint/_format.ts";

Deno.test("wholeBuffer hands over the buffer that bytes fill, without a copy", () => {
  const bytes = new Uint8Array([1, 2, 3, 4]);
  assert(wholeBuffer(bytes) === bytes.buffer);
});

Deno.test("wholeBuffer copies bytes that fill part of their buffer, and only them", () => {
  const backing = new Uint8Array([9, 1, 2, 3, 9]);
  const part = backing.subarray(1, 4);
  const buffer = wholeBuffer(part);
  assert(buffer !== backing.buffer);
  assertEquals([...new Uint8Array(buffer)], [1, 2, 3]);
});
