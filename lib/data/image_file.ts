/**
 * Reading a photo (JPEG or PNG) into a tensor the model can take, for "test on your own image".
 *
 * @module
 */
import { convertIndexedToRgb, decode as decodePng, hasPngSignature } from "fast-png";
import jpeg from "jpeg-js";
import exifr from "exifr";
import * as tf from "../tf.ts";
import { exists } from "../util/fs.ts";
import { orient, type RgbImage } from "./_orientation.ts";

/** Options of {@linkcode loadImage}. */
export interface LoadImageOptions {
  /** Side length of the square result, in pixels. Default 64 (the SIGNS images). */
  size?: number;
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

// The values of a grey PNG of `depth` bits (1, 2 or 4), one per pixel, from its packed rows.
function unpackGrey(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const values = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = 2 ** depth - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      values[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return values;
}

// The width and height a PNG's header (IHDR, the first chunk) declares.
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

// Pixels as interleaved RGB bytes; grey and alpha channels are converted, 16-bit values scaled.
function pngToRgb(
  path: string,
  bytes: Uint8Array,
): { width: number; height: number; rgb: Uint8Array } {
  const png = decodePng(bytes);
  const { width, height } = png;
  let data = png.data;
  let channels = png.channels;
  let scale = png.depth === 16 ? 1 / 257 : 1;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = data.length / (width * height);
  } else if (png.depth < 8) {
    // Grey of 1, 2 or 4 bits comes packed, each row starting on a byte; the PNG standard scales
    // a value v of d bits to v * 255 / (2^d - 1).
    data = unpackGrey(png.data as Uint8Array, width, height, png.depth);
    scale = 255 / (2 ** png.depth - 1);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      // grey (1 or 2 channels) repeats its one value; RGB(A) takes its own
      const source = channels <= 2 ? i * channels : i * channels + c;
      rgb[i * 3 + c] = Math.round(Number(data[source]) * scale);
    }
  }
  if (channels < 1 || channels > 4) {
    throw new TypeError(
      `Cannot load image "${path}": PNG with ${channels} channels, expected 1 to 4`,
    );
  }
  return { width, height, rgb };
}

// The largest photo decoded, in megapixels; jpeg-js's own default (100) refuses a 108-megapixel
// phone photo. Decoding is the memory peak: the whole process reached 2.6 GB for a 108-megapixel
// photo (about 24 bytes a pixel), so 250 megapixels needs about 6 GB.
const MAX_MEGAPIXELS = 250;
// What jpeg-js may allocate while decoding, in MB: 24 bytes a pixel of the largest photo. At 8
// bytes a pixel it refused a 121-megapixel JPEG without chroma subsampling and a 210-megapixel
// one with it, both within the pixel limit.
const MAX_DECODE_MB = MAX_MEGAPIXELS * 24;

