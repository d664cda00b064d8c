/**
 * Pure: who wrote each line of a file, carried through its versions the way `git blame` carries
 * lines through commits. Each version's text is compared with the one before (a line diff: the
 * stored line patch when it was made against that version, else `diffLines`); a line the change
 * kept keeps its origin, a line it added gets the version's. The origins:
 *
 * - `ai` — written by a Claude Code tool call (Write, Edit, MultiEdit, NotebookEdit);
 * - `external` — appeared outside Claude Code (a person, a formatter, a script): an `external`
 *   version, or a change on disk since the last tracked version;
 * - `baseline` — there before tracking began (a `baseline` version);
 * - `unknown` — changed across versions whose code is not kept (pruned, over the size cap), so
 *   which of them wrote it cannot be told.
 *
 * Lines are compared without their line ending, so a last line that only gains a `"\n"` keeps its
 * origin. Texts are the stored ones: redacted and LF-normalised. Reading the store is
 * `src/views/blame_history.ts`'s job; this module only computes.
 *
 * @module
 */

import { diffLines, type LinePatchOp, splitLines } from "../store/line_patch.ts";
import { matchLines, type MatchRun } from "./line_match.ts";

/** Where a line came from. */
export type Origin = "ai" | "external" | "baseline" | "unknown";

/** Every origin, in the order views list them. */
export const ORIGINS: readonly Origin[] = ["ai", "external", "baseline", "unknown"];

/**
 * What brought a line: the version and tool call, when one did. Shared by all the lines it brought
 * (compare by identity).
 */
export interface LineSource {
  origin: Origin;
  /** The file version that brought the line; null for a change on disk since the last version. */
  version: number | null;
  patternId: string | null;
  toolName: string | null;
  /** The Claude Code tool call (ai lines only). */
  toolUseId: string | null;
  /** Its session (ai lines only). */
  sessionId: string | null;
  createdAt: string | null;
}

/** The fields of a file version that say who made it. */
export interface VersionFacts {
  version: number;
  patternId: string;
  toolName: string;
  toolUseId: string | null;
  sessionId: string | null;
  createdAt: string;
}

/**
 * The origin of the lines a version adds, from the tool that recorded it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { originOfTool } from "./blame.ts";
 * assert.deepEqual(originOfTool("Edit"), "ai");
 * assert.deepEqual(originOfTool("external"), "external");
 * ```
 */
export function originOfTool(toolName: string): Exclude<Origin, "unknown"> {
  return toolName === "baseline" ? "baseline" : toolName === "external" ? "external" : "ai";
}

/**
 * The source of the lines a version adds. Only ai lines name a tool call and session (a bridging
 * version is recorded during some tool call, but that call did not write its lines).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceOfVersion } from "./blame.ts";
 * const external = sourceOfVersion({
 *   version: 2, patternId: "aaaaaaaaaaaaaaaa", toolName: "external", toolUseId: null,
 *   sessionId: "s", createdAt: "2026-01-01T00:00:00.000Z",
 * });
 * assert.equal(external.sessionId, null);
 * assert.equal(external.origin, "external");
 * ```
 */
export function sourceOfVersion(v: VersionFacts): LineSource {
  const origin = originOfTool(v.toolName);
  const ai = origin === "ai";
  return {
    origin,
    version: v.version,
    patternId: v.patternId,
    toolName: v.toolName,
    toolUseId: ai ? v.toolUseId : null,
    sessionId: ai ? v.sessionId : null,
    createdAt: v.createdAt,
  };
}

/** Lines changed on disk since the last tracked version. */
export const DISK_SOURCE: LineSource = Object.freeze({
  origin: "external",
  version: null,
  patternId: null,
  toolName: null,
  toolUseId: null,
  sessionId: null,
  createdAt: null,
});

/** Lines changed across versions whose code is not kept. */
export const UNKNOWN_SOURCE: LineSource = Object.freeze({
  origin: "unknown",
  version: null,
  patternId: null,
  toolName: null,
  toolUseId: null,
  sessionId: null,
  createdAt: null,
});

