import { assertEquals } from "@std/assert";
import { chooseThreads, withWaitPolicy } from "@lib/backends/onednn/_threads.ts";

function withEnv<T>(values: Record<string, string | undefined>, f: () => T): T {
  const previous = Object.fromEntries(Object.keys(values).map((k) => [k, Deno.env.get(k)]));
  const apply = (settings: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(settings)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  };
  apply(values);
  try {
    return f();
  } finally {
    apply(previous);
  }
}

Deno.test("chooseThreads() takes OMP_NUM_THREADS when it is set", () => {
  const choice = withEnv({ OMP_NUM_THREADS: "3" }, () => chooseThreads());
  assertEquals([choice.threads, choice.why], [3, "OMP_NUM_THREADS"]);
});

Deno.test("chooseThreads() otherwise runs one thread a core, however busy the machine is", () => {
  const choice = withEnv({ OMP_NUM_THREADS: undefined }, () => chooseThreads());
  assertEquals(choice.threads, navigator.hardwareConcurrency);
});

Deno.test("chooseThreads() ignores an OMP_NUM_THREADS that is not a positive integer", () => {
  for (const value of ["many", "1e2", "0", "-2"]) {
    const choice = withEnv({ OMP_NUM_THREADS: value }, () => chooseThreads());
    assertEquals(choice.threads, navigator.hardwareConcurrency, value);
  }
});

Deno.test("chooseThreads() asks for passive waiting unless OMP_WAIT_POLICY is set", () => {
  const choice = withEnv({ OMP_WAIT_POLICY: undefined }, () => chooseThreads());
  assertEquals(choice.waiting, "passive");
  const kept = withEnv({ OMP_WAIT_POLICY: "ACTIVE" }, () => chooseThreads());
  assertEquals(kept.waiting, "active");
});

Deno.test("withWaitPolicy() sets OMP_WAIT_POLICY only while loading, then restores it", () => {
  const choice = { threads: 2, why: "test", waiting: "passive" };
  const [during, after] = withEnv({ OMP_WAIT_POLICY: undefined }, () => {
    const seen = withWaitPolicy(choice, () => Deno.env.get("OMP_WAIT_POLICY"));
    return [seen, Deno.env.get("OMP_WAIT_POLICY")];
  });
  assertEquals([during, after], ["passive", undefined]);
  const kept = withEnv({ OMP_WAIT_POLICY: "active" }, () => {
    withWaitPolicy(choice, () => {});
    return Deno.env.get("OMP_WAIT_POLICY");
  });
  assertEquals(kept, "active");
});
