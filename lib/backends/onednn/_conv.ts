// Convolutions through oneDNN: forward (with bias), input gradient and filter gradient, on NHWC
// activations and HWIO filters held in Float32Arrays. Primitives are created once per geometry and
// cached; oneDNN chooses the weights layout it runs fastest with (forcing HWIO makes it fall back
// to a slower im2col path). Filters are reordered into that layout when they change (the caller
// names the filter's data with a key object: tensors are immutable, so the same key means the
// same values), and filter gradients out of it on every call.
//
// The gradients of a 1x1 convolution of stride 1 without padding (most of ResNet-50's) are plain
// matrix products over the rows of NHWC pixels, run as oneDNN's sgemm, which is faster than the
// primitive with its weights reorder; forward passes stay on the primitive, which is as fast.
//
// A 1x1 convolution with strides and no padding is the same matrix product over every s-th pixel.
// Its gradients are sgemm around a subsampling of x (filter gradient) or a scattering of the input
// gradient into zeros; the forward pass too where oneDNN has no 1x1 kernel for the shape (on some
// CPUs it runs a generic kernel on ResNet-50's 15x15 inputs).
//
// Where oneDNN has no direct kernel for a filter gradient (with AVX2, a 3x3 convolution over 2x2
// pixels, which now takes the products below instead), its primitive is its own slow im2col +
// gemm with a copy of the gradient. There this module lays the input windows out as rows itself
// (im2col) and runs one sgemm. Everywhere else the primitive is at least as fast as that lowering.
// The README gives the figures measured for each of these choices.
//
// 3x3 convolutions of stride 1 over at least 8x8 output pixels run oneDNN's Winograd kernels
// (F(4x4, 3x3)) where the CPU has them (oneDNN 2.6: AVX-512), in all three directions: fewer
// multiplications than a direct convolution. They read and write activations in a blocked layout
// of oneDNN's choice, so the NHWC tensors are reordered in and out around them; an output gradient
// reordered for the input gradient is kept for the filter gradient that follows it, and the
// forward pass and the input gradient share one copy of the filter. Over ResNet-50's 4x4 pixels
// those reorders cost what the kernels save, and over 2x2 most of each tile is padding.
//
// 3x3 convolutions over images of at most 2x2 pixels (ResNet-50's last stage) are matrix products
// on the filter as stored, per window row and filter tap (_tapwise.ts), in both precisions. The
// README gives the figures for these choices.
//
// In mixed bfloat16 (_bfloat16.ts) the same paths read their inputs rounded to bfloat16: the
// forward and input-gradient primitives, and the matrix products through gemm_bf16bf16f32. Filter
// gradients are im2col + that product up to a size (BFLOAT16_COLUMNS), and the float32 primitive
// above it.
import { check, DNNL, type Dnnl } from "./_ffi.ts";
import {
  alignedFloats,
  Cache,
  descPointer as ptr,
  dims,
  gemm,
  pinned,
  Primitive,
  sameDesc,
  taggedDesc,
  type Values,
  writeInto,
} from "./_primitive.ts";
import { currentPrecision, gradientToBfloat16, toBfloat16 } from "./_bfloat16.ts";
import {
  tapwise,
  tapwiseFilterGradient,
  tapwiseForward,
  tapwiseInputGradient,
} from "./_tapwise.ts";
import * as tf from "../../tf.ts";
import { scatter, subsample } from "../_layout.ts";
import { type ConvGeometry, convGeometry as geometry } from "../_conv_geometry.ts";
import { Scope } from "../_heap.ts";
import { type KernelArgs, runWasmKernel } from "../_kernel.ts";

type Pointer = Deno.PointerValue;

function describe(g: ConvGeometry): string {
  return `x [${g.n}, ${g.h}, ${g.w}, ${g.ci}], filter [${g.kh}, ${g.kw}, ${g.ci}, ${g.co}], ` +
    `strides [${g.sh}, ${g.sw}], pads [${g.top}, ${g.left}, ${g.bottom}, ${g.right}]`;
}

/**
 * A filter in a primitive's weights layout, and the filter whose values it holds (`key`: forward
 * and input gradient only). Two directions with the same layout share one.
 */
interface FilterCopy {
  weights: Values;
  key?: object;
}

/** A convolution primitive with its weights in oneDNN's layout, and the reorder between them. */
interface Direction {
  op: Primitive;
  reorder: Primitive;
  filter: FilterCopy;
  // Winograd: the activations the primitive reads and writes, in its blocked layouts.
  blocked?: { src?: Blocked; dst?: Blocked; diffDst?: Blocked; diffSrc?: Blocked };
}

