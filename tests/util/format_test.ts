import { assertEquals } from "@std/assert";
import { formatCount, formatShape } from "@lib/util/format.ts";

Deno.test("formatShape() prints Python tuples, one-element and empty ones included", () => {
  assertEquals(formatShape([120, 6]), "(120, 6)");
  assertEquals(formatShape([2048]), "(2048,)");
  assertEquals(formatShape([]), "()");
  assertEquals(formatShape([null, 70, 70, 3]), "(None, 70, 70, 3)");
});

Deno.test("formatCount() groups thousands", () => {
  assertEquals([0, 999, 1000, 1310, 53120, 23546886].map(formatCount), [
    "0",
    "999",
    "1,000",
    "1,310",
    "53,120",
    "23,546,886",
  ]);
});
