// Helpers of the oneDNN kernel tests: whether the backend is here, and the comparisons with cpu.
import { registerOnednnBackend } from "@lib/backends/onednn/mod.ts";

export { type Data, randomData, relativeError, runOn } from "../../_compare.ts";

/** Whether the backend is usable here; the reason is printed once when it is not. */
export const onednn = await registerOnednnBackend();
if (!onednn.available) console.log(`SKIPPED oneDNN tests: ${onednn.reason}`);
