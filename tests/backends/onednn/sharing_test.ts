import { assertEquals } from "@std/assert";
import * as tf from "@lib/tf.ts";
import { onednn } from "./_compare.ts";

Deno.test({
  name: "Identity and same-type Cast on onednn share data, and freeing either keeps the other",
  ignore: !onednn.available,
  async fn() {
    await tf.setBackend("onednn");
    const before = tf.memory().numTensors;
    const x = tf.tensor([1.5, -2, 3], [3]);
    const copy = tf.clone(x);
    const cast = tf.cast(x, "float32");
    const ints = tf.cast(x, "int32");
    x.dispose();
    assertEquals(Array.from(await copy.data()), [1.5, -2, 3]);
    copy.dispose();
    assertEquals(Array.from(await cast.data()), [1.5, -2, 3]);
    assertEquals(Array.from(await ints.data()), [1, -2, 3]);
    tf.dispose([cast, ints]);
    assertEquals(tf.memory().numTensors, before);
  },
});
