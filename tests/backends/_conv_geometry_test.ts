import { assertEquals } from "@std/assert";
import { convGeometry } from "@lib/backends/_conv_geometry.ts";

Deno.test("convGeometry() gives sizes and TF.js's paddings for 'same' and 'valid'", () => {
  // 'same' with an even kernel: TF.js puts the extra row and column after
  assertEquals(convGeometry([2, 64, 64, 3], [4, 4, 3, 8], { strides: 1, pad: "same" }), {
    n: 2,
    h: 64,
    w: 64,
    ci: 3,
    co: 8,
    kh: 4,
    kw: 4,
    sh: 1,
    sw: 1,
    oh: 64,
    ow: 64,
    top: 1,
    left: 1,
    bottom: 2,
    right: 2,
  });
  const valid = convGeometry([1, 70, 70, 3], [7, 7, 3, 64], { strides: [2, 2], pad: "valid" });
  assertEquals([valid?.oh, valid?.ow, valid?.top, valid?.bottom], [32, 32, 0, 0]);
  const strided = convGeometry([1, 9, 8, 5], [1, 1, 5, 4], { strides: [2, 3], pad: "same" });
  assertEquals([strided?.oh, strided?.ow, strided?.sh, strided?.sw], [5, 3, 2, 3]);
});

Deno.test("convGeometry() leaves dilated and channels-first convolutions to the backend", () => {
  const shapes = [[1, 9, 9, 3], [3, 3, 3, 4]];
  assertEquals(convGeometry(shapes[0], shapes[1], { strides: 1, pad: "same", dilations: 2 }), null);
  assertEquals(
    convGeometry(shapes[0], shapes[1], { strides: 1, pad: "same", dilations: [1, 2] }),
    null,
  );
  assertEquals(
    convGeometry(shapes[0], shapes[1], { strides: 1, pad: "same", dataFormat: "NCHW" }),
    null,
  );
  assertEquals(
    convGeometry(shapes[0], shapes[1], { strides: 1, pad: "same", dilations: [1, 1] })?.oh,
    9,
  );
});
