import { assertEquals, assertThrows } from "@std/assert";
import { trainingSettings } from "@lib/settings.ts";

const envOf = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("trainingSettings() keeps the defaults when nothing is set", () => {
  assertEquals(trainingSettings({ epochs: 100, batchSize: 64 }, envOf({})), {
    epochs: 100,
    batchSize: 64,
    trainLimit: null,
  });
});

Deno.test("trainingSettings() lets the environment override each setting", () => {
  const env = envOf({ SIGNS_EPOCHS: "2", SIGNS_BATCH_SIZE: "16", SIGNS_TRAIN_LIMIT: "120" });
  assertEquals(trainingSettings({ epochs: 20, batchSize: 32 }, env), {
    epochs: 2,
    batchSize: 16,
    trainLimit: 120,
  });
  assertEquals(
    trainingSettings({ epochs: 20, batchSize: 32 }, envOf({ SIGNS_EPOCHS: " " })).epochs,
    20,
  );
});

Deno.test("trainingSettings() names a variable that is not a positive integer", () => {
  for (const bad of ["0", "-3", "2.5", "ten"]) {
    assertThrows(
      () => trainingSettings({ epochs: 20, batchSize: 32 }, envOf({ SIGNS_BATCH_SIZE: bad })),
      RangeError,
      `Cannot read SIGNS_BATCH_SIZE="${bad}": expected a positive integer`,
    );
  }
});

Deno.test("trainingSettings() reads Deno's environment by default", () => {
  Deno.env.set("SIGNS_TRAIN_LIMIT", "7");
  try {
    assertEquals(trainingSettings({ epochs: 1, batchSize: 1 }).trainLimit, 7);
  } finally {
    Deno.env.delete("SIGNS_TRAIN_LIMIT");
  }
});
