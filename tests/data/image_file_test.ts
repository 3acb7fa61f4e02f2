import { assert, assertEquals, assertRejects } from "@std/assert";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import * as tf from "@lib/tf.ts";
import { loadImage, loadImageIfPresent, readImage } from "@lib/data/image_file.ts";

await tf.setBackend("cpu");

const dir = await Deno.makeTempDir({ prefix: "signs-image-" });
const fixtures = join(import.meta.dirname!, "..", "fixtures");
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

async function writePng(
  name: string,
  width: number,
  height: number,
  channels: number,
  data: Uint8Array | Uint16Array,
  depth: 8 | 16 = 8,
): Promise<string> {
  const path = join(dir, name);
  await Deno.writeFile(path, encodePng({ width, height, data, channels, depth }));
  return path;
}

Deno.test("readImage() decodes RGB, RGBA, grey and 16-bit PNGs into RGB 0..255", async () => {
  const rgb = await writePng("rgb.png", 2, 1, 3, Uint8Array.from([255, 0, 0, 10, 20, 30]));
  const rgba = await writePng("rgba.png", 1, 1, 4, Uint8Array.from([1, 2, 3, 128]));
  const grey = await writePng("grey.png", 2, 1, 1, Uint8Array.from([0, 200]));
  const deep = await writePng("deep.png", 1, 1, 3, Uint16Array.from([65535, 0, 257 * 100]), 16);
  const cases: [string, number[], number[]][] = [
    [rgb, [1, 2, 3], [255, 0, 0, 10, 20, 30]],
    [rgba, [1, 1, 3], [1, 2, 3]],
    [grey, [1, 2, 3], [0, 0, 0, 200, 200, 200]],
    [deep, [1, 1, 3], [255, 0, 100]],
  ];
  for (const [path, shape, values] of cases) {
    const image = await readImage(path);
    assertEquals(image.shape, shape, path);
    assertEquals(Array.from(await image.data()), values, path);
    image.dispose();
  }
});

Deno.test("readImage() decodes a JPEG (values within JPEG's rounding)", async () => {
  const width = 16;
  const height = 8;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([200, 100, 50, 255], i * 4);
  const path = join(dir, "flat.jpg");
  await Deno.writeFile(path, jpeg.encode({ width, height, data: rgba }, 95).data);
  const image = await readImage(path);
  assertEquals(image.shape, [8, 16, 3]);
  const values = await image.data();
  for (let i = 0; i < values.length; i++) {
    assert(Math.abs(values[i] - [200, 100, 50][i % 3]) <= 3, `value ${values[i]} at ${i}`);
  }
  image.dispose();
});

Deno.test("loadImage() averages and resizes to size x size, float32 0..255, without leaks", async () => {
  // 128x128: left half black, right half white -> 64x64 with the same halves.
  const data = new Uint8Array(128 * 128 * 3);
  for (let r = 0; r < 128; r++) {
    for (let c = 64; c < 128; c++) data.fill(255, (r * 128 + c) * 3, (r * 128 + c) * 3 + 3);
  }
  const path = await writePng("halves.png", 128, 128, 3, data);
  const before = tf.memory().numTensors;
  const image = await loadImage(path, { size: 64 });
  assertEquals(tf.memory().numTensors, before + 1);
  assertEquals(image.shape, [64, 64, 3]);
  assertEquals(image.dtype, "float32");
  const pixels = (await image.array()) as number[][][];
  assertEquals([pixels[10][0][0], pixels[10][31][1], pixels[10][32][2], pixels[63][63][0]], [
    0,
    0,
    255,
    255,
  ]);
  image.dispose();
});

const photo = join(import.meta.dirname!, "..", "..", "..", "shared", "images", "my_image.jpg");
const havePhoto = await Deno.stat(photo).then(() => true, () => false);
if (!havePhoto) {
  console.warn(`SKIPPED: no sample photo at ${photo}; the phone-photo test does not run`);
}

Deno.test({
  name: "loadImage() reads a 3024x3024 phone photo into a 64x64x3 image",
  ignore: !havePhoto,
  fn: async () => {
    const image = await loadImage(photo);
    assertEquals(image.shape, [64, 64, 3]);
    const values = await image.data();
    assert(values.every((v) => v >= 0 && v <= 255));
    image.dispose();
  },
});

Deno.test("loadImageIfPresent() resolves to null for a missing file", async () => {
  assertEquals(await loadImageIfPresent(join(dir, "nothing.jpg")), null);
});

Deno.test("readImage() and loadImage() name the file and what is wrong", async () => {
  await assertRejects(
    () => readImage(join(dir, "missing.png")),
    Error,
    'missing.png": file not found',
  );
  const text = join(dir, "notes.jpg");
  await Deno.writeTextFile(text, "not a picture");
  await assertRejects(() => readImage(text), TypeError, `"${text}": not a JPEG or PNG file`);
  const full = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256).fill(128) }, 90).data;
  const truncated = join(dir, "truncated.jpg");
  await Deno.writeFile(truncated, full.subarray(0, 40));
  await assertRejects(() => readImage(truncated), Error, `"${truncated}": the file is damaged`);
  await assertRejects(() => loadImage(text, { size: 0 }), RangeError, "at size 0");
});

