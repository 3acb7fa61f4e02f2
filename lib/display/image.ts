/**
 * Pictures of images: single images as PNG, grids with captions as HTML holding PNGs.
 *
 * @module
 */
import { encode } from "fast-png";
import * as tf from "../tf.ts";
import { type Displayable, displayable, escapeHtml, type MimeBundle, toBase64 } from "./bundle.ts";
import { shapeText } from "../util/format.ts";

/** An RGB image as interleaved bytes. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3` bytes, row by row. */
  data: Uint8Array;
}

/**
 * The pixels of a [height, width, 3] (or [1, height, width, 3]) tensor as bytes, or of image
 * `index` of a [n, height, width, 3] batch. Values are taken as 0..255 when the tensor is int32
 * or any value exceeds 1, else as 0..1 and multiplied by 255; then rounded and clipped. Does not
 * dispose the tensor.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const image = tf.tensor3d([0, 0.5, 1], [1, 1, 3]);
 * assertEquals(Array.from(imageBytes(image).data), [0, 128, 255]);
 * image.dispose();
 * ```
 */
export function imageBytes(image: tf.Tensor, index?: number): RgbImage {
  if (index !== undefined) {
    if (image.rank !== 4 || !Number.isInteger(index) || index < 0 || index >= image.shape[0]) {
      throw new RangeError(
        `Cannot show image ${index} of a tensor of shape ${shapeText(image.shape)}: ` +
          `expected [n, height, width, 3] and an index in 0..n-1`,
      );
    }
    const one = tf.slice(image, [index, 0, 0, 0], [1, -1, -1, -1]);
    try {
      return imageBytes(one);
    } catch (error) {
      // A backend that cannot read a result synchronously (webgpu under Deno) can still read a
      // batch loaded from memory, such as the SIGNS images: the image is taken from its values.
      let values;
      try {
        values = image.dataSync();
      } catch {
        throw error;
      }
      const size = one.size;
      return rgbBytes(
        values.subarray(index * size, (index + 1) * size),
        image.shape.slice(1),
        image.dtype,
      );
    } finally {
      one.dispose();
    }
  }
  const shape = image.rank === 4 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (shape.length !== 3 || shape[2] !== 3) {
    throw new TypeError(
      `Cannot show an image of shape ${shapeText(image.shape)}: expected [height, width, 3]`,
    );
  }
  return rgbBytes(image.dataSync(), shape, image.dtype);
}

/**
 * The images of a [n, height, width, 3] batch as RGB bytes, each scaled as
 * {@linkcode imageBytes} scales it, read with `await data()`: a batch computed on a backend that
 * cannot read its results synchronously (webgpu under Deno) shows with
 * `showImages(await imagesOf(batch))`. Does not dispose the batch.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const batch = tf.tensor4d([0, 0.5, 1, 0, 0, 0], [2, 1, 1, 3]);
 * const images = await imagesOf(batch);
 * assertEquals(images.map((image) => Array.from(image.data)), [[0, 128, 255], [0, 0, 0]]);
 * batch.dispose();
 * ```
 */
export async function imagesOf(batch: tf.Tensor): Promise<RgbImage[]> {
  if (batch.rank !== 4 || batch.shape[3] !== 3) {
    throw new TypeError(
      `Cannot read images from a tensor of shape ${shapeText(batch.shape)}: ` +
        "expected [n, height, width, 3]",
    );
  }
  const values = await batch.data();
  const [n, height, width] = batch.shape;
  const size = height * width * 3;
  return Array.from(
    { length: n },
    (_, i) => rgbBytes(values.subarray(i * size, (i + 1) * size), [height, width], batch.dtype),
  );
}

// Values of 0..255 (int32, or any value above 1), or of 0..1 scaled to 0..255, as bytes.
function rgbBytes(values: ArrayLike<number>, shape: number[], dtype: string): RgbImage {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  const scale = dtype === "int32" || max > 1 ? 1 : 255;
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    data[i] = Math.min(255, Math.max(0, Math.round(values[i] * scale)));
  }
  return { height: shape[0], width: shape[1], data };
}

/**
 * Enlarges an image `factor` times by repeating pixels (small images stay sharp).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const big = upscale({ width: 1, height: 1, data: Uint8Array.of(9, 8, 7) }, 2);
 * assertEquals([big.width, big.height, big.data.length], [2, 2, 12]);
 * ```
 */