// Buffers of activations in a Winograd primitive's blocked layout (see `buffer` below): what it
// reads, what it writes, and a gradient kept from the input gradient for the filter gradient.
const enum Slot {
  Input = 3,
  Output = 4,
  Gradient = 5,
}

/** An activation in a primitive's blocked layout, and the reorder between it and NHWC. */
class Blocked {
  private readonly reorder: Primitive;
  private readonly floats: number;

  constructor(
    dnnl: Dnnl,
    private readonly user: Uint8Array,
    readonly md: Pointer,
    inward: boolean,
    private readonly slot: Slot,
    what: string,
  ) {
    const [from, to] = inward ? [ptr(user), md] : [md, ptr(user)];
    this.reorder = Primitive.reorder(dnnl, from, to, `activation reorder, ${what}`);
    this.floats = Math.ceil(Number(dnnl.fn.dnnl_memory_desc_get_size(md)) / 4);
  }

  /** The slot's buffer, sized for this layout. */
  get values(): Float32Array {
    return buffer(this.slot, this.floats);
  }

  /** `values` (NHWC) reordered into the slot's buffer, which it returns. */
  from(values: Float32Array): Float32Array {
    const into = this.values;
    this.reorder.execute([[DNNL.arg.from, ptr(this.user), pinned(values)], [
      DNNL.arg.to,
      this.md,
      into,
    ]]);
    return into;
  }

  /** The slot's buffer reordered into `out` (NHWC). */
  into(out: Float32Array): void {
    writeInto(out, (target) =>
      this.reorder.execute([[DNNL.arg.from, this.md, this.values], [
        DNNL.arg.to,
        ptr(this.user),
        target,
      ]]));
  }

  /** Whether `other` has the same layout. */
  sameLayout(other: Blocked): boolean {
    return sameDesc(this.md, other.md);
  }

  destroy(): void {
    this.reorder.destroy();
  }
}

// The gradient held in Slot.Gradient: the plan that reordered it, the tensor it came from, and its
// layout.
let keptGradient: { plan: ConvPlan; key: object; layout: Blocked } | undefined;

// Winograd's kernels are used from this many output pixels per image (8x8) up.
const WINOGRAD_MIN_PIXELS = 64;

/**
 * The primitives of one convolution geometry. With `bf16`, the forward pass and the input
 * gradient read activations, their gradients and filters rounded to bfloat16 and write float32
 * (mixed precision, _bfloat16.ts); the filter gradient's primitive is always float32 (see
 * convBackpropFilter).
 */
export class ConvPlan {
  private readonly user: {
    src: Uint8Array;
    weights: Uint8Array;
    bias: Uint8Array;
    dst: Uint8Array;
    // What the primitives read: src and dst (as the output's gradient) in bfloat16 where `bf16`.
    srcIn: Uint8Array;
    dstIn: Uint8Array;
    // Winograd's activations: the layout is oneDNN's choice.
    anySrc: Uint8Array;
    anyDst: Uint8Array;
  };
  private readonly inType: number;
  // Whether the forward pass tries Winograd's kernels, and whether the forward pass has them.
  private readonly winogradWanted: boolean;
  private winograd = false;
  private biasCopy?: Float32Array;
  private readonly what: string;
  private forward?: Direction;
  private backwardData?: Direction;
  private backwardWeights?: Direction;
  // Instead of backwardWeights where oneDNN's is its im2col + gemm: the rows of input windows.
  private columns?: Float32Array;
  private forwardIs1x1?: boolean;
  private filterGradientImpl?: string;

  constructor(
    readonly dnnl: Dnnl,
    readonly g: ConvGeometry,
    readonly withBias: boolean,
    readonly bf16 = false,
  ) {
    this.what = `convolution ${describe(g)}${bf16 ? " in bfloat16" : ""}`;
    this.inType = bf16 ? DNNL.bf16 : DNNL.f32;
    const src = [g.n, g.ci, g.h, g.w];
    const dst = [g.n, g.co, g.oh, g.ow];
    this.user = {
      src: taggedDesc(dnnl, src, DNNL.tag.nhwc, this.what),
      weights: taggedDesc(dnnl, [g.co, g.ci, g.kh, g.kw], DNNL.tag.hwio, this.what),
      bias: taggedDesc(dnnl, [g.co], DNNL.tag.x, this.what),
      dst: taggedDesc(dnnl, dst, DNNL.tag.nhwc, this.what),
      srcIn: taggedDesc(dnnl, src, DNNL.tag.nhwc, this.what, this.inType),
      dstIn: taggedDesc(dnnl, dst, DNNL.tag.nhwc, this.what, this.inType),
      anySrc: taggedDesc(dnnl, src, DNNL.tag.any, this.what),
      anyDst: taggedDesc(dnnl, dst, DNNL.tag.any, this.what),
    };
    this.winogradWanted = !bf16 && g.kh === 3 && g.kw === 3 && g.sh === 1 && g.sw === 1 &&
      g.oh * g.ow >= WINOGRAD_MIN_PIXELS;
  }

