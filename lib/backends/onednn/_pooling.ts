// Max and average pooling through oneDNN, forward and backward, on NHWC Float32Arrays. The
// gradient of max pooling needs the positions of the maxima, which oneDNN keeps in a workspace
// written by a training-mode forward pass: the gradient kernel runs that pass again (cheap next to
// the convolutions) into buffers kept with the primitives.
import * as tf from "../../tf.ts";
import { type WindowGeometry, windowGeometry } from "../_conv_geometry.ts";
import { Scope } from "../_heap.ts";
import { type KernelArgs, runWasmKernel } from "../_kernel.ts";
import { check, DNNL, type Dnnl } from "./_ffi.ts";
import {
  Cache,
  descPointer as ptr,
  dims,
  pinned,
  Primitive,
  taggedDesc,
  writeInto,
} from "./_primitive.ts";

/** The geometry of one pooling: input [n, h, w, c], output [n, oh, ow, c]. */
export interface PoolGeometry extends WindowGeometry {
  c: number;
}

function describe(kind: string, g: PoolGeometry): string {
  return `${kind} pooling of [${g.n}, ${g.h}, ${g.w}, ${g.c}], window ${g.kh}x${g.kw}, ` +
    `strides [${g.sh}, ${g.sw}], pads [${g.top}, ${g.left}, ${g.bottom}, ${g.right}]`;
}

/** The primitives of one pooling geometry and kind. */
export class PoolPlan {
  private readonly src: Uint8Array;
  private readonly dst: Uint8Array;
  private readonly what: string;
  private forward?: Primitive;
  private backward?: {
    training: Primitive;
    op: Primitive;
    dst: Float32Array;
    workspace: Float32Array;
  };

  constructor(readonly dnnl: Dnnl, readonly g: PoolGeometry, readonly max: boolean) {
    this.what = describe(max ? "max" : "average", g);
    this.src = taggedDesc(dnnl, [g.n, g.c, g.h, g.w], DNNL.tag.nhwc, this.what);
    this.dst = taggedDesc(dnnl, [g.n, g.c, g.oh, g.ow], DNNL.tag.nhwc, this.what);
  }

  // Average pooling divides by the number of values inside the input; TF.js's gradient divides
  // by the full window even where it overlaps the padding, and the backward pass follows it, so
  // that every backend trains alike.
  private alg(backward: boolean): number {
    if (this.max) return DNNL.alg.poolMax;
    return backward ? DNNL.alg.poolAvgIncludePadding : DNNL.alg.poolAvgExcludePadding;
  }

  // The descriptors' last seven arguments: data, strides, window, dilation, paddings.
  private window() {
    const g = this.g;
    return [
      this.src,
      this.dst,
      dims([g.sh, g.sw]),
      dims([g.kh, g.kw]),
      dims([0, 0]),
      dims([g.top, g.left]),
      dims([g.bottom, g.right]),
    ] as const;
  }

  private forwardPrimitive(prop: number, backward = false): Primitive {
    const desc = new Uint8Array(DNNL.poolingDescBytes);
    check(
      this.dnnl.fn.dnnl_pooling_v2_forward_desc_init(
        desc,
        prop,
        this.alg(backward),
        ...this.window(),
      ),
      `${this.what}: forward descriptor`,
    );
    return Primitive.create(this.dnnl, desc, `forward ${this.what}`);
  }

  /** y = pool(x). */
  forwardInto(x: Float32Array, y: Float32Array): void {
    this.forward ??= this.forwardPrimitive(DNNL.prop.forwardInference);
    const op = this.forward;
    writeInto(y, (target) =>
      op.execute([
        [DNNL.arg.src, ptr(this.src), pinned(x)],
        [DNNL.arg.dst, ptr(this.dst), target],
      ]));
  }

