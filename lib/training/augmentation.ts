/**
 * Data augmentation, as the course's notes on practical advice for ConvNets recommend: mirroring,
 * random cropping and colour shifting make new training images out of old ones, each time a
 * mini-batch is drawn, without changing what they show (a hand with three fingers up, mirrored,
 * cropped a little or tinted, still shows three).
 *
 * @module
 */
import * as tf from "../tf.ts";
import { shapeText } from "../util/format.ts";

/** What {@linkcode augmentImages} changes; each part can be switched off. */
export interface Augmentation {
  /** Mirror each image left to right with probability 1/2. Default true. */
  flip?: boolean;
  /**
   * Crop each image to a random square of at least this fraction of its side, at a random place,
   * and scale it back to the full size (bilinear). 1 switches cropping off. Default 0.85.
   */
  cropScale?: number;
  /**
   * Add to each channel of each image a random value in [-colorShift, colorShift] (images scaled
   * to 0..1), then clip to 0..1. 0 switches it off. Default 0.1.
   */
  colorShift?: number;
}

/** The augmentation {@linkcode augmentImages} applies when given no options. */
export const DEFAULT_AUGMENTATION: Required<Augmentation> = {
  flip: true,
  cropScale: 0.85,
  colorShift: 0.1,
};

function checkAugmentation(options: Augmentation): Required<Augmentation> {
  const settings = { ...DEFAULT_AUGMENTATION, ...options };
  if (!(settings.cropScale > 0 && settings.cropScale <= 1)) {
    throw new RangeError(
      `Cannot augment images with cropScale ${settings.cropScale}: expected a fraction in (0, 1]`,
    );
  }
  if (!(settings.colorShift >= 0 && settings.colorShift <= 1)) {
    throw new RangeError(
      `Cannot augment images with colorShift ${settings.colorShift}: expected a value in [0, 1]`,
    );
  }
  return settings;
}

/**
 * A randomly changed copy of a batch of images ([n, height, width, channels], values 0..1): each
 * image mirrored, cropped and tinted on its own (see {@linkcode Augmentation}), on the active
 * backend. The random choices come from `random` (default `Math.random`, which `seedRandom`
 * seeds), so a seeded run augments the same way every time. The shape is kept; labels are not
 * touched. The caller owns the result.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import * as tf from "../tf.ts";
 * const x = tf.randomUniform([2, 8, 8, 3]) as tf.Tensor4D;
 * const y = augmentImages(x, { cropScale: 0.75 });
 * assertEquals(y.shape, [2, 8, 8, 3]);
 * tf.dispose([x, y]);
 * ```
 */
export function augmentImages(
  x: tf.Tensor4D,
  options: Augmentation = {},
  random: () => number = Math.random,
): tf.Tensor4D {
  const { flip, cropScale, colorShift } = checkAugmentation(options);
  if (x.rank !== 4) {
    throw new TypeError(
      `Cannot augment a tensor of shape ${
        shapeText(x.shape)
      }: expected [n, height, width, channels]`,
    );
  }
  const [n, height, width, channels] = x.shape;
  // All random numbers are drawn first, in a fixed order, so that the result depends only on them.
  const flips = Array.from({ length: n }, () => (flip ? random() < 0.5 : false));
  const boxes = Array.from({ length: n }, () => {
    const side = cropScale + (1 - cropScale) * random();
    const top = (1 - side) * random();
    const left = (1 - side) * random();
    return [top, left, top + side, left + side];
  });
  const shifts = Array.from(
    { length: n * channels },
    () => colorShift * (2 * random() - 1),
  );
  return tf.tidy(() => {
    let y: tf.Tensor4D = x;
    if (flip && flips.some((f) => f)) {
      const mask = tf.tensor4d(flips.map(Number), [n, 1, 1, 1]);
      const mirrored = tf.reverse(x, 2);
      y = tf.add(tf.mul(mirrored, mask), tf.mul(x, tf.sub(1, mask)));
    }
    if (cropScale < 1) {
      // Box corners are given as fractions of (size - 1), the centres of the edge pixels.
      y = tf.image.cropAndResize(
        y,
        tf.tensor2d(boxes),
        tf.tensor1d(Array.from({ length: n }, (_, i) => i), "int32"),
        [height, width],
        "bilinear",
      );
    }
    if (colorShift > 0) {
      y = tf.clipByValue(tf.add(y, tf.tensor4d(shifts, [n, 1, 1, channels])), 0, 1);
    }
    return y === x ? tf.clone(x) : y;
  });
}