Deno.test("loadImage() reads a 108-megapixel photo (12000x9000), as recent phones take", async () => {
  // Written by tests/fixtures/make_large_photo.py: left half (200, 120, 60), right half (20, 40, 220).
  const gzipped = await Deno.open(join(fixtures, "large_photo_108mp.jpg.gz"));
  const path = join(dir, "large_photo_108mp.jpg");
  await gzipped.readable.pipeThrough(new DecompressionStream("gzip")).pipeTo(
    (await Deno.create(path)).writable,
  );
  const image = await loadImage(path);
  assertEquals(image.shape, [64, 64, 3]);
  const pixels = (await image.array()) as number[][][];
  for (const [column, colour] of [[5, [200, 120, 60]], [58, [20, 40, 220]]] as const) {
    for (let c = 0; c < 3; c++) {
      const value = pixels[32][column][c];
      assert(Math.abs(value - colour[c]) <= 3, `channel ${c} of column ${column} is ${value}`);
    }
  }
  image.dispose();
});

Deno.test("readImage() turns a photo upright as its EXIF orientation says, for all 8 orientations", async () => {
  // Written by tests/fixtures/make_orientation.py: one upright 48x32 picture (red, green / blue,
  // white quadrants) stored as a camera stores it for each orientation.
  const expected = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
  for (let orientation = 1; orientation <= 8; orientation++) {
    const image = await readImage(join(fixtures, `orientation_${orientation}.jpg`));
    assertEquals(image.shape, [32, 48, 3], `orientation ${orientation}`);
    const pixels = (await image.array()) as number[][][];
    image.dispose();
    const corners = [pixels[5][5], pixels[5][40], pixels[28][5], pixels[28][40]];
    corners.forEach((rgb, i) =>
      assert(
        rgb.every((v, c) => Math.abs(v - expected[i][c]) < 24),
        `orientation ${orientation}, quadrant ${i}: ${rgb}`,
      )
    );
  }
});

Deno.test("readImage() decodes grey PNGs of 1, 2 and 4 bits as Pillow does", async () => {
  // Written by tests/fixtures/make_grey_png.py, with the values Pillow decodes.
  const expected: Record<string, number[]> = JSON.parse(
    await Deno.readTextFile(join(fixtures, "grey_expected.json")),
  );
  for (const [name, values] of Object.entries(expected)) {
    const image = await readImage(join(fixtures, name));
    assertEquals(image.shape, [3, 5, 3]);
    const pixels = await image.data();
    assertEquals(Array.from(pixels.filter((_, i) => i % 3 === 0)), values, name);
    image.dispose();
  }
});

Deno.test("readImage() refuses a PNG of more than 250 megapixels from its header, before decoding", async () => {
  const path = await Deno.makeTempFile({ suffix: ".png" });
  try {
    // A header of 20000x20000 grey pixels, followed by no image data at all: refused unread.
    const header = new Uint8Array(33);
    header.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
    const view = new DataView(header.buffer);
    view.setUint32(16, 20000);
    view.setUint32(20, 20000);
    header.set([8, 0, 0, 0, 0], 24);
    await Deno.writeFile(path, header);
    await assertRejects(
      () => readImage(path),
      RangeError,
      `Cannot load image "${path}": it is 20000x20000 pixels, more than the 250 megapixels`,
    );
  } finally {
    await Deno.remove(path);
  }
});

// `jpeg` with the height and width of its frame header (SOF0, or SOF2 when `progressive`) set to
// `height` and `width`: the bytes of a picture of that size as far as its header goes.
function withFrameSize(jpeg: Uint8Array, height: number, width: number, progressive: boolean) {
  const bytes = jpeg.slice();
  const view = new DataView(bytes.buffer);
  for (let at = 2; at + 9 < bytes.length; at += 2 + view.getUint16(at + 2)) {
    if (view.getUint16(at) === 0xffc0) {
      if (progressive) bytes[at + 1] = 0xc2;
      view.setUint16(at + 5, height);
      view.setUint16(at + 7, width);
      return bytes;
    }
  }
  throw new Error("no SOF0 segment");
}

Deno.test("readImage() refuses a JPEG of more than 250 megapixels from its frame header, before decoding", async () => {
  const small = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256).fill(128) }, 90).data;
  for (const progressive of [false, true]) {
    // 20000x20000 pixels, as its header says; decoding them would take gigabytes and minutes.
    const path = join(dir, `huge_${progressive ? "progressive" : "baseline"}.jpg`);
    await Deno.writeFile(path, withFrameSize(small, 20000, 20000, progressive));
    const started = performance.now();
    const rss = Deno.memoryUsage().rss;
    await assertRejects(
      () => readImage(path),
      RangeError,
      `Cannot load image "${path}": it has more than 250 megapixels, the most this loader decodes`,
    );
    const seconds = (performance.now() - started) / 1000;
    const grown = (Deno.memoryUsage().rss - rss) / 2 ** 20;
    assert(seconds < 2, `refused after ${seconds.toFixed(1)} s`);
    assert(grown < 100, `memory grew by ${grown.toFixed(0)} MB`);
  }
});