  private ensureBackward() {
    if (this.backward) return this.backward;
    const g = this.g;
    const training = this.forwardPrimitive(DNNL.prop.forwardTraining, true);
    const desc = new Uint8Array(DNNL.poolingDescBytes);
    check(
      this.dnnl.fn.dnnl_pooling_v2_backward_desc_init(
        desc,
        this.alg(true),
        ...this.window(),
      ),
      `${this.what}: backward descriptor`,
    );
    const op = Primitive.create(this.dnnl, desc, `backward ${this.what}`, training.pd);
    const floats = (bytes: number) => new Float32Array(Math.max(Math.ceil(bytes / 4), 128));
    this.backward = {
      training,
      op,
      dst: floats(g.n * g.oh * g.ow * g.c * 4),
      workspace: floats(this.max ? training.bytes(DNNL.query.workspace) : 0),
    };
    return this.backward;
  }

  /** dx = gradient of the pooling at x, from dy (x is only read by max pooling). */
  backwardInto(dy: Float32Array, x: Float32Array | null, dx: Float32Array): void {
    const b = this.ensureBackward();
    if (this.max) {
      if (!x) throw new TypeError(`${this.what}: the gradient of max pooling needs its input`);
      b.training.execute([
        [DNNL.arg.src, ptr(this.src), pinned(x)],
        [DNNL.arg.dst, ptr(this.dst), b.dst],
        [DNNL.arg.workspace, b.training.md(DNNL.query.workspace), b.workspace],
      ]);
    }
    const args: [number, Deno.PointerValue, Float32Array][] = [
      [DNNL.arg.diffDst, ptr(this.dst), pinned(dy)],
    ];
    if (this.max) args.push([DNNL.arg.workspace, b.op.md(DNNL.query.workspace), b.workspace]);
    writeInto(dx, (target) => b.op.execute([...args, [DNNL.arg.diffSrc, ptr(this.src), target]]));
  }

  /** Frees the primitives. */
  destroy(): void {
    this.forward?.destroy();
    this.backward?.training.destroy();
    this.backward?.op.destroy();
  }
}

const plans = new Cache<PoolPlan>(256, (plan) => plan.destroy());

/** The cached plan of a geometry and kind. */
function poolPlan(dnnl: Dnnl, g: PoolGeometry, max: boolean): PoolPlan {
  return plans.get(`${Object.values(g)}|${max}`, () => new PoolPlan(dnnl, g, max));
}

// The window of a pooling as oneDNN takes it; null for layouts and paddings it is not given.
function poolGeometry(shape: number[], attrs: tf.NamedAttrMap): PoolGeometry | null {
  const info = tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  const { top, left, bottom, right } = info.padInfo;
  if (info.dataFormat !== "channelsLast" || Math.min(top, left, bottom, right) < 0) return null;
  return { ...windowGeometry(info), c: info.inChannels };
}

/** MaxPool (max) or AvgPool for NHWC float32; other cases on wasm. */
export function poolForward(dnnl: Dnnl, max: boolean): (args: KernelArgs) => tf.TensorInfo {
  const name = max ? "MaxPool" : "AvgPool";
  return (args) => {
    const { x } = args.inputs as Record<string, tf.TensorInfo>;
    const g = x.dtype === "float32" ? poolGeometry(x.shape, args.attrs ?? {}) : null;
    if (!g) return runWasmKernel(name, args);
    const { make, view } = Scope.of(args);
    const y = make([g.n, g.oh, g.ow, g.c]);
    poolPlan(dnnl, g, max).forwardInto(view(x), view(y));
    return y;
  };
}

/** MaxPoolGrad (max) or AvgPoolGrad; other cases on wasm. */
export function poolBackward(dnnl: Dnnl, max: boolean): (args: KernelArgs) => tf.TensorInfo {
  const name = max ? "MaxPoolGrad" : "AvgPoolGrad";
  return (args) => {
    const { dy, input } = args.inputs as Record<string, tf.TensorInfo>;
    const g = poolGeometry(input.shape, args.attrs ?? {});
    if (!g) return runWasmKernel(name, args);
    const { make, view } = Scope.of(args);
    const dx = make(input.shape);
    poolPlan(dnnl, g, max).backwardInto(view(dy), max ? view(input) : null, view(dx));
    return dx;
  };
}
