import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import * as tf from "@lib/tf.ts";
import { backendReport, useBackend } from "@lib/backends/mod.ts";
import { findWebgpuAdapter } from "@lib/backends/_webgpu.ts";
import { selfTestTraining } from "@lib/backends/_self_test.ts";
import { imageBytes, imagesOf, showImage, showImages } from "@lib/display/image.ts";
import { loadImage } from "@lib/data/image_file.ts";
import { encode } from "fast-png";

// Fails this module, with the reason, where no adapter is found (CI's set-up installs Mesa's
// software one).
const adapter = await findWebgpuAdapter();

Deno.test("useBackend() takes webgpu when asked, on a software adapter too, and names the adapter", async () => {
  const lines: string[] = [];
  assertEquals(await useBackend("webgpu", { log: (line) => lines.push(line) }), "webgpu");
  assertEquals(tf.getBackend(), "webgpu");
  const kind = adapter.software ? ", a software adapter (it runs on the CPU: slow)" : "";
  assertEquals(lines, [
    `backend webgpu: WebGPU on ${adapter.description}${kind} (chosen explicitly)`,
  ]);
});

Deno.test({
  name: "useBackend() without a choice skips a software adapter, saying why",
  ignore: !adapter.software,
  async fn() {
    const lines: string[] = [];
    const options = { candidates: ["webgpu", "cpu"] as const, log: (l: string) => lines.push(l) };
    assertEquals(await useBackend(undefined, options), "cpu");
    assertEquals(
      lines[0],
      `backend webgpu: not available: only a software adapter (${adapter.description}), which ` +
        "runs on the CPU and is far too slow to train on (SIGNS_BACKEND=webgpu uses it all the same)",
    );
  },
});

Deno.test("useBackend() without a choice takes webgpu once its self-test passes", async () => {
  const lines: string[] = [];
  const name = await useBackend(undefined, {
    candidates: ["webgpu", "cpu"],
    softwareWebgpu: true,
    log: (line) => lines.push(line),
  });
  assertEquals(name, "webgpu");
  assertStringIncludes(lines[0], "; self-test passed (one training step as on cpu)");
  assertEquals(backendReport().attempts.map((a) => a.available), [true]);
});

// Replaces a kernel of the webgpu backend for the duration of `f` by one whose results are 1.5
// times too large (a driver that computes something else).
async function withBrokenKernel(kernelName: string, f: () => Promise<unknown>): Promise<void> {
  const original = tf.getKernel(kernelName, "webgpu")!;
  const multiply = tf.getKernel("Multiply", "webgpu")!;
  tf.unregisterKernel(kernelName, "webgpu");
  tf.registerKernel({
    kernelName,
    backendName: "webgpu",
    kernelFunc: (args) => {
      const backend = args.backend as tf.KernelBackend & {
        makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
      };
      const out = original.kernelFunc(args) as tf.TensorInfo;
      const factor = backend.makeTensorInfo([], "float32", new Float32Array([1.5]));
      const wrong = multiply.kernelFunc({ inputs: { a: out, b: factor }, backend, attrs: {} });
      backend.disposeData(out.dataId);
      backend.disposeData(factor.dataId);
      return wrong;
    },
  });
  try {
    await f();
  } finally {
    tf.unregisterKernel(kernelName, "webgpu");
    tf.registerKernel(original);
  }
}

Deno.test("useBackend() without a choice passes webgpu by when its self-test fails, saying why", async () => {
  await useBackend("webgpu", { log: null });
  const before = tf.memory().numTensors;
  await withBrokenKernel("Relu", async () => {
    const lines: string[] = [];
    const name = await useBackend(undefined, {
      candidates: ["webgpu", "cpu"],
      softwareWebgpu: true,
      log: (line) => lines.push(line),
    });
    assertEquals(name, "cpu");
    assert(
      /^backend webgpu: not available: self-test failed: the loss before one training step is \S+ on webgpu and \S+ on cpu$/
        .test(lines[0]),
      lines[0],
    );
  });
  assertEquals(tf.memory().numTensors, before, "the self-test leaves no tensors");
});

