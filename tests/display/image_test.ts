import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { decode } from "fast-png";
import * as tf from "@lib/tf.ts";
import { JUPYTER_DISPLAY } from "@lib/display/mod.ts";
import {
  classGallery,
  imageBytes,
  imagesOf,
  showImage,
  showImages,
  toPng,
  upscale,
} from "@lib/display/image.ts";

await tf.setBackend("cpu");

const bundleOf = (value: object) =>
  (value as Record<symbol, () => Record<string, unknown>>)[JUPYTER_DISPLAY]();

Deno.test("showImage() encodes a PNG that decodes back to the same pixels, enlarged", () => {
  const image = tf.tensor3d([255, 0, 0, 0, 128, 255], [1, 2, 3], "int32");
  const before = tf.memory().numTensors;
  const view = showImage(image, { scale: 2, caption: "two pixels" });
  assertEquals(tf.memory().numTensors, before);
  const png = decode(view.png);
  assertEquals([png.width, png.height, png.channels], [4, 2, 3]);
  assertEquals(Array.from(png.data.slice(0, 12)), [255, 0, 0, 255, 0, 0, 0, 128, 255, 0, 128, 255]);
  const bundle = bundleOf(view);
  assertEquals(bundle["text/plain"], "two pixels");
  assertEquals(atob(bundle["image/png"] as string).charCodeAt(1), "P".charCodeAt(0));
  image.dispose();
});

Deno.test("imageBytes() scales 0..1 floats to bytes and accepts a leading batch of one", () => {
  const image = tf.tensor4d([0, 0.5, 1], [1, 1, 1, 3]);
  assertEquals(Array.from(imageBytes(image).data), [0, 128, 255]);
  image.dispose();
  const wrong = tf.zeros([4, 4]);
  assertThrows(() => imageBytes(wrong), TypeError, "shape [4, 4]: expected [height, width, 3]");
  wrong.dispose();
});

Deno.test("imagesOf() gives every image of a batch as imageBytes() does, and rejects other shapes", async () => {
  const batch = tf.randomUniform([3, 4, 5, 3], 0, 1, "float32", 1);
  const images = await imagesOf(batch);
  assertEquals(images.length, 3);
  images.forEach((image, i) => assertEquals(image, imageBytes(batch, i)));
  const grey = tf.zeros([2, 4, 4, 1]);
  await assertRejects(() => imagesOf(grey), TypeError, "shape [2, 4, 4, 1]");
  tf.dispose([batch, grey]);
});

Deno.test("upscale() repeats pixels and rejects a bad factor", () => {
  const big = upscale({ width: 1, height: 1, data: Uint8Array.from([1, 2, 3]) }, 2);
  assertEquals(Array.from(big.data), [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  assertThrows(() => upscale(big, 0), RangeError, "0 times");
});

Deno.test("showImages() lays out captioned PNGs in rows", () => {
  const images = tf.zeros([5, 2, 2, 3]);
  const before = tf.memory().numTensors;
  const grid = showImages(images, { captions: ["a", "b", "c", "d", "<e>"], columns: 2 });
  assertThrows(() => showImages(images, { captions: ["a"] }), RangeError);
  assertEquals(tf.memory().numTensors, before, "no tensor left behind, also when it throws");
  const html = bundleOf(grid)["text/html"] as string;
  assertEquals(html.match(/<tr>/g)?.length, 3);
  assertEquals(html.match(/data:image\/png;base64,/g)?.length, 5);
  assert(html.includes("&lt;e&gt;"), "captions are escaped");
  assertThrows(
    () => showImages(images, { captions: ["a"] }),
    RangeError,
    "5 images with 1 captions",
  );
  images.dispose();
});

Deno.test("classGallery() picks the first images of every class, one row each", async () => {
  const images = tf.zeros([6, 2, 2, 3]) as tf.Tensor4D;
  const labels = tf.tensor2d([[1, 0, 1, 0, 1, 2]], [1, 6], "int32");
  const before = tf.memory().numTensors;
  const grid = await classGallery(images, labels, { perClass: 2 });
  assertEquals(tf.memory().numTensors, before);
  assertEquals(grid.images.map((v) => v.caption), [
    "y = 0 (#1)",
    "y = 0 (#3)",
    "y = 1 (#0)",
    "y = 1 (#2)",
    "y = 2 (#5)",
  ]);
  tf.dispose([images, labels]);
});

Deno.test("showImage() picks one image of a batch by index, without leaks", () => {
  const batch = tf.tensor4d([0, 0, 0, 200, 200, 200], [2, 1, 1, 3], "int32");
  const before = tf.memory().numTensors;
  const view = showImage(batch, { index: 1, scale: 1 });
  assertEquals(tf.memory().numTensors, before);
  assertEquals(Array.from(decode(view.png).data), [200, 200, 200]);
  assertThrows(
    () => showImage(batch, { index: 2 }),
    RangeError,
    "Cannot show image 2 of a tensor of shape [2, 1, 1, 3]",
  );
  batch.dispose();
});

Deno.test("toPng() encodes a tensor, one image of a batch, or RGB bytes, decoding to the same pixels", () => {
  const batch = tf.tensor4d([10, 20, 30, 40, 50, 60], [2, 1, 1, 3], "int32");
  const before = tf.memory().numTensors;
  assertEquals(Array.from(decode(toPng(batch, { index: 1 })).data), [40, 50, 60]);
  assertEquals(tf.memory().numTensors, before);
  const bytes = { width: 2, height: 1, data: Uint8Array.of(1, 2, 3, 4, 5, 6) };
  const png = decode(toPng(bytes, { scale: 2 }));
  assertEquals([png.width, png.height], [4, 2]);
  assertEquals(Array.from(png.data.slice(0, 12)), [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  assertThrows(
    () => toPng({ width: 2, height: 2, data: new Uint8Array(3) }),
    RangeError,
    "2x2 image from 3 bytes: expected 12",
  );
  assertThrows(() => toPng("image" as never), TypeError, "Cannot show string as an image");
  batch.dispose();
});

Deno.test("showImage() and showImages() accept RGB bytes as well as tensors", () => {
  const red = { width: 1, height: 1, data: Uint8Array.of(255, 0, 0) };
  const view = showImage(red, { scale: 1, caption: "red" });
  assertEquals(Array.from(decode(view.png).data), [255, 0, 0]);
  const blue = tf.tensor3d([0, 0, 1], [1, 1, 3]);
  const grid = showImages([red, blue], { scale: 1 });
  assertEquals(grid.images.map((v) => Array.from(decode(v.png).data)), [[255, 0, 0], [0, 0, 255]]);
  blue.dispose();
});
