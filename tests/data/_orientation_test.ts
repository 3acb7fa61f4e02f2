import { assertEquals } from "@std/assert";
import { orient } from "@lib/data/_orientation.ts";

Deno.test("orient() of a 3x2 image moves each pixel where the orientation says", () => {
  // pixel values 0..5 in reading order, one channel repeated three times
  const image = {
    width: 3,
    height: 2,
    rgb: Uint8Array.from([0, 1, 2, 3, 4, 5].flatMap((v) => [v, v, v])),
  };
  const read = (o: number) => {
    const out = orient(image, o);
    return [out.width, out.height, Array.from(out.rgb.filter((_, i) => i % 3 === 0))];
  };
  assertEquals(read(1), [3, 2, [0, 1, 2, 3, 4, 5]]);
  assertEquals(read(2), [3, 2, [2, 1, 0, 5, 4, 3]]);
  assertEquals(read(3), [3, 2, [5, 4, 3, 2, 1, 0]]);
  assertEquals(read(4), [3, 2, [3, 4, 5, 0, 1, 2]]);
  assertEquals(read(5), [2, 3, [0, 3, 1, 4, 2, 5]]);
  assertEquals(read(6), [2, 3, [3, 0, 4, 1, 5, 2]]);
  assertEquals(read(7), [2, 3, [5, 2, 4, 1, 3, 0]]);
  assertEquals(read(8), [2, 3, [2, 5, 1, 4, 0, 3]]);
});
