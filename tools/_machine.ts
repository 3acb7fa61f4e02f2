// What a benchmark needs to know about the machine it ran on: the CPU (from /proc/cpuinfo), the
// instruction set oneDNN runs its kernels with (from its verbose start-up line), and the peak rate
// of float32 multiply-adds measured by a short loop (tools/_peak.c), so that figures from
// different machines come with what they are relative to.
import { join } from "node:path";

/** The CPU as Linux describes it. */
export interface CpuInfo {
  /** Such as "AMD EPYC". */
  model: string;
  /** The family and model numbers, such as "25/1". */
  familyModel: string;
  /** Which of the vector and matrix extensions that matter here the CPU has. */
  extensions: string[];
  /** Logical CPUs. */
  cpus: number;
}

const EXTENSIONS = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16"];

/** The CPU described by `text` in /proc/cpuinfo's format (its first processor). */
export function parseCpuInfo(text: string): CpuInfo {
  const first = text.split(/\n\s*\n/)[0];
  const field = (name: string) =>
    new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(first)?.[1]?.trim() ?? "";
  const flags = new Set(field("flags").split(/\s+/));
  return {
    model: field("model name") || "unknown",
    familyModel: `${field("cpu family") || "?"}/${field("model") || "?"}`,
    extensions: EXTENSIONS.filter((e) => flags.has(e)),
    cpus: (text.match(/^processor\s*:/gm) ?? []).length,
  };
}

/** This machine's CPU, or `null` where /proc/cpuinfo cannot be read. */
export function cpuInfo(): CpuInfo | null {
  try {
    return parseCpuInfo(Deno.readTextFileSync("/proc/cpuinfo"));
  } catch {
    return null;
  }
}

/** The instruction set in oneDNN's verbose start-up line (`…,cpu,isa:Intel AVX2`), or `null`. */
export function parseOnednnIsa(verbose: string): string | null {
  return /(?:dnnl|onednn)_verbose,info,cpu,isa:(.+)$/m.exec(verbose)?.[1]?.trim() ?? null;
}

/**
 * The instruction set oneDNN picks on this machine, read from the verbose output of one small
 * convolution on the `onednn` backend in a process of its own; `null` where that backend is not
 * available.
 */
export async function onednnIsa(): Promise<string | null> {
  const script = [
    'import { useBackend } from "./lib/backends/mod.ts";',
    'import * as tf from "./lib/tf.ts";',
    'await useBackend("onednn", { log: null });',
    "tf.conv2d(tf.ones([1, 4, 4, 2]), tf.ones([3, 3, 2, 2]), 1, 'same').dataSync();",
  ].join("\n");
  const root = new URL("..", import.meta.url).pathname;
  const file = join(await Deno.makeTempDir({ prefix: "signs-isa-" }), "probe.ts");
  await Deno.writeTextFile(file, script.replaceAll("./lib/", `${root}lib/`));
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", join(root, "deno.json"), file],
      env: { ONEDNN_VERBOSE: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return parseOnednnIsa(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(join(file, ".."), { recursive: true });
  }
}

/** The peak rate of float32 multiply-adds, as tools/_peak.c measured it. */
export interface PeakRate {
  /** GFLOP/s of all threads together (a multiply-add counts 2). */
  gflops: number;
  /** Threads it ran (OpenMP's count: every CPU unless OMP_NUM_THREADS says otherwise). */
  threads: number;
  /** The vector width in bits that gave that rate. */
  vectorBits: number;
}

/**
 * Compiles tools/_peak.c with the C compiler on the PATH for 256- and 512-bit vectors (the latter
 * where the CPU has AVX-512) and runs each: the faster is the machine's peak. `null` where no
 * compiler with OpenMP is there; the reason goes to `log`.
 */
export async function measuredPeak(
  log: (line: string) => void = console.error,
): Promise<PeakRate | null> {
  const source = new URL("./_peak.c", import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "signs-peak-" });
  const widths = cpuInfo()?.extensions.includes("avx512f") ? [32, 64] : [32];
  let best: PeakRate | null = null;
  try {
    for (const bytes of widths) {
      const binary = join(dir, `peak${bytes}`);
      const flags = ["-O3", "-funroll-loops", "-march=native", "-fopenmp"];
      const built = await new Deno.Command("cc", {
        args: [...flags, `-DVECTOR_BYTES=${bytes}`, source, "-o", binary],
        stderr: "piped",
      }).output().catch((error: Error) => ({ success: false, stderr: error.message }));
      if (!built.success) {
        const why = typeof built.stderr === "string"
          ? built.stderr
          : new TextDecoder().decode(built.stderr);
        log(`peak: cannot compile tools/_peak.c (${why.trim().split("\n")[0]})`);
        return null;
      }
      const run = await new Deno.Command(binary, { stdout: "piped" }).output();
      const rate = JSON.parse(new TextDecoder().decode(run.stdout)) as PeakRate;
      if (!best || rate.gflops > best.gflops) {
        best = { gflops: rate.gflops, threads: rate.threads, vectorBits: rate.vectorBits };
      }
    }
    return best;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