export function upscale(image: RgbImage, factor: number): RgbImage {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new RangeError(`Cannot enlarge an image ${factor} times: expected a positive integer`);
  }
  if (factor === 1) return image;
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sourceRow = Math.floor(y / factor) * image.width;
    for (let x = 0; x < width; x++) {
      const s = (sourceRow + Math.floor(x / factor)) * 3;
      data.set(image.data.subarray(s, s + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/**
 * PNG bytes of an RGB image, encoded by fast-png.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decode } from "fast-png";
 * const png = encodePng({ width: 1, height: 1, data: Uint8Array.of(255, 0, 0) });
 * assertEquals(Array.from(decode(png).data), [255, 0, 0]);
 * ```
 */
export function encodePng(image: RgbImage): Uint8Array {
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(
      `Cannot encode a ${image.width}x${image.height} image from ${image.data.length} bytes: ` +
        `expected ${image.width * image.height * 3}`,
    );
  }
  return encode({
    width: image.width,
    height: image.height,
    data: image.data,
    channels: 3,
    depth: 8,
  });
}

function isRgbImage(value: unknown): value is RgbImage {
  return typeof value === "object" && value !== null && !(value instanceof tf.Tensor) &&
    (value as RgbImage).data instanceof Uint8Array;
}

/** The bytes of an image given as a tensor or as an {@linkcode RgbImage}. */
function pixelsOf(image: tf.Tensor | RgbImage, index?: number): RgbImage {
  if (image instanceof tf.Tensor) return imageBytes(image, index);
  if (isRgbImage(image)) {
    if (index !== undefined) {
      throw new TypeError(`Cannot pick image ${index} of a single RGB image: index needs a batch`);
    }
    return image;
  }
  throw new TypeError(
    `Cannot show ${typeof image === "object" ? "this object" : typeof image} as an image: ` +
      "expected a tensor or { width, height, data: Uint8Array }",
  );
}

/** Options of {@linkcode toPng}. */
export interface ToPngOptions {
  /** Which image of a batch [n, height, width, 3] to encode. */
  index?: number;
  /** Integer enlargement factor. Default 1. */
  scale?: number;
}

/**
 * PNG bytes of an image: a [height, width, 3] tensor (values 0..255 or 0..1, see
 * {@linkcode imageBytes}), image `index` of a batch, or RGB bytes. Does not dispose the tensor.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decode } from "fast-png";
 * import * as tf from "../tf.ts";
 * const green = tf.tensor3d([0, 1, 0], [1, 1, 3]);
 * const png = decode(toPng(green, { scale: 2 }));
 * assertEquals([png.width, png.height], [2, 2]);
 * assertEquals(Array.from(png.data.slice(0, 3)), [0, 255, 0]);
 * green.dispose();
 * ```
 */
export function toPng(image: tf.Tensor | RgbImage, options: ToPngOptions = {}): Uint8Array {
  return encodePng(upscale(pixelsOf(image, options.index), options.scale ?? 1));
}

/** Options of {@linkcode showImage}. */
export interface ShowImageOptions {
  /** Which image of a batch [n, height, width, 3] to show. */
  index?: number;
  /** Text under the picture (HTML outputs) and in the plain-text output. */
  caption?: string;
  /** Integer enlargement factor. Default 3 (64x64 images show as 192x192). */
  scale?: number;
}

/** A picture that displays as PNG in a notebook; `png` holds its bytes. */
export interface ImageView extends Displayable {
  /** The encoded PNG. */
  png: Uint8Array;
  /** Width and height of the PNG, after enlargement. */
  width: number;
  height: number;
  /** The caption, if any. */
  caption?: string;
}

/**
 * A picture of one image for a notebook: a [height, width, 3] tensor (values 0..255 or 0..1),
 * image `index` of a batch, or RGB bytes. Displays as a PNG output, with the caption as its
 * plain-text form. Does not dispose the tensor.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const red = tf.tensor3d([255, 0, 0], [1, 1, 3], "int32");
 * const view = showImage(red, { scale: 2, caption: "red" });
 * assertEquals([view.width, view.height], [2, 2]);
 * red.dispose();
 * ```
 */
export function showImage(image: tf.Tensor | RgbImage, options: ShowImageOptions = {}): ImageView {
  const big = upscale(pixelsOf(image, options.index), options.scale ?? 3);
  const png = encodePng(big);
  const { caption } = options;
  return displayable({ png, width: big.width, height: big.height, caption }, (): MimeBundle => ({
    "image/png": toBase64(png),
    "text/plain": caption ?? `image ${big.width}x${big.height}`,
  }));
}

/** Options of {@linkcode showImages}. */
export interface ShowImagesOptions {
  /** One caption per image. */
  captions?: string[];
  /** Images per row. Default 8. */
  columns?: number;
  /** Integer enlargement factor. Default 2. */
  scale?: number;
  /** A heading above the grid. */
  title?: string;
}

/** A grid of pictures that displays as HTML (PNG images with captions). */
export interface ImageGrid extends Displayable {
  /** The pictures, in order. */
  images: ImageView[];
}

/**
 * A grid of images with captions, from a [n, height, width, 3] tensor or a list of images
 * ([height, width, 3] tensors or RGB bytes). Displays as an HTML table of PNG pictures. Does not
 * dispose the tensors.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const images = tf.zeros([3, 4, 4, 3]);
 * const grid = showImages(images, { captions: ["a", "b", "c"], columns: 2 });
 * assertEquals(grid.images.map((view) => view.caption), ["a", "b", "c"]);
 * images.dispose();
 * ```
 */
export function showImages(
  images: tf.Tensor | (tf.Tensor | RgbImage)[],
  options: ShowImagesOptions = {},
): ImageGrid {
  if (!Array.isArray(images) && images.rank !== 4) {
    throw new TypeError(
      `Cannot show a grid of images from a tensor of shape ${shapeText(images.shape)}: ` +
        "expected [n, height, width, 3]",
    );
  }
  const count = Array.isArray(images) ? images.length : images.shape[0];
  const captions = options.captions ?? [];
  if (captions.length > 0 && captions.length !== count) {
    throw new RangeError(`Cannot show ${count} images with ${captions.length} captions`);
  }
  const columns = options.columns ?? 8;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(
      `Cannot lay out images in ${columns} columns: expected a positive integer`,
    );
  }
  const views = Array.from({ length: count }, (_, i) => {
    const view = { caption: captions[i], scale: options.scale ?? 2 };
    return Array.isArray(images)
      ? showImage(images[i], view)
      : showImage(images, { ...view, index: i });
  });
  const cells = views.map((view) =>
    `<td style="text-align:center;padding:4px"><img src="data:image/png;base64,${
      toBase64(view.png)
    }" ` +
    `width="${view.width}" height="${view.height}" style="image-rendering:pixelated"/>` +
    (view.caption
      ? `<br/><span style="font-size:smaller">${escapeHtml(view.caption)}</span>`
      : "") +
    "</td>"
  );
  const rows: string[] = [];
  for (let i = 0; i < cells.length; i += columns) {
    rows.push(`<tr>${cells.slice(i, i + columns).join("")}</tr>`);
  }
  const title = options.title
    ? `<div style="font-weight:bold">${escapeHtml(options.title)}</div>`
    : "";
  return displayable({ images: views }, (): MimeBundle => ({
    "text/html": `${title}<table style="border-collapse:collapse">${rows.join("")}</table>`,
    "text/plain": `${views.length} images${options.title ? `: ${options.title}` : ""}`,
  }));
}

/** Options of {@linkcode classGallery}. */
export interface ClassGalleryOptions {
  /** Images shown per class. Default 6. */
  perClass?: number;
  /** Integer enlargement factor. Default 1. */
  scale?: number;
}

/**
 * The first `perClass` images of every class, one row per class, captioned with the label: how
 * much the pictures of one class vary. `labels` is a [1, m] or [m] tensor of class numbers. Does
 * not dispose its inputs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const images = tf.zeros([3, 2, 2, 3]) as tf.Tensor4D;
 * const labels = tf.tensor1d([1, 0, 1], "int32");
 * const grid = await classGallery(images, labels, { perClass: 1 });
 * assertEquals(grid.images.map((view) => view.caption), ["y = 0 (#1)", "y = 1 (#0)"]);
 * tf.dispose([images, labels]);
 * ```
 */
export async function classGallery(
  images: tf.Tensor4D,
  labels: tf.Tensor,
  options: ClassGalleryOptions = {},
): Promise<ImageGrid> {
  const perClass = options.perClass ?? 6;
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new RangeError(`Cannot show ${perClass} images per class: expected a positive integer`);
  }
  const values = Array.from(await labels.data());
  if (values.length !== images.shape[0]) {
    throw new RangeError(`Cannot match ${images.shape[0]} images with ${values.length} labels`);
  }
  const classes = [...new Set(values)].sort((a, b) => a - b);
  const picked: number[] = [];
  const captions: string[] = [];
  for (const c of classes) {
    const indices = values.flatMap((v, i) => (v === c ? [i] : [])).slice(0, perClass);
    for (const i of indices) {
      picked.push(i);
      captions.push(`y = ${c} (#${i})`);
    }
  }
  // Image by image from the batch (not a gathered copy): a backend that cannot read results
  // synchronously can still read the batch (see imageBytes).
  const pictures = picked.map((i) => imageBytes(images, i));
  return showImages(pictures, { captions, columns: perClass, scale: options.scale ?? 1 });
}
