// Convolutions through oneDNN: forward (with bias), input gradient and filter gradient, on NHWC
// activations and HWIO filters held in Float32Arrays. Primitives are created once per geometry and
// cached; oneDNN chooses the weights layout it runs fastest with, and the filters are reordered
// into it (and filter gradients out of it) on every call, since they change every step.
import { check, DNNL, type Dnnl, outPointer } from "./_ffi.ts";

/** The geometry of one convolution, as TF.js's conv info gives it. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
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

type Pointer = Deno.PointerValue;

function dims(values: number[]): BigInt64Array {
  const out = new BigInt64Array(DNNL.maxDims);
  values.forEach((v, i) => (out[i] = BigInt(v)));
  return out;
}

function describe(g: ConvGeometry): string {
  return `x [${g.n}, ${g.h}, ${g.w}, ${g.ci}], filter [${g.kh}, ${g.kw}, ${g.ci}, ${g.co}], ` +
    `strides [${g.sh}, ${g.sw}], pads [${g.top}, ${g.left}, ${g.bottom}, ${g.right}]`;
}

// Small typed arrays can live on V8's moving heap: copy them into buffers big enough to live
// outside it before their address is handed to native code.
function pinned(values: Float32Array): Float32Array {
  if (values.byteLength > 256) return values;
  const copy = new Float32Array(Math.max(values.length, 128));
  copy.set(values);
  return copy;
}

// Runs `fill` on an array that native code may write: `out` itself when it is outside V8's
// moving heap, else a large copy whose contents are copied back.
function writeInto(out: Float32Array, fill: (target: Float32Array) => void): void {
  if (out.byteLength > 256) return fill(out);
  const target = new Float32Array(128);
  fill(target);
  out.set(target.subarray(0, out.length));
}

class Primitive {
  constructor(readonly pd: Pointer, readonly prim: Pointer) {}
}

/** The primitives of one convolution geometry. */
export class ConvPlan {
  private readonly cell = new BigUint64Array(1);
  private readonly user: {
    src: Uint8Array;
    weights: Uint8Array;
    bias: Uint8Array;
    dst: Uint8Array;
  };
  private forward?: { op: Primitive; weightsIn: Primitive; weights: Float32Array };
  private backwardData?: { op: Primitive; weightsIn: Primitive; weights: Float32Array };
  private backwardWeights?: { op: Primitive; weightsOut: Primitive; weights: Float32Array };
  private forwardHint?: Primitive;

  constructor(readonly dnnl: Dnnl, readonly g: ConvGeometry, readonly withBias: boolean) {
    const md = (shape: number[], tag: number) => {
      const buffer = new Uint8Array(DNNL.memoryDescBytes);
      this.call(
        this.fn.dnnl_memory_desc_init_by_tag(buffer, shape.length, dims(shape), DNNL.f32, tag),
        "memory descriptor",
      );
      return buffer;
    };
    this.user = {
      src: md([g.n, g.ci, g.h, g.w], DNNL.tag.nhwc),
      weights: md([g.co, g.ci, g.kh, g.kw], DNNL.tag.hwio),
      bias: md([g.co], DNNL.tag.x),
      dst: md([g.n, g.co, g.oh, g.ow], DNNL.tag.nhwc),
    };
  }

  private get fn(): Dnnl["fn"] {
    return this.dnnl.fn;
  }

  private call(status: number, what: string): void {
    check(status, `${what} (convolution ${describe(this.g)})`);
  }

  private anyMd(shape: number[]): Uint8Array {
    const buffer = new Uint8Array(DNNL.memoryDescBytes);
    this.call(
      this.fn.dnnl_memory_desc_init_by_tag(
        buffer,
        shape.length,
        dims(shape),
        DNNL.f32,
        DNNL.tag.any,
      ),
      "memory descriptor",
    );
    return buffer;
  }

  private primitive(opDesc: Uint8Array, hint: Pointer, what: string): Primitive {
    this.call(
      this.fn.dnnl_primitive_desc_create(this.cell, opDesc, null, this.dnnl.engine, hint),
      `${what} descriptor`,
    );
    const pd = outPointer(this.cell);
    this.call(this.fn.dnnl_primitive_create(this.cell, pd), `${what} creation`);
    return new Primitive(pd, outPointer(this.cell));
  }

