import { assert, assertEquals, assertThrows } from "@std/assert";
import { isAbsolute, join } from "node:path";
import {
  checkpointRoot,
  dataSourceDir,
  myImagePath,
  pretrainedModelPath,
  runCheckpointDir,
  trainingSettings,
} from "@lib/training/settings.ts";
import { projectRoot } from "@lib/util/paths.ts";

const envOf = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("trainingSettings() keeps the defaults when nothing is set", () => {
  assertEquals(trainingSettings({ epochs: 100, batchSize: 64 }, envOf({})), {
    epochs: 100,
    batchSize: 64,
    trainLimit: null,
    augment: false,
  });
});

Deno.test("trainingSettings() lets the environment override each setting", () => {
  const env = envOf({
    SIGNS_EPOCHS: "2",
    SIGNS_BATCH_SIZE: "16",
    SIGNS_TRAIN_LIMIT: "120",
    SIGNS_AUGMENT: "1",
  });
  assertEquals(trainingSettings({ epochs: 20, batchSize: 32 }, env), {
    epochs: 2,
    batchSize: 16,
    trainLimit: 120,
    augment: true,
  });
  assertEquals(
    trainingSettings({ epochs: 1, batchSize: 1, augment: true }, envOf({ SIGNS_AUGMENT: "0" }))
      .augment,
    false,
  );
  assertEquals(
    trainingSettings({ epochs: 20, batchSize: 32 }, envOf({ SIGNS_EPOCHS: " " })).epochs,
    20,
  );
});

Deno.test("trainingSettings() names a variable that is not a positive integer", () => {
  for (const bad of ["0", "-3", "2.5", "ten", "1e2", "0x10", "+4", "0b11"]) {
    assertThrows(
      () => trainingSettings({ epochs: 20, batchSize: 32 }, envOf({ SIGNS_BATCH_SIZE: bad })),
      RangeError,
      `Cannot read SIGNS_BATCH_SIZE="${bad}": expected a positive integer`,
    );
  }
});

Deno.test("trainingSettings() names a SIGNS_AUGMENT that is not 1 or 0", () => {
  for (const bad of ["2", "yes", "on"]) {
    assertThrows(
      () => trainingSettings({ epochs: 1, batchSize: 1 }, envOf({ SIGNS_AUGMENT: bad })),
      RangeError,
      `Cannot read SIGNS_AUGMENT="${bad}": expected 1 or 0`,
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

Deno.test("checkpointRoot() and myImagePath() take the environment, else paths in and beside the project", () => {
  const none = () => undefined;
  assertEquals(checkpointRoot(none), join(projectRoot, "build", "checkpoints"));
  assert(isAbsolute(checkpointRoot(none)));
  assertEquals(myImagePath(none), join(projectRoot, "..", "shared", "images", "my_image.jpg"));
  const env = (name: string) =>
    ({ SIGNS_CHECKPOINT_DIR: "/tmp/runs", SIGNS_MY_IMAGE: "me.png" } as Record<string, string>)[
      name
    ];
  assertEquals([checkpointRoot(env), myImagePath(env)], ["/tmp/runs", "me.png"]);
  const empty = () => " ";
  assertEquals(checkpointRoot(empty), checkpointRoot(none));
});

Deno.test("dataSourceDir() takes SIGNS_DATA_SOURCE, else ../shared/datasets, also when it is empty", () => {
  const fallback = join(projectRoot, "..", "shared", "datasets");
  assertEquals(dataSourceDir(() => undefined), fallback);
  assertEquals(dataSourceDir(() => ""), fallback);
  assertEquals(
    dataSourceDir((name) => name === "SIGNS_DATA_SOURCE" ? "/data" : undefined),
    "/data",
  );
});

Deno.test("runCheckpointDir() names a run's folder by its model and settings, under checkpointRoot()", () => {
  const env = (name: string) =>
    ({ SIGNS_CHECKPOINT_DIR: "/tmp/runs" } as Record<string, string>)[name];
  const settings = { epochs: 2, batchSize: 16, trainLimit: 64, augment: true };
  assertEquals(runCheckpointDir("resnet50", settings, env), "/tmp/runs/resnet50-2x16-64-augmented");
  assertEquals(
    runCheckpointDir(
      "baseline",
      { ...settings, trainLimit: null, augment: false },
      () => undefined,
    ),
    join(projectRoot, "build", "checkpoints", "baseline-2x16-all"),
  );
});

Deno.test("pretrainedModelPath() takes SIGNS_PRETRAINED_MODEL, else datasets/ResNet50.h5 in the project", () => {
  assertEquals(pretrainedModelPath(() => undefined), join(projectRoot, "datasets", "ResNet50.h5"));
  const env = (
    name: string,
  ) => (name === "SIGNS_PRETRAINED_MODEL" ? "/data/resnet50.h5" : undefined);
  assertEquals(pretrainedModelPath(env), "/data/resnet50.h5");
});