  // `values` as the primitives read them: rounded to bfloat16 where `bf16` (an output gradient,
  // named by `gradientKey`, into the buffer that keeps it for the filter gradient).
  private input(values: Float32Array, gradientKey?: object): Values {
    if (!this.bf16) return pinned(values);
    return gradientKey
      ? gradientToBfloat16(this.dnnl, values, gradientKey)
      : toBfloat16(this.dnnl, values, 0);
  }

  private descriptor(
    init: (desc: Uint8Array, anyWeights: Uint8Array) => number,
    kind: string,
    weightsType = this.inType,
  ) {
    const g = this.g;
    const desc = new Uint8Array(DNNL.convDescBytes);
    const shape = [g.co, g.ci, g.kh, g.kw];
    const anyWeights = taggedDesc(this.dnnl, shape, DNNL.tag.any, this.what, weightsType);
    check(init(desc, anyWeights), `${kind} ${this.what}: descriptor`);
    return desc;
  }

  private get geometryArrays(): [BigInt64Array, BigInt64Array, BigInt64Array] {
    const g = this.g;
    return [dims([g.sh, g.sw]), dims([g.top, g.left]), dims([g.bottom, g.right])];
  }

  /**
   * The primitive `create` makes for an algorithm and the source and destination layouts: with
   * `winograd`, Winograd's kernels on activations in layouts of oneDNN's choice where it has them
   * for this CPU and shape; else the direct ones on `direct` (NHWC).
   */
  private primitive(
    winograd: boolean,
    create: (algorithm: number, src: Uint8Array, dst: Uint8Array) => Primitive,
    direct: [Uint8Array, Uint8Array],
  ): { op: Primitive; winograd: boolean } {
    if (winograd) {
      let op: Primitive | undefined;
      try {
        op = create(DNNL.convolutionWinograd, this.user.anySrc, this.user.anyDst);
      } catch {
        // no Winograd kernel on this CPU for this shape: the direct one below
      }
      if (op?.implementation().includes("wino")) return { op, winograd: true };
      op?.destroy();
    }
    return { op: create(DNNL.convolutionDirect, ...direct), winograd: false };
  }

  // A primitive and its weights reorder (into its layout, or for gradients out of it).
  private direction(op: Primitive, gradient: boolean): Direction {
    const query = gradient ? DNNL.query.diffWeights : DNNL.query.weights;
    const blocked = op.md(query);
    const user = ptr(this.user.weights);
    const reorder = gradient
      ? Primitive.reorder(this.dnnl, blocked, user, `filter-gradient reorder, ${this.what}`)
      : Primitive.reorder(this.dnnl, user, blocked, `filter reorder, ${this.what}`);
    const bytes = Math.max(op.bytes(query), 512);
    const bf16 = this.bf16 && !gradient;
    const weights = bf16 ? new Uint16Array(bytes / 2) : alignedFloats(Math.ceil(bytes / 4));
    return { op, reorder, filter: { weights } };
  }

  // A Winograd primitive's activation `query`, moved from or to NHWC (`user`) through `slot`.
  private blocked(op: Primitive, query: number, user: Uint8Array, inward: boolean, slot: Slot) {
    return new Blocked(this.dnnl, user, op.md(query), inward, slot, this.what);
  }

  private ensureForward(): Direction {
    if (this.forward) return this.forward;
    const [strides, left, right] = this.geometryArrays;
    const { op, winograd } = this.primitive(this.winogradWanted, (algorithm, src, dst) => {
      const desc = this.descriptor(
        (d, anyWeights) =>
          this.dnnl.fn.dnnl_convolution_forward_desc_init(
            d,
            DNNL.prop.forwardTraining,
            algorithm,
            src,
            anyWeights,
            this.withBias ? this.user.bias : null,
            dst,
            strides,
            left,
            right,
          ),
        "forward",
      );
      return Primitive.create(this.dnnl, desc, `forward ${this.what}`);
    }, [this.user.srcIn, this.user.dst]);
    this.winograd = winograd;
    const forward = this.direction(op, false);
    if (winograd) {
      forward.blocked = {
        src: this.blocked(op, DNNL.query.src, this.user.src, true, Slot.Input),
        dst: this.blocked(op, DNNL.query.dst, this.user.dst, false, Slot.Output),
      };
    }
    this.forward = forward;
    return forward;
  }

