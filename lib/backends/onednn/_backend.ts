// The `onednn` backend: TF.js's WebAssembly backend (with this project's training kernels) whose
// heavy kernels are run by oneDNN on the tensors in the WebAssembly heap: convolutions, forward
// and both gradients, pooling, large element-wise operations and sums over leading axes (batch
// normalisation and Adam register their own kernels). It shares the wasm backend's instance, so
// tensors never move between the two. Cases oneDNN is not asked to cover here (dilation,
// channels-first data, fused activations other than ReLU, other dtypes, small tensors) run the
// wasm kernels.
import * as tf from "../../tf.ts";
import { type Dnnl } from "./_ffi.ts";
import { ConvPlan } from "./_conv.ts";
import { type ConvGeometry, convGeometry as geometry, windowGeometry } from "../_conv_geometry.ts";
import { registerTrainingKernels } from "../wasm/mod.ts";
import { heapOf } from "../_heap.ts";
import { registerBatchNormKernels } from "./_batch_norm.ts";
import { type PoolGeometry, poolPlan } from "./_pooling.ts";
import { Cache, pinned } from "./_primitive.ts";
import type { KernelArgs } from "../_kernel.ts";
import { BINARY_ALGS, binaryInto, NATIVE_MIN_SIZE, reluInto, sumRowsInto } from "./_elementwise.ts";

const plans = new Cache<ConvPlan>(256, (p) => p.destroy());

function plan(dnnl: Dnnl, g: ConvGeometry, withBias: boolean): ConvPlan {
  const key = `${Object.values(g).join(",")}|${withBias}`;
  return plans.get(key, () => new ConvPlan(dnnl, g, withBias));
}

let registered = false;

