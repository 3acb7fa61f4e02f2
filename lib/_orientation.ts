// Turning decoded photo pixels upright, as the EXIF orientation recorded with them says.

/** Decoded pixels: interleaved RGB bytes, row by row. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/**
 * The pixels as they are meant to be seen, given the EXIF orientation the camera recorded with
 * them (1: as stored; 2: mirrored left to right; 3: turned 180 degrees; 4: mirrored top to
 * bottom; 5: mirrored along the main diagonal; 6: to be turned 90 degrees clockwise; 7: mirrored
 * along the other diagonal; 8: to be turned 90 degrees anticlockwise). Returns `image` itself for 1.
 */
export function orient(image: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return image;
  const { width: w, height: h, rgb } = image;
  const swaps = orientation >= 5;
  const [outW, outH] = swaps ? [h, w] : [w, h];
  const out = new Uint8Array(rgb.length);
  // For each stored pixel (x, y), where it goes in the upright picture.
  const place: Record<number, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [w - 1 - x, y],
    3: (x, y) => [w - 1 - x, h - 1 - y],
    4: (x, y) => [x, h - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [h - 1 - y, x],
    7: (x, y) => [h - 1 - y, w - 1 - x],
    8: (x, y) => [y, w - 1 - x],
  };
  const to = place[orientation];
  if (!to) {
    throw new RangeError(`Cannot orient an image: orientation ${orientation}, expected 1 to 8`);
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [ox, oy] = to(x, y);
      const from = (y * w + x) * 3;
      const dest = (oy * outW + ox) * 3;
      out[dest] = rgb[from];
      out[dest + 1] = rgb[from + 1];
      out[dest + 2] = rgb[from + 2];
    }
  }
  return { width: outW, height: outH, rgb: out };
}
