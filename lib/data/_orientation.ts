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
  // Where stored pixel (x, y) goes in the upright picture: ox = x0 + ox/x * x + ox/y * y, and
  // oy likewise, as [x0, ox/x, ox/y, y0, oy/x, oy/y].
  const maps: Record<number, number[]> = {
    2: [w - 1, -1, 0, 0, 0, 1],
    3: [w - 1, -1, 0, h - 1, 0, -1],
    4: [0, 1, 0, h - 1, 0, -1],
    5: [0, 0, 1, 0, 1, 0],
    6: [h - 1, 0, -1, 0, 1, 0],
    7: [h - 1, 0, -1, w - 1, -1, 0],
    8: [0, 0, 1, w - 1, -1, 0],
  };
  const map = maps[orientation];
  if (!map) {
    throw new RangeError(`Cannot orient an image: orientation ${orientation}, expected 1 to 8`);
  }
  const [x0, xPerX, xPerY, y0, yPerX, yPerY] = map;
  const outW = orientation >= 5 ? h : w;
  // The same as pixel offsets in the upright picture: one step per stored column and per row.
  const stepX = yPerX * outW + xPerX;
  const stepY = yPerY * outW + xPerY;
  const out = new Uint8Array(rgb.length);
  for (let y = 0, from = 0; y < h; y++) {
    for (let x = 0, to = (y0 * outW + x0 + y * stepY) * 3; x < w; x++, from += 3, to += stepX * 3) {
      out[to] = rgb[from];
      out[to + 1] = rgb[from + 1];
      out[to + 2] = rgb[from + 2];
    }
  }
  return { width: outW, height: orientation >= 5 ? w : h, rgb: out };
}