  private ensureBackwardData(): Direction {
    if (this.backwardData) return this.backwardData;
    const hint = this.ensureForward().op.pd;
    const [strides, left, right] = this.geometryArrays;
    const { op, winograd } = this.primitive(this.winograd, (algorithm, src, dst) => {
      const desc = this.descriptor(
        (d, anyWeights) =>
          this.dnnl.fn.dnnl_convolution_backward_data_desc_init(
            d,
            algorithm,
            src,
            anyWeights,
            dst,
            strides,
            left,
            right,
          ),
        "input-gradient",
      );
      return Primitive.create(this.dnnl, desc, `input-gradient ${this.what}`, hint);
    }, [this.user.src, this.user.dstIn]);
    const backwardData = this.direction(op, false);
    // Winograd's forward pass and input gradient read the filter in the same layout: one copy.
    const forward = this.forward!;
    if (sameDesc(forward.op.md(DNNL.query.weights), op.md(DNNL.query.weights))) {
      backwardData.filter = forward.filter;
    }
    if (winograd) {
      backwardData.blocked = {
        diffDst: this.blocked(op, DNNL.query.diffDst, this.user.dst, true, Slot.Gradient),
        diffSrc: this.blocked(op, DNNL.query.diffSrc, this.user.src, false, Slot.Output),
      };
    }
    this.backwardData = backwardData;
    return backwardData;
  }

  private ensureBackwardWeights(): Direction | Float32Array {
    if (this.backwardWeights) return this.backwardWeights;
    if (this.columns) return this.columns;
    const hint = this.ensureForward().op.pd;
    const [strides, left, right] = this.geometryArrays;
    const { op, winograd } = this.primitive(this.winograd, (algorithm, src, dst) => {
      const desc = this.descriptor(
        (d, anyWeights) =>
          this.dnnl.fn.dnnl_convolution_backward_weights_desc_init(
            d,
            algorithm,
            src,
            anyWeights,
            null,
            dst,
            strides,
            left,
            right,
          ),
        "filter-gradient",
        DNNL.f32,
      );
      return Primitive.create(this.dnnl, desc, `filter-gradient ${this.what}`, hint);
    }, [this.user.src, this.user.dst]);
    this.filterGradientImpl = op.implementation();
    if (IM2COL_GEMM.test(this.filterGradientImpl)) {
      op.destroy();
      this.columns = new Float32Array(columnCount(this.g));
      return this.columns;
    }
    const backwardWeights = this.direction(op, true);
    if (winograd) {
      backwardWeights.blocked = {
        src: this.blocked(op, DNNL.query.src, this.user.src, true, Slot.Input),
        diffDst: this.blocked(op, DNNL.query.diffDst, this.user.dst, true, Slot.Gradient),
      };
    }
    this.backwardWeights = backwardWeights;
    return backwardWeights;
  }

  // Brings the filter `w` (named by `key`) into the direction's weights layout, unless it is there.
  private loadFilter(d: Direction, w: Float32Array, key: object): void {
    if (d.filter.key === key) return;
    d.filter.key = undefined;
    d.reorder.execute([
      [DNNL.arg.from, ptr(this.user.weights), pinned(w)],
      [DNNL.arg.to, d.op.md(DNNL.query.weights), d.filter.weights],
    ]);
    d.filter.key = key;
  }

  // The output gradient `dy` (named by `key`) in a Winograd direction's layout: reordered into
  // Slot.Gradient, unless the input gradient just left it there in the same layout.
  private blockedGradient(d: Blocked, dy: Float32Array, key: object): Float32Array {
    const kept = keptGradient;
    keptGradient = undefined;
    const reuse = kept?.plan === this && kept.key === key &&
      (kept.layout === d || kept.layout.sameLayout(d));
    const values = reuse ? d.values : d.from(dy);
    keptGradient = { plan: this, key, layout: d };
    return values;
  }

  // A copy of `bias` at an address Winograd's kernels can read (they require 64-byte alignment).
  private alignedBias(bias: Float32Array): Float32Array {
    this.biasCopy ??= alignedFloats(this.g.co);
    this.biasCopy.set(bias);
    return this.biasCopy;
  }