  private reorder(from: Pointer, to: Pointer, what: string): Primitive {
    const e = this.dnnl.engine;
    this.call(
      this.fn.dnnl_reorder_primitive_desc_create(this.cell, from, e, to, e, null),
      `${what} descriptor`,
    );
    const pd = outPointer(this.cell);
    this.call(this.fn.dnnl_primitive_create(this.cell, pd), `${what} creation`);
    return new Primitive(pd, outPointer(this.cell));
  }

  private query(p: Primitive, what: number): Pointer {
    return this.fn.dnnl_primitive_desc_query_md(p.pd, what, 0);
  }

  private scratch(md: Pointer): Float32Array {
    return new Float32Array(Math.max(Number(this.fn.dnnl_memory_desc_get_size(md)) / 4, 128));
  }

  private geometryArrays() {
    const g = this.g;
    return {
      strides: dims([g.sh, g.sw]),
      left: dims([g.top, g.left]),
      right: dims([g.bottom, g.right]),
    };
  }

  private hint(): Primitive {
    if (this.forwardHint) return this.forwardHint;
    this.forwardHint = this.ensureForward().op;
    return this.forwardHint;
  }

  private ensureForward() {
    if (this.forward) return this.forward;
    const g = this.g;
    const { strides, left, right } = this.geometryArrays();
    const desc = new Uint8Array(DNNL.convDescBytes);
    this.call(
      this.fn.dnnl_convolution_forward_desc_init(
        desc,
        DNNL.prop.forwardTraining,
        DNNL.convolutionDirect,
        this.user.src,
        this.anyMd([g.co, g.ci, g.kh, g.kw]),
        this.withBias ? this.user.bias : null,
        this.user.dst,
        strides,
        left,
        right,
      ),
      "forward convolution descriptor",
    );
    const op = this.primitive(desc, null, "forward convolution");
    const weightsMd = this.query(op, DNNL.query.weights);
    const weightsIn = this.reorder(
      Deno.UnsafePointer.of(this.user.weights),
      weightsMd,
      "weights reorder",
    );
    this.forward = { op, weightsIn, weights: this.scratch(weightsMd) };
    return this.forward;
  }

  private ensureBackwardData() {
    if (this.backwardData) return this.backwardData;
    const g = this.g;
    const { strides, left, right } = this.geometryArrays();
    const desc = new Uint8Array(DNNL.convDescBytes);
    this.call(
      this.fn.dnnl_convolution_backward_data_desc_init(
        desc,
        DNNL.convolutionDirect,
        this.user.src,
        this.anyMd([g.co, g.ci, g.kh, g.kw]),
        this.user.dst,
        strides,
        left,
        right,
      ),
      "input-gradient convolution descriptor",
    );
    const op = this.primitive(desc, this.hint().pd, "input-gradient convolution");
    const weightsMd = this.query(op, DNNL.query.weights);
    const weightsIn = this.reorder(
      Deno.UnsafePointer.of(this.user.weights),
      weightsMd,
      "weights reorder",
    );
    this.backwardData = { op, weightsIn, weights: this.scratch(weightsMd) };
    return this.backwardData;
  }

  private ensureBackwardWeights() {
    if (this.backwardWeights) return this.backwardWeights;
    const g = this.g;
    const { strides, left, right } = this.geometryArrays();
    const desc = new Uint8Array(DNNL.convDescBytes);
    this.call(
      this.fn.dnnl_convolution_backward_weights_desc_init(
        desc,
        DNNL.convolutionDirect,
        this.user.src,
        this.anyMd([g.co, g.ci, g.kh, g.kw]),
        null,
        this.user.dst,
        strides,
        left,
        right,
      ),
      "filter-gradient convolution descriptor",
    );
    const op = this.primitive(desc, this.hint().pd, "filter-gradient convolution");
    const weightsMd = this.query(op, DNNL.query.diffWeights);
    const weightsOut = this.reorder(
      weightsMd,
      Deno.UnsafePointer.of(this.user.weights),
      "weights reorder",
    );
    this.backwardWeights = { op, weightsOut, weights: this.scratch(weightsMd) };
    return this.backwardWeights;
  }

