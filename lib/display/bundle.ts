// MIME bundles for Jupyter front ends. An object with a [Symbol.for("Jupyter.display")] method is
// shown by Deno's kernel as the bundle that method returns; elsewhere the method is never called.
import { Buffer } from "node:buffer";

/** A Jupyter MIME bundle: MIME type to content (text, base64 for images, or JSON). */
export type MimeBundle = Record<string, unknown>;

/** Something Deno's Jupyter kernel can display. */
export interface Displayable {
  /** Returns the MIME bundle the kernel sends to the front end. */
  [key: symbol]: () => MimeBundle;
}

/** The symbol Deno's Jupyter kernel looks for. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A displayable whose bundle is built on demand by `bundle`. */
export function displayable<T extends object>(value: T, bundle: () => MimeBundle): T & Displayable {
  return Object.assign(value, { [JUPYTER_DISPLAY]: bundle }) as T & Displayable;
}

/** Base64 text of some bytes, as Jupyter wants binary outputs. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Text with `&`, `<`, `>` and `"` escaped for HTML. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  );
}