Deno.test("selfTestTraining() leaves the backend it tests active and no tensors behind", async () => {
  await useBackend("webgpu", { log: null });
  const before = tf.memory().numTensors;
  assertEquals(await selfTestTraining("webgpu"), "self-test passed (one training step as on cpu)");
  assertEquals(tf.getBackend(), "webgpu");
  assertEquals(tf.memory().numTensors, before);
  await assertRejects(() => withBrokenKernel("MaxPool", () => selfTestTraining("webgpu")));
});

Deno.test("starting webgpu prints nothing about XDG_RUNTIME_DIR, with the variable unset", async () => {
  const script = "import { useBackend } from './lib/backends/mod.ts'; " +
    "await useBackend('webgpu', { log: null }); await (await import('./lib/tf.ts')).ones([2]).data();";
  const env = { ...Deno.env.toObject() };
  delete env.XDG_RUNTIME_DIR;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env,
    clearEnv: true,
    cwd: new URL("../../../", import.meta.url),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert(output.success, stderr);
  assert(!stderr.includes("XDG_RUNTIME_DIR"), stderr);
  assertEquals(new TextDecoder().decode(output.stdout), "");
});

Deno.test("a synchronous read of a tensor on the GPU says to read it with await data(), which works", async () => {
  await useBackend("webgpu", { log: null });
  // large enough to be computed on the GPU (TF.js computes small ones on the CPU)
  const t = tf.tidy(() => tf.add(tf.ones([4096]), 1));
  const error = assertThrows(() => t.dataSync(), Error);
  assertStringIncludes(error.message, "Cannot read a tensor synchronously");
  assertStringIncludes(error.message, "await tensor.data()");
  assertEquals((await t.data())[4095], 2);
  assertEquals(t.dataSync()[0], 2, "after an asynchronous read, a synchronous one works");
  t.dispose();
});

Deno.test("a tensor made from values reads synchronously on webgpu after the GPU used it, and so do images of a batch", async () => {
  await useBackend("webgpu", { log: null });
  const values = Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i * 7) % 256);
  const batch = tf.tensor4d(values, [2, 32, 32, 3]);
  const sum = tf.sum(tf.add(batch, 1)); // uploads the batch to the GPU
  assertEquals(
    await sum.data(),
    Float32Array.of(values.reduce((a, b) => a + b, 0) + values.length),
  );
  assertEquals(batch.dataSync(), values);
  // the slice is computed on the GPU; the image comes from the batch's values instead
  assertEquals(Array.from(imageBytes(batch, 1).data), Array.from(values.subarray(3072)));
  tf.dispose([batch, sum]);
});

Deno.test("imagesOf() reads a batch computed on the GPU, which showImages() alone cannot show", async () => {
  await useBackend("webgpu", { log: null });
  // large enough to be computed on the GPU (TF.js computes small ones on the CPU)
  const batch = tf.tidy(() => tf.mul(tf.ones([2, 16, 16, 3]), 0.5));
  const error = assertThrows(() => showImages(batch), Error);
  assertStringIncludes(error.message, "await tensor.data()");
  const images = await imagesOf(batch);
  assertEquals(images.map((image) => image.data[0]), [128, 128]);
  assertEquals(showImages(images).images.length, 2);
  batch.dispose();
});

Deno.test("loadImage() on webgpu gives a picture that shows, though it is resized on the GPU", async () => {
  await useBackend("webgpu", { log: null });
  const path = await Deno.makeTempFile({ suffix: ".png" });
  try {
    const width = 128;
    const rgba = Uint8Array.from(
      { length: width * width * 4 },
      (_, i) => (i % 4 === 3 ? 255 : i % 251),
    );
    await Deno.writeFile(path, encode({ width, height: width, data: rgba, channels: 4 }));
    const image = await loadImage(path, { size: 64 });
    assertEquals(showImage(image).width, 192);
    image.dispose();
  } finally {
    await Deno.remove(path);
  }
});