  // Runs a primitive with memory objects wrapping the given arrays, then frees the objects.
  private run(p: Primitive, args: [number, Pointer, Float32Array][], what: string): void {
    const cell = this.cell;
    const memories: Pointer[] = [];
    const packed = new BigUint64Array(args.length * 2);
    try {
      args.forEach(([arg, md, data], i) => {
        this.call(
          this.fn.dnnl_memory_create(cell, md, this.dnnl.engine, Deno.UnsafePointer.of(data)),
          `${what} memory`,
        );
        const memory = outPointer(cell);
        memories.push(memory);
        packed[2 * i] = BigInt(arg);
        packed[2 * i + 1] = BigInt(Deno.UnsafePointer.value(memory));
      });
      this.call(
        this.fn.dnnl_primitive_execute(p.prim, this.dnnl.stream, args.length, packed),
        what,
      );
      this.call(this.fn.dnnl_stream_wait(this.dnnl.stream), `${what} (wait)`);
    } finally {
      for (const memory of memories) this.fn.dnnl_memory_destroy(memory);
    }
  }

  /** out = conv(x, w) (+ bias). x NHWC, w HWIO, out NHWC. */
  forwardInto(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
  ): void {
    const f = this.ensureForward();
    const userWeights = Deno.UnsafePointer.of(this.user.weights);
    this.run(f.weightsIn, [[DNNL.arg.from, userWeights, pinned(w)], [
      DNNL.arg.to,
      this.query(f.weightsIn, DNNL.query.dst),
      f.weights,
    ]], "weights reorder");
    const args: [number, Pointer, Float32Array][] = [
      [DNNL.arg.src, Deno.UnsafePointer.of(this.user.src), pinned(x)],
      [DNNL.arg.weights, this.query(f.op, DNNL.query.weights), f.weights],
      [DNNL.arg.dst, Deno.UnsafePointer.of(this.user.dst), out],
    ];
    if (this.withBias && bias) {
      args.push([DNNL.arg.bias, Deno.UnsafePointer.of(this.user.bias), pinned(bias)]);
    }
    writeInto(out, (target) => {
      args[2][2] = target;
      this.run(f.op, args, "forward convolution");
    });
  }

  /** dx = input gradient of the convolution, from dy (NHWC) and w (HWIO). */
  backwardDataInto(dy: Float32Array, w: Float32Array, dx: Float32Array): void {
    const b = this.ensureBackwardData();
    const userWeights = Deno.UnsafePointer.of(this.user.weights);
    this.run(b.weightsIn, [[DNNL.arg.from, userWeights, pinned(w)], [
      DNNL.arg.to,
      this.query(b.weightsIn, DNNL.query.dst),
      b.weights,
    ]], "weights reorder");
    writeInto(dx, (target) =>
      this.run(b.op, [
        [DNNL.arg.diffDst, Deno.UnsafePointer.of(this.user.dst), pinned(dy)],
        [DNNL.arg.weights, this.query(b.op, DNNL.query.weights), b.weights],
        [DNNL.arg.diffSrc, Deno.UnsafePointer.of(this.user.src), target],
      ], "input-gradient convolution"));
  }

  /** dw (HWIO) = filter gradient of the convolution, from x and dy (NHWC). */
  backwardWeightsInto(x: Float32Array, dy: Float32Array, dw: Float32Array): void {
    const b = this.ensureBackwardWeights();
    this.run(b.op, [
      [DNNL.arg.src, Deno.UnsafePointer.of(this.user.src), pinned(x)],
      [DNNL.arg.diffDst, Deno.UnsafePointer.of(this.user.dst), pinned(dy)],
      [DNNL.arg.diffWeights, this.query(b.op, DNNL.query.diffWeights), b.weights],
    ], "filter-gradient convolution");
    writeInto(dw, (target) =>
      this.run(b.weightsOut, [
        [DNNL.arg.from, this.query(b.weightsOut, DNNL.query.src), b.weights],
        [DNNL.arg.to, Deno.UnsafePointer.of(this.user.weights), target],
      ], "weights reorder"));
  }
}
