// The `onednn` backend: TF.js's CPU backend (its tensors are Float32Arrays), with every cpu kernel
// registered for it too, and the convolutions replaced by oneDNN's. Cases the native kernels do
// not cover (dilation, channels-first data, fused activations other than ReLU) run the cpu kernel.
import * as tf from "../tf.ts";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { type Dnnl } from "./_ffi.ts";
import { type ConvGeometry, ConvPlan } from "./_conv.ts";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap };

const plans = new Map<string, ConvPlan>();

function geometry(
  inShape: number[],
  filterShape: number[],
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
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    co: info.outChannels,
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

function plan(dnnl: Dnnl, g: ConvGeometry, withBias: boolean): ConvPlan {
  const key = `${Object.values(g).join(",")}|${withBias}`;
  let p = plans.get(key);
  if (!p) {
    p = new ConvPlan(dnnl, g, withBias);
    plans.set(key, p);
  }
  return p;
}

const values = (backend: MathBackendCPU, t: tf.TensorInfo) =>
  backend.data.get(t.dataId).values as Float32Array;

function relu(a: Float32Array): void {
  for (let i = 0; i < a.length; i++) if (a[i] < 0) a[i] = 0;
}

/** Registers the `onednn` backend and its kernels (once). */
export function registerBackend(dnnl: Dnnl): void {
  if (tf.engine().registryFactory["onednn"]) return;
  tf.registerBackend("onednn", () => new MathBackendCPU(), 0);
  for (const kernel of tf.getKernelsForBackend("cpu")) {
    tf.registerKernel({ ...kernel, backendName: "onednn" });
  }
  const cpu = (name: string) => tf.getKernel(name, "cpu").kernelFunc;
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
    if (!supported) return cpu(fused ? "FusedConv2D" : "Conv2D")(args as never) as tf.TensorInfo;
    const backend = args.backend as MathBackendCPU;
    const out = new Float32Array(g.n * g.oh * g.ow * g.co);
    plan(dnnl, g, !!bias).forwardInto(
      values(backend, x),
      values(backend, filter),
      bias ? values(backend, bias) : null,
      out,
    );
    if (activation === "relu") relu(out);
    return backend.makeTensorInfo([g.n, g.oh, g.ow, g.co], "float32", out);
  };
  replace("Conv2D", forward(false));
  replace("FusedConv2D", forward(true));

  replace("Conv2DBackpropInput", (args) => {
    const { dy, filter } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const inputShape = attrs.inputShape as number[];
    const g = geometry(inputShape, filter.shape, attrs);
    if (!g) return cpu("Conv2DBackpropInput")(args as never) as tf.TensorInfo;
    const backend = args.backend as MathBackendCPU;
    const dx = new Float32Array(g.n * g.h * g.w * g.ci);
    plan(dnnl, g, false).backwardDataInto(values(backend, dy), values(backend, filter), dx);
    return backend.makeTensorInfo(inputShape, "float32", dx);
  });

  replace("Conv2DBackpropFilter", (args) => {
    const { x, dy } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs ?? {};
    const filterShape = attrs.filterShape as number[];
    const g = geometry(x.shape, filterShape, attrs);
    if (!g) return cpu("Conv2DBackpropFilter")(args as never) as tf.TensorInfo;
    const backend = args.backend as MathBackendCPU;
    const dw = new Float32Array(g.kh * g.kw * g.ci * g.co);
    plan(dnnl, g, false).backwardWeightsInto(values(backend, x), values(backend, dy), dw);
    return backend.makeTensorInfo(filterShape, "float32", dw);
  });
}
