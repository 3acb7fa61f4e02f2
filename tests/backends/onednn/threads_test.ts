import { assertEquals } from "@std/assert";
import {
  chooseThreads,
  DEFAULT_SPIN_COUNT,
  withWaitPolicy,
} from "@lib/backends/onednn/_threads.ts";

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

Deno.test("chooseThreads() asks for passive waiting after a short spin unless the user chose", () => {
  const unset = { OMP_WAIT_POLICY: undefined, GOMP_SPINCOUNT: undefined };
  const choice = withEnv(unset, () => chooseThreads());
  assertEquals([choice.waiting, choice.spins], ["passive", String(DEFAULT_SPIN_COUNT)]);
  const active = withEnv({ ...unset, OMP_WAIT_POLICY: "ACTIVE" }, () => chooseThreads());
  assertEquals([active.waiting, active.spins], ["active", undefined]);
  const passive = withEnv({ ...unset, OMP_WAIT_POLICY: "passive" }, () => chooseThreads());
  assertEquals([passive.waiting, passive.spins], ["passive", undefined]);
  const spins = withEnv({ ...unset, GOMP_SPINCOUNT: "50" }, () => chooseThreads());
  assertEquals([spins.waiting, spins.spins], ["passive", "50"]);
});

Deno.test("withWaitPolicy() sets its variables only while loading, then restores them", () => {
  const choice = { threads: 2, why: "test", waiting: "passive", spins: "3000" };
  const read = () => [Deno.env.get("OMP_WAIT_POLICY"), Deno.env.get("GOMP_SPINCOUNT")];
  const [during, after] = withEnv({ OMP_WAIT_POLICY: undefined, GOMP_SPINCOUNT: undefined }, () => {
    const seen = withWaitPolicy(choice, read);
    return [seen, read()];
  });
  assertEquals([during, after], [["passive", "3000"], [undefined, undefined]]);
  const kept = withEnv({ OMP_WAIT_POLICY: "active" }, () => {
    withWaitPolicy(choice, () => {});
    return Deno.env.get("OMP_WAIT_POLICY");
  });
  assertEquals(kept, "active");
});