/** Registers the `onednn` backend and its kernels (once). */
export async function registerBackend(dnnl: Dnnl): Promise<void> {
  if (registered) return;
  await import("@tensorflow/tfjs-backend-wasm");
  registerTrainingKernels();
  // Start the wasm backend (without leaving it active) and share its instance.
  const engine = tf.engine();
  const previous = engine.backendName;
  if (!(await tf.setBackend("wasm"))) throw new Error("the WebAssembly backend could not start");
  const instance = engine.registry["wasm"];
  if (previous && previous !== "wasm") await tf.setBackend(previous);
  tf.registerBackend("onednn", () => instance, 0);
  for (const kernel of tf.getKernelsForBackend("wasm")) {
    tf.registerKernel({ ...kernel, backendName: "onednn" });
  }
  const wasmKernel = (name: string) => tf.getKernel(name, "wasm").kernelFunc;
  const replace = (name: string, kernelFunc: (args: KernelArgs) => tf.TensorInfo) => {
    tf.unregisterKernel(name, "onednn");
    tf.registerKernel({
      kernelName: name,
      backendName: "onednn",
      kernelFunc: kernelFunc as tf.KernelFunc,
    });
  };

  const forward = (fused: boolean) => (args: KernelArgs): tf.TensorInfo => {
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
      return wasmKernel(fused ? "FusedConv2D" : "Conv2D")(args as never) as tf.TensorInfo;
    }
    const { make, view } = heapOf(args);
    const out = make([g.n, g.oh, g.ow, g.co]);
    const result = view(out);
    plan(dnnl, g, !!bias).forwardInto(
      view(x),
      view(filter),
      filter.dataId,
      bias ? view(bias) : null,
      result,
    );
    if (activation === "relu") {
      for (let i = 0; i < result.length; i++) if (result[i] < 0) result[i] = 0;
    }
    return out;
  };
  replace("Conv2D", forward(false));
  replace("FusedConv2D", forward(true));

  replace("Conv2DBackpropInput", (args) => {
    const { dy, filter } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const inputShape = attrs.inputShape as number[];
    const g = geometry(inputShape, filter.shape, attrs);
    if (!g) return wasmKernel("Conv2DBackpropInput")(args as never) as tf.TensorInfo;
    const { make, view } = heapOf(args);
    const dx = make(inputShape);
    plan(dnnl, g, false).backwardDataInto(view(dy), view(filter), filter.dataId, view(dx));
    return dx;
  });

  replace("Conv2DBackpropFilter", (args) => {
    const { x, dy } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const filterShape = attrs.filterShape as number[];
    const g = geometry(x.shape, filterShape, attrs);
    if (!g) return wasmKernel("Conv2DBackpropFilter")(args as never) as tf.TensorInfo;
    const { make, view } = heapOf(args);
    const dw = make(filterShape);
    plan(dnnl, g, false).backwardWeightsInto(view(x), view(dy), view(dw));
    return dw;
  });
  // Pooling, forward and backward; other layouts and dilations run the wasm kernels.
  const poolGeometry = (shape: number[], attrs: tf.NamedAttrMap): PoolGeometry | null => {
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
  };
  for (const [name, max] of [["MaxPool", true], ["AvgPool", false]] as const) {
    replace(name, (args) => {
      const { x } = args.inputs as Record<string, tf.TensorInfo>;
      const g = x.dtype === "float32" ? poolGeometry(x.shape, args.attrs ?? {}) : null;
      if (!g) return wasmKernel(name)(args as never) as tf.TensorInfo;
      const { make, view } = heapOf(args);
      const y = make([g.n, g.oh, g.ow, g.c]);
      poolPlan(dnnl, g, max).forwardInto(view(x), view(y));
      return y;
    });
  }
  for (const [name, max] of [["MaxPoolGrad", true], ["AvgPoolGrad", false]] as const) {
    replace(name, (args) => {
      const { dy, input } = args.inputs as Record<string, tf.TensorInfo>;
      const g = poolGeometry(input.shape, args.attrs ?? {});
      if (!g) return wasmKernel(name)(args as never) as tf.TensorInfo;
      const { make, view } = heapOf(args);
      const dx = make(input.shape);
      poolPlan(dnnl, g, max).backwardInto(view(dy), max ? view(input) : null, view(dx));
      return dx;
    });
  }
  // Large float32 element-wise operations and reductions (see _elementwise.ts).
  const size = tf.util.sizeFromShape;
  for (const name of Object.keys(BINARY_ALGS) as (keyof typeof BINARY_ALGS)[]) {
    replace(name, (args) => {
      let { a, b } = args.inputs as Record<string, tf.TensorInfo>;
      const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const full = (t: tf.TensorInfo) =>
        t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
      // oneDNN broadcasts the second operand only; add and multiply may swap theirs.
      if (!full(a) && name !== "Sub" && full(b)) [a, b] = [b, a];
      if (
        a.dtype !== "float32" || b.dtype !== "float32" || !full(a) ||
        size(shape) < NATIVE_MIN_SIZE || shape.length > 6
      ) {
        return wasmKernel(name)(args as never) as tf.TensorInfo;
      }
      let aShape = shape;
      let bShape = [...new Array(shape.length - b.shape.length).fill(1), ...b.shape];
      const channels = shape[shape.length - 1];
      const rows = size(shape) / channels;
      // A per-channel operand (a bias) broadcasts slowly over rows as short as a few channels:
      // the operand is repeated `times` times and the rows joined in groups of as many.
      let times = 1;
      if (bShape.every((d, i) => d === 1 || i === shape.length - 1) && bShape.at(-1) === channels) {
        for (let r = Math.floor(1024 / channels); r > 1; r--) {
          if (rows % r === 0) {
            times = r;
            break;
          }
        }
        aShape = [rows / times, channels * times];
        bShape = [1, channels * times];
      }
      const { make, view } = heapOf(args);
      const out = make(shape);
      let operand = view(b);
      if (times > 1) {
        const tiled = new Float32Array(channels * times);
        for (let r = 0; r < times; r++) tiled.set(operand, r * channels);
        operand = pinned(tiled);
      }
      binaryInto(dnnl, name, aShape, bShape, view(a), operand, view(out));
      return out;
    });
  }
  replace("Relu", (args) => {
    const { x } = args.inputs as Record<string, tf.TensorInfo>;
    if (x.dtype !== "float32" || size(x.shape) < NATIVE_MIN_SIZE) {
      return wasmKernel("Relu")(args as never) as tf.TensorInfo;
    }
    const { make, view } = heapOf(args);
    const out = make(x.shape);
    reluInto(dnnl, view(x), view(out));
    return out;
  });
  for (const [name, kind] of [["Sum", "sum"], ["Mean", "mean"]] as const) {
    replace(name, (args) => {
      const { x } = args.inputs as Record<string, tf.TensorInfo>;
      const attrs = args.attrs ?? {};
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
      // Only the leading axes: [rows, columns] with the reduced axes as rows.
      const leading = axes.length > 0 && [...axes].sort((i, j) => i - j).every((a, i) => a === i);
      if (x.dtype !== "float32" || size(x.shape) < NATIVE_MIN_SIZE || !leading) {
        return wasmKernel(name)(args as never) as tf.TensorInfo;
      }
      const rows = size(x.shape.slice(0, axes.length));
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const outShape = attrs.keepDims ? kept : x.shape.slice(axes.length);
      const { make, view } = heapOf(args);
      const out = make(outShape);
      sumRowsInto(dnnl, rows, size(x.shape) / rows, kind === "mean", view(x), view(out));
      return out;
    });
  }
  registerBatchNormKernels(dnnl);
  registered = true;
}