  /** out = conv(x, w) (+ bias). x NHWC, w HWIO (its data named by `key`), out NHWC. */
  forwardInto(
    x: Float32Array,
    w: Float32Array,
    key: object,
    bias: Float32Array | null,
    out: Float32Array,
  ): void {
    const f = this.ensureForward();
    this.loadFilter(f, w, key);
    const blocked = f.blocked;
    const run = (target: Float32Array) => {
      const args: [number, Pointer, Values][] = [
        [
          DNNL.arg.src,
          blocked?.src?.md ?? ptr(this.user.srcIn),
          blocked?.src?.from(x) ?? this.input(x),
        ],
        [DNNL.arg.weights, f.op.md(DNNL.query.weights), f.filter.weights],
        [DNNL.arg.dst, blocked?.dst?.md ?? ptr(this.user.dst), target],
      ];
      if (this.withBias && bias) {
        args.push([
          DNNL.arg.bias,
          ptr(this.user.bias),
          blocked ? this.alignedBias(bias) : pinned(bias),
        ]);
      }
      f.op.execute(args);
    };
    if (!blocked) return writeInto(out, run);
    run(blocked.dst!.values);
    blocked.dst!.into(out);
  }

  /**
   * dx = input gradient of the convolution, from dy (NHWC, its data named by `dyKey`) and w (HWIO,
   * named by `key`).
   */
  backwardDataInto(
    dy: Float32Array,
    dyKey: object,
    w: Float32Array,
    key: object,
    dx: Float32Array,
  ): void {
    const b = this.ensureBackwardData();
    this.loadFilter(b, w, key);
    const blocked = b.blocked;
    const run = (target: Float32Array) =>
      b.op.execute([
        [
          DNNL.arg.diffDst,
          blocked?.diffDst?.md ?? ptr(this.user.dstIn),
          blocked ? this.blockedGradient(blocked.diffDst!, dy, dyKey) : this.input(dy, dyKey),
        ],
        [DNNL.arg.weights, b.op.md(DNNL.query.weights), b.filter.weights],
        [DNNL.arg.diffSrc, blocked?.diffSrc?.md ?? ptr(this.user.src), target],
      ]);
    if (!blocked) return writeInto(dx, run);
    run(blocked.diffSrc!.values);
    blocked.diffSrc!.into(dx);
  }

  /**
   * dw (HWIO) = filter gradient of the convolution, from x and dy (NHWC, its data named by
   * `dyKey`), in float32.
   */
  backwardWeightsInto(x: Float32Array, dy: Float32Array, dyKey: object, dw: Float32Array): void {
    const b = this.ensureBackwardWeights();
    if (b instanceof Float32Array) {
      return filterGradientByColumns(this.dnnl, this.g, x, dy, dyKey, dw, b);
    }
    const blocked = b.blocked;
    b.op.execute([
      [DNNL.arg.src, blocked?.src?.md ?? ptr(this.user.src), blocked?.src?.from(x) ?? pinned(x)],
      [
        DNNL.arg.diffDst,
        blocked?.diffDst?.md ?? ptr(this.user.dst),
        blocked ? this.blockedGradient(blocked.diffDst!, dy, dyKey) : pinned(dy),
      ],
      [DNNL.arg.diffWeights, b.op.md(DNNL.query.diffWeights), b.filter.weights],
    ]);
    writeInto(dw, (target) =>
      b.reorder.execute([
        [DNNL.arg.from, b.op.md(DNNL.query.diffWeights), b.filter.weights],
        [DNNL.arg.to, ptr(this.user.weights), target],
      ]));
  }

  /** Whether the convolution runs oneDNN's Winograd kernels (decided with its forward pass). */
  get byWinograd(): boolean {
    this.ensureForward();
    return this.winograd;
  }

  /** Whether oneDNN runs the forward pass with one of its kernels for 1x1 convolutions. */
  get forwardBy1x1Kernel(): boolean {
    this.forwardIs1x1 ??= this.ensureForward().op.implementation().includes("1x1");
    return this.forwardIs1x1;
  }

  /** The name of the forward primitive's implementation that oneDNN picked for this CPU. */
  forwardImplementation(): string {
    return this.ensureForward().op.implementation();
  }

  /** How filter gradients are computed here: oneDNN's primitive, or im2col + sgemm (above). */
  filterGradientMethod(): "primitive" | "columns" {
    return this.ensureBackwardWeights() instanceof Float32Array ? "columns" : "primitive";
  }