/** The blame of one text: its lines (each with its `"\n"`, the last may have none) and sources. */
export interface BlameState {
  lines: string[];
  sources: LineSource[];
  /** Lines by origin. */
  counts: Record<Origin, number>;
  /** The text, when at hand (joined from `lines` on demand). */
  text: string | null;
}

/** One line of a diff shown to a person. */
export interface DiffLine {
  kind: "same" | "del" | "add";
  text: string;
}

/** A changed stretch: where it starts in the old and new text (0-based lines) and its lines. */
export interface Hunk {
  oldStart: number;
  newStart: number;
  lines: DiffLine[];
}

/** What one change did to the lines. */
export interface BlameChange {
  /** Lines of the text before that the change kept (with their origins). */
  kept: number;
  /** Lines the change added (they take its source). */
  added: number;
  /** Lines of the text before that it removed (replaced or deleted). */
  removed: number;
  /** The sources of the removed lines, one per line. */
  removedSources: LineSource[];
  /** The changed stretches, when asked for. */
  hunks?: Hunk[];
}

/**
 * The blame of a text nobody wrote yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyBlame } from "./blame.ts";
 * assert.deepEqual(emptyBlame().lines.length, 0);
 * ```
 */
export function emptyBlame(): BlameState {
  return { lines: [], sources: [], counts: zeroCounts(), text: "" };
}

function zeroCounts(): Record<Origin, number> {
  return { ai: 0, external: 0, baseline: 0, unknown: 0 };
}

/**
 * A text whose every line `source` wrote (a created file, a baseline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freshBlame, UNKNOWN_SOURCE } from "./blame.ts";
 * assert.deepEqual(freshBlame("a\nb\n", UNKNOWN_SOURCE).counts.unknown, 2);
 * ```
 */
export function freshBlame(text: string, source: LineSource): BlameState {
  const lines = splitLines(text);
  const counts = zeroCounts();
  counts[source.origin] = lines.length;
  return { lines, sources: lines.map(() => source), counts, text };
}

/**
 * The state's text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blameText, freshBlame, UNKNOWN_SOURCE } from "./blame.ts";
 * assert.deepEqual(blameText(freshBlame("a\n", UNKNOWN_SOURCE)), "a\n");
 * ```
 */
export function blameText(state: BlameState): string {
  return state.text ??= state.lines.join("");
}

/**
 * Carries a blame to the next text, given the line patch from the current text to it (whole-line
 * changes by character offset, as `diffLines` makes them): kept lines keep their sources, added
 * ones get `source`. Changes lines inside each replaced stretch that are equal (ignoring the line
 * ending) are kept. Mutates `state`; returns null, leaving it untouched, when the changes do not
 * fall on line boundaries of the current text (a patch for another text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyChange, freshBlame, UNKNOWN_SOURCE } from "./blame.ts";
 * import { diffLines } from "../store/line_patch.ts";
 * const state = freshBlame("a\nb\n", UNKNOWN_SOURCE);
 * const source = { ...UNKNOWN_SOURCE, origin: "ai" as const, version: 2 };
 * applyChange(state, diffLines("a\nb\n", "a\nB\n").ops, source); // { kept: 1, added: 1, removed: 1, … }
 * assert.deepEqual(state.sources[1] === source, true);
 * ```
 */