async function decodeFile(path: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load image "${path}": file not found`);
    }
    throw error;
  }
  let decoded: RgbImage;
  try {
    if (isJpeg(bytes)) {
      // jpeg-js compares the frame header's (SOF's) height and width with maxResolutionInMP as
      // it reads them, before it allocates anything for the image.
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: false,
        maxResolutionInMP: MAX_MEGAPIXELS,
        maxMemoryUsageInMB: MAX_DECODE_MB,
      });
      decoded = { width: image.width, height: image.height, rgb: image.data };
    } else if (hasPngSignature(bytes)) {
      // Checked from the header: decoding allocates the whole image first (a 20000x20000 PNG of
      // 1.2 MB took 3.7 GB before this check).
      const size = pngSize(bytes);
      if (size && size.width * size.height > MAX_MEGAPIXELS * 1e6) {
        throw new RangeError(
          `Cannot load image "${path}": it is ${size.width}x${size.height} pixels, more than ` +
            `the ${MAX_MEGAPIXELS} megapixels this loader decodes; scale it down first`,
        );
      }
      decoded = pngToRgb(path, bytes);
    } else {
      throw new TypeError(`Cannot load image "${path}": not a JPEG or PNG file`);
    }
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Cannot load image")) throw error;
    const message = (error as Error).message;
    if (message.includes("maxResolutionInMP")) {
      throw new RangeError(
        `Cannot load image "${path}": it has more than ${MAX_MEGAPIXELS} megapixels, the most ` +
          `this loader decodes; scale it down first`,
      );
    }
    if (message.includes("maxMemoryUsageInMB")) {
      throw new RangeError(
        `Cannot load image "${path}": decoding it would take more than ${MAX_DECODE_MB} MB; ` +
          "scale it down first",
      );
    }
    throw new Error(`Cannot load image "${path}": the file is damaged (${message})`);
  }
  const { width, height, rgb } = decoded;
  if (rgb.length !== width * height * 3) {
    throw new Error(
      `Cannot load image "${path}": decoded ${rgb.length} values for ${width}x${height} RGB pixels`,
    );
  }
  return orient(decoded, await exifOrientation(bytes));
}

// The EXIF orientation (1 to 8) a camera recorded, or 1 when there is none or it cannot be read:
// a photo with a broken EXIF block still loads, as stored.
async function exifOrientation(bytes: Uint8Array): Promise<number> {
  try {
    const value = await exifr.orientation(bytes);
    return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 8
      ? value
      : 1;
  } catch {
    return 1;
  }
}

/**
 * Decodes a JPEG or PNG file into a [height, width, 3] int32 tensor of values 0..255 (grey images
 * are repeated into three channels, alpha is dropped), turned as its EXIF orientation says, so
 * that a phone photo taken upright is upright. The caller owns the result. Errors name the file:
 * not found, not a JPEG or PNG, a file the decoder cannot read, or one of more than 250
 * megapixels. The tensor takes 12 bytes a pixel; {@linkcode loadImage} needs far less for a large
 * photo.
 */
export async function readImage(path: string): Promise<tf.Tensor3D> {
  const { width, height, rgb } = await decodeFile(path);
  return tf.tensor3d(Int32Array.from(rgb), [height, width, 3], "int32");
}

// Means of `factor` x `factor` blocks (the rows and columns left over at the end are dropped, as
// a "valid" average pooling does), computed from the bytes without a full-size float copy.
function averageBlocks(image: RgbImage, factor: number): { data: Float32Array; shape: number[] } {
  const height = Math.floor(image.height / factor);
  const width = Math.floor(image.width / factor);
  const sums = new Float64Array(width * 3);
  const data = new Float32Array(height * width * 3);
  for (let row = 0; row < height; row++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      const line = (row * factor + dy) * image.width * 3;
      for (let column = 0; column < width; column++) {
        let at = line + column * factor * 3;
        for (let dx = 0; dx < factor; dx++, at += 3) {
          sums[column * 3] += image.rgb[at];
          sums[column * 3 + 1] += image.rgb[at + 1];
          sums[column * 3 + 2] += image.rgb[at + 2];
        }
      }
    }
    const scale = 1 / (factor * factor);
    for (let i = 0; i < width * 3; i++) data[row * width * 3 + i] = sums[i] * scale;
  }
  return { data, shape: [1, height, width, 3] };
}

/**
 * Loads a photo as the course's `image.load_img(path, target_size=(64, 64))` does, ready for the
 * model after dividing by 255: a [size, size, 3] float32 tensor of values 0..255, turned upright
 * as its EXIF orientation says (see {@linkcode readImage}). Large photos are first averaged over
 * blocks of pixels (so that a 3024x3024 phone picture does not alias), then resized bilinearly;
 * the aspect ratio is not kept, as in the course. Photos of up to 250 megapixels load; decoding
 * the JPEG is the peak, about 24 bytes a pixel for the whole process (measured: 0.95 GB and 3 s
 * for 36 megapixels, 2.6 GB and 9 s for 108). The caller owns the result.
 *
 * @example
 * ```ts ignore
 * const image = await loadImage("my_hand.jpg", { size: 64 });
 * console.log(image.shape); // [64, 64, 3]
 * image.dispose();
 * ```
 */
export async function loadImage(
  path: string,
  options: LoadImageOptions = {},
): Promise<tf.Tensor3D> {
  const size = options.size ?? 64;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot load image "${path}" at size ${size}: expected a positive integer`,
    );
  }
  const image = await decodeFile(path);
  const factor = Math.min(Math.floor(image.height / size), Math.floor(image.width / size));
  const blocks = factor >= 2
    ? averageBlocks(image, factor)
    : { data: Float32Array.from(image.rgb), shape: [1, image.height, image.width, 3] };
  const resized = tf.tidy(() => {
    const x = tf.tensor4d(blocks.data, blocks.shape as [number, number, number, number]);
    return tf.squeeze(tf.image.resizeBilinear(x, [size, size], true), [0]) as tf.Tensor3D;
  });
  // Read once here, so that synchronous reads (showing the picture) work on a backend that keeps
  // its results on a GPU it cannot read synchronously (webgpu under Deno).
  await resized.data();
  return resized;
}

/**
 * Like {@linkcode loadImage}, but resolves to `null` when there is no file at `path`, so a notebook
 * can offer the step without depending on the file. Other errors are thrown as by `loadImage`.
 */
export async function loadImageIfPresent(
  path: string,
  options: LoadImageOptions = {},
): Promise<tf.Tensor3D | null> {
  return (await exists(path)) ? await loadImage(path, options) : null;
}
