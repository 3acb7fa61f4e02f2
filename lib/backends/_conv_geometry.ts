// The geometry of a 2-D convolution or pooling as the kernels in lib/backends/wasm and lib/backends/onednn use it:
// TF.js's conv or pool info reduced to plain numbers, for NHWC data without dilation.
import * as tf from "../tf.ts";

/** Sizes, strides and paddings of a sliding window over [n, h, w, channels] into [n, oh, ow, …]. */
export interface WindowGeometry {
  n: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  oh: number;
  ow: number;
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** One convolution: input [n, h, w, ci], output [n, oh, ow, co]. */
export interface ConvGeometry extends WindowGeometry {
  ci: number;
  co: number;
}

/** The window part of TF.js's conv or pool info. */
export function windowGeometry(info: tf.backend_util.Conv2DInfo): WindowGeometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    oh: info.outHeight,
    ow: info.outWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: info.padInfo.bottom,
    right: info.padInfo.right,
  };
}

/**
 * The geometry of a convolution of an input of `inShape` with a filter of `filterShape` ([kh, kw,
 * ci, co]) under a conv kernel's attributes (strides, pad, dimRoundingMode, dataFormat,
 * dilations); null for channels-first data or a dilation other than 1, which the kernels leave to
 * the backend's own.
 *
 * @example
 * ```ts
 * import { convGeometry } from "@lib/backends/_conv_geometry.ts";
 *
 * const g = convGeometry([2, 9, 9, 3], [3, 3, 3, 8], { strides: 2, pad: "same" });
 * console.log(g?.oh, g?.ow, g?.top, g?.bottom); // 5 5 1 1
 * ```
 */
export function convGeometry(
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: tf.NamedAttrMap,
): ConvGeometry | null {
  const dilations = attrs.dilations as number | number[] | undefined;
  const dilated = Array.isArray(dilations)
    ? dilations.some((d) => d !== 1)
    : (dilations ?? 1) !== 1;
  if (((attrs.dataFormat as string | undefined) ?? "NHWC") !== "NHWC" || dilated) return null;
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same" | "valid",
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  return { ...windowGeometry(info), ci: info.inChannels, co: info.outChannels };
}