export function applyChange(
  state: BlameState,
  ops: readonly LinePatchOp[],
  source: LineSource,
  options: { hunks?: boolean; nextText?: string } = {},
): BlameChange | null {
  // Where each change starts and ends, in lines of the current text.
  const spans: { start: number; end: number; insert: string[] }[] = [];
  let line = 0;
  let offset = 0;
  const lines = state.lines;
  for (const op of ops) {
    while (offset < op.at && line < lines.length) offset += (lines[line++] as string).length;
    if (offset !== op.at) return null;
    const start = line;
    const end = op.at + op.remove;
    while (offset < end && line < lines.length) offset += (lines[line++] as string).length;
    if (offset !== end) return null;
    spans.push({ start, end: line, insert: splitLines(op.insert) });
  }
  const change: BlameChange = {
    kept: lines.length,
    added: 0,
    removed: 0,
    removedSources: [],
    ...(options.hunks ? { hunks: [] } : {}),
  };
  let shift = 0; // lines added minus removed so far: where a span lands in the new text
  const replaced: { start: number; end: number; lines: string[]; sources: LineSource[] }[] = [];
  for (const span of spans) {
    const removed = lines.slice(span.start, span.end);
    const removedSources = state.sources.slice(span.start, span.end);
    const sources: LineSource[] = new Array(span.insert.length).fill(source);
    const runs = matchLines(removed.map(bare), span.insert.map(bare));
    const keptOld = new Uint8Array(removed.length);
    let keptHere = 0;
    for (const run of runs) {
      for (let k = 0; k < run.length; k++) {
        sources[run.b + k] = removedSources[run.a + k] as LineSource;
        keptOld[run.a + k] = 1;
      }
      keptHere += run.length;
    }
    for (let k = 0; k < removed.length; k++) {
      if (keptOld[k]) continue;
      const gone = removedSources[k] as LineSource;
      change.removedSources.push(gone);
      state.counts[gone.origin]--;
    }
    const added = span.insert.length - keptHere;
    state.counts[source.origin] += added;
    change.added += added;
    change.removed += removed.length - keptHere;
    change.kept -= removed.length - keptHere;
    change.hunks?.push(hunkOf(span.start, span.start + shift, removed, span.insert, runs));
    shift += span.insert.length - removed.length;
    replaced.push({ start: span.start, end: span.end, lines: span.insert, sources });
  }
  // Last span first: the indices of the earlier ones stay valid.
  for (let k = replaced.length - 1; k >= 0; k--) {
    const r = replaced[k]!;
    lines.splice(r.start, r.end - r.start, ...r.lines);
    state.sources.splice(r.start, r.end - r.start, ...r.sources);
  }
  state.text = options.nextText ?? null;
  return change;
}

/**
 * Carries a blame to `next` by a fresh line diff of the two texts (see {@linkcode applyChange}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { advanceTo, freshBlame, UNKNOWN_SOURCE } from "./blame.ts";
 * const state = freshBlame("a\n", UNKNOWN_SOURCE);
 * assert.deepEqual(advanceTo(state, "a\nb\n", { ...UNKNOWN_SOURCE, origin: "external" as const }).added, 1);
 * ```
 */
export function advanceTo(
  state: BlameState,
  next: string,
  source: LineSource,
  options: { hunks?: boolean } = {},
): BlameChange {
  const ops = diffLines(blameText(state), next).ops;
  // diffLines cuts its changes at the current text's line boundaries, so this cannot fail.
  return applyChange(state, ops, source, { ...options, nextText: next }) as BlameChange;
}

/** The line without its `"\n"`: a last line that gains one is the same line. */
function bare(line: string): string {
  return line.endsWith("\n") ? line.slice(0, -1) : line;
}

function hunkOf(
  oldStart: number,
  newStart: number,
  removed: readonly string[],
  inserted: readonly string[],
  runs: readonly MatchRun[],
): Hunk {
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  for (const run of [...runs, { a: removed.length, b: inserted.length, length: 0 }]) {
    while (i < run.a) out.push({ kind: "del", text: bare(removed[i++] as string) });
    while (j < run.b) out.push({ kind: "add", text: bare(inserted[j++] as string) });
    for (let k = 0; k < run.length; k++) {
      out.push({ kind: "same", text: bare(inserted[j + k] as string) });
    }
    i += run.length;
    j += run.length;
  }
  return { oldStart, newStart, lines: out };
}