  /**
   * The name of the filter-gradient primitive's implementation that oneDNN picked for this CPU
   * (an im2col + gemm one where {@link filterGradientMethod} is "columns").
   */
  filterGradientImplementation(): string {
    this.ensureBackwardWeights();
    return this.filterGradientImpl!;
  }

  /** Frees the primitives. */
  destroy(): void {
    this.columns = undefined;
    if (keptGradient?.plan === this) keptGradient = undefined;
    for (const d of [this.forward, this.backwardData, this.backwardWeights]) {
      d?.op.destroy();
      d?.reorder.destroy();
      for (const b of Object.values(d?.blocked ?? {})) b.destroy();
    }
  }
}

// oneDNN's names of its im2col + gemm convolutions ("gemm:jit", "x64:gemm:jit"; not "brgemm"
// ones, which are direct kernels).
const IM2COL_GEMM = /(^|:)gemm:/;

/** Values in the rows of input windows of a convolution: one row per output pixel. */
function columnCount(g: ConvGeometry): number {
  return g.n * g.oh * g.ow * g.kh * g.kw * g.ci;
}

/**
 * dw (HWIO) = filter gradient of the convolution as one matrix product: `columns` (at least
 * {@link columnCount} values) gets one row per output pixel holding the input window it reads,
 * [kh, kw, ci] with zeros where the window lies in the padding; then dw [kh·kw·ci, co] =
 * columnsᵀ · dy [pixels, co] (dy's data named by `dyKey`: in mixed bfloat16, the input gradient
 * just before may have rounded it already).
 */
export function filterGradientByColumns(
  dnnl: Dnnl,
  g: ConvGeometry,
  x: Float32Array,
  dy: Float32Array,
  dyKey: object,
  dw: Float32Array,
  columns: Float32Array,
): void {
  const run = g.kw * g.ci;
  let at = 0;
  for (let b = 0; b < g.n; b++) {
    for (let p = 0; p < g.oh; p++) {
      for (let q = 0; q < g.ow; q++) {
        const j0 = q * g.sw - g.left;
        const inside = j0 >= 0 && j0 + g.kw <= g.w;
        for (let a = 0; a < g.kh; a++, at += run) {
          const i = p * g.sh - g.top + a;
          if (i < 0 || i >= g.h) {
            columns.fill(0, at, at + run);
            continue;
          }
          const row = (b * g.h + i) * g.w;
          if (inside) {
            // the window's row is kw whole pixels side by side in x
            const from = (row + j0) * g.ci;
            columns.set(x.subarray(from, from + run), at);
            continue;
          }
          for (let c = 0; c < g.kw; c++) {
            const j = j0 + c;
            const to = at + c * g.ci;
            if (j < 0 || j >= g.w) columns.fill(0, to, to + g.ci);
            else columns.set(x.subarray((row + j) * g.ci, (row + j + 1) * g.ci), to);
          }
        }
      }
    }
  }
  const taps = g.kh * g.kw * g.ci;
  product(
    dnnl,
    [true, false],
    [taps, g.co, g.n * g.oh * g.ow],
    columns,
    dy,
    dw,
    `filter gradient by columns, ${describe(g)}`,
    0,
    { b: dyKey },
  );
}

const plans = new Cache<ConvPlan>(256, (p) => p.destroy());

function plan(
  dnnl: Dnnl,
  g: ConvGeometry,
  withBias: boolean,
  bf16 = currentPrecision() === "mixed_bfloat16",
): ConvPlan {
  const key = `${Object.values(g).join(",")}|${withBias}|${bf16}`;
  return plans.get(key, () => new ConvPlan(dnnl, g, withBias, bf16));
}

/**
 * {@link gemm} (c = op(a) · op(b) + beta · c) in the current precision: in mixed bfloat16, a and b
 * are rounded to bfloat16 first and the products summed in float32.
 */
function product(
  dnnl: Dnnl,
  trans: [boolean, boolean],
  mnk: [number, number, number],
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  what: string,
  beta = 0,
  gradients: Gradients = {},
): void {
  const [first, second] = factors(dnnl, a, b, gradients);
  gemm(dnnl, trans, mnk, first, second, c, what, 1, beta);
}

/** Which factor of a product is an output gradient, named by its tensor's data. */
type Gradients = { a?: object; b?: object };

/**
 * a and b as matrix products read them: in mixed bfloat16, rounded (into buffers 0 and 1, or, for
 * an output gradient, into the buffer that keeps it for the next product of the same gradient).
 */
