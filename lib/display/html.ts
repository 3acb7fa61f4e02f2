// The HTML that modules outside display/ show: a heading over a list of lines (a backend's
// attempts, a self-check's failures) and one status line. Every text is escaped here, so callers
// pass plain strings.
import { escapeHtml } from "./bundle.ts";

/** One line of a {@linkcode checklistHtml} list. */
export interface ChecklistItem {
  /** A mark before the line (✔, ✘). */
  mark?: string;
  /** A name shown as code, before the text. */
  code?: string;
  /** The line. */
  text: string;
}

/** What {@linkcode checklistHtml} shows. */
export interface Checklist {
  /** The heading, in bold. */
  heading: string;
  /** Plain text after the heading, on its line. */
  detail?: string;
  /** Green for a pass, red for a failure; the page's colour otherwise. */
  tone?: "pass" | "fail";
  /** The lines under the heading (none: no list). */
  items?: ChecklistItem[];
}

const TONES = { pass: "#137333", fail: "#b3261e" } as const;

/** A heading with an optional detail, over a list of lines. */
export function checklistHtml(list: Checklist): string {
  const style = list.tone ? ` style="color:${TONES[list.tone]}"` : "";
  const detail = list.detail === undefined ? "" : ` — ${escapeHtml(list.detail)}`;
  const items = (list.items ?? []).map((item) => {
    const mark = item.mark === undefined ? "" : `${escapeHtml(item.mark)} `;
    const code = item.code === undefined ? "" : `<code>${escapeHtml(item.code)}</code>: `;
    return `<li>${mark}${code}${escapeHtml(item.text)}</li>`;
  });
  const listHtml = items.length ? `<ul>${items.join("")}</ul>` : "";
  return `<div${style}><b>${escapeHtml(list.heading)}</b>${detail}${listHtml}</div>`;
}

/** One line of text in a fixed-width font (a training run's status). */
export function statusLineHtml(text: string): string {
  return `<div style="font-family:monospace">${escapeHtml(text)}</div>`;
}
