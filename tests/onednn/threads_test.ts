import { assert, assertEquals } from "@std/assert";
import { chooseThreads } from "@lib/onednn/_threads.ts";

async function withEnv<T>(value: string | undefined, f: () => Promise<T>): Promise<T> {
  const previous = Deno.env.get("OMP_NUM_THREADS");
  if (value === undefined) Deno.env.delete("OMP_NUM_THREADS");
  else Deno.env.set("OMP_NUM_THREADS", value);
  try {
    return await f();
  } finally {
    if (previous === undefined) Deno.env.delete("OMP_NUM_THREADS");
    else Deno.env.set("OMP_NUM_THREADS", previous);
  }
}

Deno.test("chooseThreads() takes OMP_NUM_THREADS when it is set", async () => {
  const choice = await withEnv("3", () => chooseThreads(10));
  assertEquals(choice, { threads: 3, why: "OMP_NUM_THREADS" });
});

Deno.test("chooseThreads() otherwise picks between 1 and the number of cores", async () => {
  const choice = await withEnv(undefined, () => chooseThreads(50));
  const cores = navigator.hardwareConcurrency;
  assert(choice.threads >= 1 && choice.threads <= cores, `${choice.threads} of ${cores}`);
  assert(choice.why.length > 0);
});

Deno.test("chooseThreads() ignores an OMP_NUM_THREADS that is not a positive integer", async () => {
  const choice = await withEnv("many", () => chooseThreads(10));
  assert(choice.why !== "OMP_NUM_THREADS", choice.why);
});
