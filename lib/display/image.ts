/**
 * Pictures of images: single images as PNG, grids with captions as HTML holding PNGs.
 *
 * @module
 */
import { encode } from "fast-png";
import * as tf from "../tf.ts";
import { type Displayable, displayable, escapeHtml, type MimeBundle, toBase64 } from "./_bundle.ts";

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
 * The pixels of a [height, width, 3] (or [1, height, width, 3]) tensor as bytes. Values are taken
 * as 0..255 when the tensor is int32 or any value exceeds 1, else as 0..1 and multiplied by 255;
 * then rounded and clipped. Does not dispose the tensor.
 */
export function imageBytes(image: tf.Tensor, index?: number): RgbImage {
  if (index !== undefined) {
    if (image.rank !== 4 || !Number.isInteger(index) || index < 0 || index >= image.shape[0]) {
      throw new RangeError(
        `Cannot show image ${index} of a tensor of shape [${image.shape.join(", ")}]: ` +
          `expected [n, height, width, 3] and an index in 0..n-1`,
      );
    }
    const one = tf.slice(image, [index, 0, 0, 0], [1, -1, -1, -1]);
    try {
      return imageBytes(one);
    } finally {
      one.dispose();
    }
  }
  const shape = image.rank === 4 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (shape.length !== 3 || shape[2] !== 3) {
    throw new TypeError(
      `Cannot show an image of shape [${image.shape.join(", ")}]: expected [height, width, 3]`,
    );
  }
  const values = image.dataSync();
  let max = 0;
  for (const v of values) if (v > max) max = v;
  const scale = image.dtype === "int32" || max > 1 ? 1 : 255;
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    data[i] = Math.min(255, Math.max(0, Math.round(values[i] * scale)));
  }
  return { height: shape[0], width: shape[1], data };
}

/** Enlarges an image `factor` times by repeating pixels (small images stay sharp). */
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

/** PNG bytes of an RGB image, encoded by fast-png. */
export function encodePng(image: RgbImage): Uint8Array {
  return encode({
    width: image.width,
    height: image.height,
    data: image.data,
    channels: 3,
    depth: 8,
  });
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
 * A picture of one image tensor ([height, width, 3], values 0..255 or 0..1), or of image `index`
 * of a batch, for a notebook: a PNG output, with the caption as plain text beside it. Does not
 * dispose the tensor.
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
export function showImage(image: tf.Tensor, options: ShowImageOptions = {}): ImageView {
  const big = upscale(imageBytes(image, options.index), options.scale ?? 3);
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
 * A grid of images with captions, from a [n, height, width, 3] tensor or a list of [height, width,
 * 3] tensors. Displays as an HTML table of PNG pictures. Does not dispose the tensors.
 */
export function showImages(
  images: tf.Tensor | tf.Tensor[],
  options: ShowImagesOptions = {},
): ImageGrid {
  const list = Array.isArray(images) ? images : tf.unstack(images);
  const captions = options.captions ?? [];
  if (captions.length > 0 && captions.length !== list.length) {
    throw new RangeError(`Cannot show ${list.length} images with ${captions.length} captions`);
  }
  const columns = options.columns ?? 8;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(
      `Cannot lay out images in ${columns} columns: expected a positive integer`,
    );
  }
  const views = list.map((image, i) =>
    showImage(image, { caption: captions[i], scale: options.scale ?? 2 })
  );
  if (!Array.isArray(images)) tf.dispose(list);
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
  const chosen = tf.gather(images, picked);
  const grid = showImages(chosen, { captions, columns: perClass, scale: options.scale ?? 1 });
  chosen.dispose();
  return grid;
}
