import { assertEquals } from "@std/assert";
import { parseCpuInfo, parseOnednnIsa } from "../../tools/_machine.ts";

const CPUINFO = [0, 1].map((n) =>
  [
    `processor\t: ${n}`,
    "vendor_id\t: AuthenticAMD",
    "cpu family\t: 25",
    "model\t\t: 1",
    "model name\t: AMD EPYC 7B13",
    "flags\t\t: fpu sse2 avx avx2 fma bmi2",
  ].join("\n")
).join("\n\n");

Deno.test("parseCpuInfo() reads the model, family, extensions and CPU count", () => {
  assertEquals(parseCpuInfo(CPUINFO), {
    model: "AMD EPYC 7B13",
    familyModel: "25/1",
    extensions: ["avx2", "fma"],
    cpus: 2,
  });
  const avx512 = CPUINFO.replace("bmi2", "avx512f avx512_bf16");
  assertEquals(parseCpuInfo(avx512).extensions, ["avx2", "fma", "avx512f", "avx512_bf16"]);
});

Deno.test("parseOnednnIsa() reads the instruction set from oneDNN's verbose start-up", () => {
  const verbose = [
    "onednn_verbose,info,oneDNN v2.6.3 (commit N/A)",
    "onednn_verbose,info,cpu,runtime:OpenMP",
    "onednn_verbose,info,cpu,isa:Intel AVX2",
    "onednn_verbose,info,gpu,runtime:none",
  ].join("\n");
  assertEquals(parseOnednnIsa(verbose), "Intel AVX2");
  assertEquals(parseOnednnIsa("nothing here"), null);
});
