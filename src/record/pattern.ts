/**
 * Pure functions that turn code into a pattern: its content-addressed ID, its line count, and the
 * content an Edit or MultiEdit produces.
 *
 * @module
 */

/** Number of hex characters kept from the SHA-256 digest. */
export const PATTERN_ID_LENGTH = 16;

/**
 * Reads every line ending (`\r\n`, lone `\r`) as `\n`.
 *
 * Claude Code shows a CRLF file with LF endings in `tool_response.originalFile` while the disk keeps
 * CRLF; hashing raw bytes would break the lineage of every CRLF file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeLineEndings } from "./pattern.ts";
 * assert.equal(normalizeLineEndings("a\r\nb\rc"), "a\nb\nc");
 * ```
 */
export function normalizeLineEndings(code: string): string {
  return code.includes("\r") ? code.replace(/\r\n?/g, "\n") : code;
}

/**
 * The pattern ID of some code: the first 16 hex characters of the SHA-256 of its UTF-8 bytes, with
 * line endings read as LF.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { patternId } from "./pattern.ts";
 * assert.equal(await patternId('def hello():\n    print("world")'), "3d73da5b43ce076f");
 * ```
 */
export async function patternId(code: string): Promise<string> {
  const bytes = new TextEncoder().encode(normalizeLineEndings(code));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (let i = 0; i < PATTERN_ID_LENGTH / 2; i++) {
    hex += (digest[i] ?? 0).toString(16).padStart(2, "0");
  }
  return hex;
}

/**
 * Number of lines in some code, as an editor shows them: a trailing newline does not start a new
 * line, and empty code has no lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countLines } from "./pattern.ts";
 * assert.equal(countLines("a\nb\n"), 2);
 * assert.equal(countLines("a\nb"), 2);
 * assert.equal(countLines(""), 0);
 * ```
 */
export function countLines(code: string): number {
  if (code.length === 0) return 0;
  const text = normalizeLineEndings(code);
  let lines = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  return text.endsWith("\n") ? lines - 1 : lines;
}

/** One string replacement, as Edit and MultiEdit describe it. */
export interface StringEdit {
  oldString: string;
  newString: string;
  replaceAll: boolean;
}

/**
 * Why an edit could not be applied to the content in memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyEdit, EditNotApplicableError } from "./pattern.ts";
 * assert.throws(
 *   () => applyEdit("abc", { oldString: "x", newString: "y", replaceAll: false }),
 *   EditNotApplicableError,
 * );
 * ```
 */
export class EditNotApplicableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EditNotApplicableError";
  }
}

/**
 * Applies one Edit to some content the way Claude Code does: the first occurrence, or every one with
 * `replaceAll`. Throws {@linkcode EditNotApplicableError} when `oldString` is not there.
 *
 * Replacement uses split/join, not `String.replace`, so `$&` and friends in `newString` stay literal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyEdit } from "./pattern.ts";
 * assert.equal(applyEdit("a b a", { oldString: "a", newString: "c", replaceAll: true }), "c b c");
 * ```
 */
export function applyEdit(content: string, edit: StringEdit): string {
  if (edit.oldString === "") {
    // Claude Code treats an empty old_string on an empty file as "write this content".
    if (content === "") return edit.newString;
    throw new EditNotApplicableError("old_string is empty but the file is not");
  }
  const at = content.indexOf(edit.oldString);
  if (at < 0) {
    throw new EditNotApplicableError(
      `old_string not found in the content before the edit (${edit.oldString.length} chars)`,
    );
  }
  if (edit.replaceAll) return content.split(edit.oldString).join(edit.newString);
  return content.slice(0, at) + edit.newString + content.slice(at + edit.oldString.length);
}

/**
 * Applies a MultiEdit's edits in order, each to the result of the one before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyEdits } from "./pattern.ts";
 * const edited = applyEdits("x = 1", [
 *   { oldString: "x", newString: "y", replaceAll: false },
 *   { oldString: "1", newString: "2", replaceAll: false },
 * ]);
 * assert.equal(edited, "y = 2");
 * ```
 */
export function applyEdits(content: string, edits: readonly StringEdit[]): string {
  return edits.reduce(applyEdit, content);
}

/** Lines added and removed by a change. */
export interface LineDelta {
  added: number;
  removed: number;
}

/**
 * Counts added and removed lines in Claude Code's `structuredPatch` hunks (`+`/`-` prefixed lines).
 * Unknown shapes count as nothing rather than failing: the patch is a metric, not the pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineDeltaFromPatch } from "./pattern.ts";
 * assert.deepEqual(lineDeltaFromPatch([{ lines: [" a", "-b", "+c", "+d"] }]), {
 *   added: 2,
 *   removed: 1,
 * });
 * ```
 */
export function lineDeltaFromPatch(patch: unknown): LineDelta {
  const delta = { added: 0, removed: 0 };
  if (!Array.isArray(patch)) return delta;
  for (const hunk of patch) {
    const lines = (hunk as { lines?: unknown } | null)?.lines;
    if (!Array.isArray(lines)) continue;
    for (const line of lines) {
      if (typeof line !== "string") continue;
      if (line.startsWith("+")) delta.added++;
      else if (line.startsWith("-")) delta.removed++;
    }
  }
  return delta;
}

/**
 * Line delta between two whole contents by a longest-common-subsequence-free estimate: lines whose
 * text appears in one and not the other (as a multiset). Used when no `structuredPatch` was sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineDeltaBetween } from "./pattern.ts";
 * assert.deepEqual(lineDeltaBetween("a\nb\n", "a\nc\nd\n"), { added: 2, removed: 1 });
 * ```
 */
export function lineDeltaBetween(before: string | null, after: string): LineDelta {
  const split = (s: string) =>
    s === "" ? [] : normalizeLineEndings(s).replace(/\n$/, "").split("\n");
  const remaining = new Map<string, number>();
  for (const line of split(before ?? "")) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  let added = 0;
  for (const line of split(after)) {
    const left = remaining.get(line) ?? 0;
    if (left > 0) remaining.set(line, left - 1);
    else added++;
  }
  let removed = 0;
  for (const left of remaining.values()) removed += left;
  return { added, removed };
}
