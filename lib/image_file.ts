/**
 * Reading a photo (JPEG or PNG) into a tensor the model can take, for "test on your own image".
 *
 * @module
 */
import { convertIndexedToRgb, decode as decodePng, hasPngSignature } from "fast-png";
import jpeg from "jpeg-js";
import * as tf from "./tf.ts";
import { exists } from "./_fs.ts";

/** Options of {@linkcode loadImage}. */
export interface LoadImageOptions {
  /** Side length of the square result, in pixels. Default 64 (the SIGNS images). */
  size?: number;
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
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
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = data.length / (width * height);
  }
  const scale = png.depth === 16 ? 1 / 257 : 1;
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

/**
 * Decodes a JPEG or PNG file into a [height, width, 3] int32 tensor of values 0..255 (grey images
 * are repeated into three channels, alpha is dropped). The caller owns the result. The EXIF
 * orientation of a JPEG is not applied. Errors name the file: not found, not a JPEG or PNG, or a
 * file the decoder cannot read.
 */
export async function readImage(path: string): Promise<tf.Tensor3D> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load image "${path}": file not found`);
    }
    throw error;
  }
  let decoded: { width: number; height: number; rgb: Uint8Array };
  try {
    if (isJpeg(bytes)) {
      const image = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: false,
        maxMemoryUsageInMB: 1024,
      });
      decoded = { width: image.width, height: image.height, rgb: image.data };
    } else if (hasPngSignature(bytes)) {
      decoded = pngToRgb(path, bytes);
    } else {
      throw new TypeError(`Cannot load image "${path}": not a JPEG or PNG file`);
    }
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith("Cannot load image")) throw error;
    throw new Error(
      `Cannot load image "${path}": the file is damaged (${(error as Error).message})`,
    );
  }
  const { width, height, rgb } = decoded;
  if (rgb.length !== width * height * 3) {
    throw new Error(
      `Cannot load image "${path}": decoded ${rgb.length} values for ${width}x${height} RGB pixels`,
    );
  }
  return tf.tensor3d(Int32Array.from(rgb), [height, width, 3], "int32");
}

/**
 * Loads a photo as the course's `image.load_img(path, target_size=(64, 64))` does, ready for the
 * model after dividing by 255: a [size, size, 3] float32 tensor of values 0..255. Large photos are
 * first averaged over blocks of pixels (so that a 3024x3024 phone picture does not alias), then
 * resized bilinearly; the aspect ratio is not kept, as in the course. The caller owns the result.
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
  const image = await readImage(path);
  const [height, width] = image.shape;
  const result = tf.tidy(() => {
    let x = tf.expandDims(tf.cast(image, "float32"), 0) as tf.Tensor4D;
    const factor = Math.min(Math.floor(height / size), Math.floor(width / size));
    if (factor >= 2) x = tf.avgPool(x, factor, factor, "valid");
    return tf.squeeze(tf.image.resizeBilinear(x, [size, size], true), [0]) as tf.Tensor3D;
  });
  image.dispose();
  return result;
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