function factors(
  dnnl: Dnnl,
  a: Float32Array,
  b: Float32Array,
  gradients: Gradients = {},
): [Values, Values] {
  if (currentPrecision() !== "mixed_bfloat16") return [a, b];
  const round = (values: Float32Array, slot: 0 | 1, key?: object) =>
    key ? gradientToBfloat16(dnnl, values, key) : toBfloat16(dnnl, values, slot);
  return [round(a, 0, gradients.a), round(b, 1, gradients.b)];
}

/** Conv2D (fused: FusedConv2D, with a bias and a ReLU) for NHWC float32; other cases on wasm. */
export function convForward(dnnl: Dnnl, fused: boolean): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
      string,
      tf.TensorInfo
    >;
    const attrs = args.attrs ?? {};
    const activation = (attrs.activation as string | undefined) ?? "linear";
    const g = geometry(x.shape, filter.shape, attrs);
    const supported = g && x.dtype === "float32" && !preluActivationWeights &&
      (activation === "linear" || activation === "relu") && (!bias || bias.shape.length === 1);
    if (!supported) {
      return runWasmKernel(fused ? "FusedConv2D" : "Conv2D", args);
    }
    const { make, view } = Scope.of(args);
    const out = make([g.n, g.oh, g.ow, g.co]);
    const result = view(out);
    if (tapwise(g)) {
      if (bias) repeatRows(view(bias), result);
      const [xs, filters] = factors(dnnl, view(x), view(filter));
      tapwiseForward(dnnl, g, xs, filters, result, !!bias);
    } else {
      const p = plan(dnnl, g, !!bias);
      if (strided1x1(g) && !p.forwardBy1x1Kernel) {
        strided1x1ForwardByGemm(dnnl, g, view(x), view(filter), bias ? view(bias) : null, result);
      } else {
        p.forwardInto(view(x), view(filter), filter.dataId, bias ? view(bias) : null, result);
      }
    }
    if (activation === "relu") {
      for (let i = 0; i < result.length; i++) if (result[i] < 0) result[i] = 0;
    }
    return out;
  };
}

/**
 * out (NHWC) = a strided 1x1 convolution of x (NHWC) with filter (HWIO) (+ bias) as one matrix
 * product: out [pixels, co] = x's every s-th pixel [pixels, ci] · filter [ci, co], the bias
 * repeated on every row first.
 */
export function strided1x1ForwardByGemm(
  dnnl: Dnnl,
  g: ConvGeometry,
  x: Float32Array,
  filter: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
): void {
  if (bias) repeatRows(bias, out);
  const what = `strided 1x1 convolution, ${describe(g)}`;
  const xs = pickPixels(x, g);
  product(dnnl, [false, false], [pixels(g), g.co, g.ci], xs, filter, out, what, bias ? 1 : 0);
}

// Whether the convolution is 1x1 without padding: a matrix product over the pixels it reads.
function unpadded1x1(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.top === 0 && g.left === 0 && g.bottom === 0 &&
    g.right === 0;
}

// Whether the convolution is a matrix product per pixel: 1x1, stride 1, no padding.
function pointwise(g: ConvGeometry): boolean {
  return unpadded1x1(g) && g.sh === 1 && g.sw === 1;
}

// Whether the convolution is 1x1 with strides and without padding: a matrix product over every
// s-th pixel.
function strided1x1(g: ConvGeometry): boolean {
  return unpadded1x1(g) && (g.sh > 1 || g.sw > 1);
}

/** Output pixels of the convolution. */
const pixels = (g: ConvGeometry) => g.n * g.oh * g.ow;

// Buffers of the strided 1x1 products (slots 0 and 1), of the input windows of bfloat16 filter
// gradients (slot 2) and of Winograd's activations (slots 3 to 5, `Slot`), reused (kernels run one
// at a time) and grown as needed.
const buffers: Float32Array[] = Array.from({ length: 6 }, () => new Float32Array(0));

function buffer(slot: number, size: number): Float32Array {
  if (buffers[slot].length < size) buffers[slot] = alignedFloats(size);
  return buffers[slot].subarray(0, size);
}

/** The pixels a strided 1x1 convolution reads: x [n, h, w, ci] -> [n, oh, ow, ci]. */
function pickPixels(x: Float32Array, g: ConvGeometry): Float32Array {
  const xs = buffer(0, pixels(g) * g.ci);
  subsample(x, xs, [g.n, g.h, g.w, g.ci], [g.oh, g.ow], [g.sh, g.sw]);
  return xs;
}

