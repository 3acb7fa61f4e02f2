// The check both models make of the image shape they are built for.
import { shapeText } from "../util/format.ts";

/**
 * Refuses an input shape that is not [height, width, channels] of positive integers, with a
 * `TypeError` naming the model (`what`, e.g. "ResNet-50") and the shape.
 */
export function checkInputShape(what: string, inputShape: readonly number[]): void {
  if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(
      `Cannot build ${what} for input shape ${
        shapeText(inputShape)
      }: expected [height, width, channels] of positive integers`,
    );
  }
}