/** `out` filled with copies of `row`, one after the other. */
function repeatRows(row: Float32Array, out: Float32Array): void {
  out.set(row);
  for (let filled = row.length; filled < out.length; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  }
}

/** Conv2DBackpropInput; dilated convolutions and other layouts on wasm. */
export function convBackpropInput(dnnl: Dnnl): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const { dy, filter } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const inputShape = attrs.inputShape as number[];
    const g = geometry(inputShape, filter.shape, attrs);
    if (!g) return runWasmKernel("Conv2DBackpropInput", args);
    const { make, view } = Scope.of(args);
    const dx = make(inputShape);
    if (tapwise(g)) {
      const [dys, filters] = factors(dnnl, view(dy), view(filter), { a: dy.dataId });
      tapwiseInputGradient(dnnl, g, dys, filters, view(dx));
      return dx;
    }
    if (pointwise(g)) {
      // dx [pixels, ci] = dy [pixels, co] · filter [ci, co]ᵀ
      const what = `1x1 input gradient, ${describe(g)}`;
      product(
        dnnl,
        [false, true],
        [g.n * g.h * g.w, g.ci, g.co],
        view(dy),
        view(filter),
        view(dx),
        what,
        0,
        { a: dy.dataId },
      );
      return dx;
    }
    if (strided1x1(g)) {
      // dy · filterᵀ gives the gradient of the pixels read; the others get none
      const what = `strided 1x1 input gradient, ${describe(g)}`;
      const picked = buffer(1, pixels(g) * g.ci);
      product(
        dnnl,
        [false, true],
        [pixels(g), g.ci, g.co],
        view(dy),
        view(filter),
        picked,
        what,
        0,
        {
          a: dy.dataId,
        },
      );
      const out = view(dx).fill(0);
      scatter(picked, out, [g.n, g.oh, g.ow, g.ci], [g.h, g.w], [g.sh, g.sw], [0, 0]);
      return dx;
    }
    plan(dnnl, g, false).backwardDataInto(
      view(dy),
      dy.dataId,
      view(filter),
      filter.dataId,
      view(dx),
    );
    return dx;
  };
}

// In mixed bfloat16, filter gradients whose input windows fit in this many values are im2col +
// oneDNN's bfloat16 matrix product; larger ones stay on the float32 primitive. oneDNN 2.6's
// bfloat16 filter-gradient primitive is far slower than both on ResNet-50's small images (the
// README gives the figures), and laying out the windows of the large ones costs more than the
// bfloat16 product saves.
const BFLOAT16_COLUMNS = 2 ** 21;

/** Conv2DBackpropFilter; dilated convolutions and other layouts on wasm. */
export function convBackpropFilter(dnnl: Dnnl): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const { x, dy } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const filterShape = attrs.filterShape as number[];
    const g = geometry(x.shape, filterShape, attrs);
    if (!g) return runWasmKernel("Conv2DBackpropFilter", args);
    const { make, view } = Scope.of(args);
    const dw = make(filterShape);
    if (tapwise(g)) {
      const [xs, dys] = factors(dnnl, view(x), view(dy), { b: dy.dataId });
      tapwiseFilterGradient(dnnl, g, xs, dys, view(dw));
      return dw;
    }
    if (pointwise(g)) {
      // dw [ci, co] = x [pixels, ci]ᵀ · dy [pixels, co]
      const what = `1x1 filter gradient, ${describe(g)}`;
      product(
        dnnl,
        [true, false],
        [g.ci, g.co, g.n * g.h * g.w],
        view(x),
        view(dy),
        view(dw),
        what,
        0,
        { b: dy.dataId },
      );
      return dw;
    }
    if (strided1x1(g)) {
      // dw [ci, co] = x's pixels read [pixels, ci]ᵀ · dy [pixels, co]
      const what = `strided 1x1 filter gradient, ${describe(g)}`;
      const xs = pickPixels(view(x), g);
      product(dnnl, [true, false], [g.ci, g.co, pixels(g)], xs, view(dy), view(dw), what, 0, {
        b: dy.dataId,
      });
      return dw;
    }
    if (currentPrecision() === "mixed_bfloat16" && columnCount(g) <= BFLOAT16_COLUMNS) {
      const columns = buffer(2, columnCount(g));
      filterGradientByColumns(dnnl, g, view(x), view(dy), dy.dataId, view(dw), columns);
      return dw;
    }
    plan(dnnl, g, false, false).backwardWeightsInto(view(x), view(dy), dy.dataId, view(dw));
    return dw;
  };
}
