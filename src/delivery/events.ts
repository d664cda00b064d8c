/**
 * Pure builders of Phase 4 Pattern Traceability requests. A request is assembled when it is sent,
 * from the stored rows of one file version (immutable once written), so sending it again gives the
 * same bytes. Only the fields the real API reads are produced; everything else rides in
 * `pattern_data`. The mapping is explained in `docs/phase4.md`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { LineAttribution } from "../views/blame_runs.ts";
import type { EdgeType, EventType, TransformationType } from "../record/lineage.ts";
import type { FileVersion, PatternRow } from "../store/mod.ts";

/** Body of `POST /api/pattern-traceability/lineage/track`, one event of a batch. */
export interface LineageEvent {
  event_type: EventType;
  pattern_id: string;
  pattern_name: string;
  pattern_type: "code";
  pattern_version: string;
  tool_name: string | null;
  file_path: string | null;
  language: string | null;
  pattern_data: PatternData;
  parent_pattern_ids: string[];
  edge_type: EdgeType | null;
  transformation_type: TransformationType | null;
  reason: string | null;
  triggered_by: string;
}

/** A character of the code that PostgreSQL cannot store, replaced by U+FFFD in `code`. */
export interface ReplacedChar {
  /** Offset in UTF-16 code units in `code`. */
  offset: number;
  /** What stood there, as "U+0000" (NUL) or "U+D83D" (a lone surrogate). */
  char: string;
}

/** What we put in `pattern_data`. */
export interface PatternData {
  /** The code (secrets redacted), unless `store_code` is off or the pattern is over the size cap. */
  code?: string;
  /** Why the code is absent. */
  code_omitted?: "store_code_off" | "too_large";
  /** Characters of the code the server cannot store (JSONB refuses NUL and lone surrogates). */
  code_replaced?: ReplacedChar[];
  /** Number of secrets replaced in `code`. */
  redacted_secrets?: number;
  line_count: number;
  byte_size: number;
  file_version: number;
  session_id: string | null;
  correlation_id: string;
  tool_use_id: string | null;
  timestamp: string;
  lines_added: number | null;
  lines_removed: number | null;
  duration_ms: number | null;
  /**
   * Who wrote this version's lines (`src/views/blame.ts`): lines kept from the parent, lines this change
   * added and by whom, the version's lines by origin. Absent when the code of the version (or of
   * the file's history) is not kept.
   */
  line_attribution?: LineAttribution;
}

/** Value of `triggered_by` on every event we send. */
export const TRIGGERED_BY = "claude-code-pattern-tracker";

/**
 * The Phase 4 `pattern_version` of a file's n-th version: `<n>.0.0+<file key>`, where the build
 * metadata is the first 12 hex of SHA-256 of the file path. The server keeps one node per
 * (pattern_id, pattern_version), so each local version of each file is its own node: identical
 * content in two files, or a file that returns to an earlier content, stays two nodes. The value
 * depends only on the path and the number, so a resend, or a re-import into another store, names
 * the same node.
 *
 * @example
 * ```ts
 * import { serverPatternVersion } from "./events.ts";
 * import assert from "node:assert/strict";
 * assert.match(serverPatternVersion("/p/app.py", 3), /^3\.0\.0\+[0-9a-f]{12}$/);
 * ```
 */
export function serverPatternVersion(filePath: string, fileVersion: number): string {
  const fileKey = createHash("sha256").update(filePath).digest("hex").slice(0, 12);
  return `${fileVersion}.0.0+${fileKey}`;
}

/**
 * The `pattern_version` releases before 0.2 sent (`<n>.0.0`): an outbox entry migrated from then
 * may be on the server under it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { legacyPatternVersion } from "./events.ts";
 * assert.deepEqual(legacyPatternVersion(3), "3.0.0");
 * ```
 */
export function legacyPatternVersion(fileVersion: number): string {
  return `${fileVersion}.0.0`;
}

/**
 * Makes text storable by PostgreSQL (JSONB and TEXT refuse U+0000, and JSON input refuses lone
 * surrogates): each such code unit becomes U+FFFD, and is listed with its offset so that a reader
 * can restore the exact text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storableText } from "./events.ts";
 * assert.deepEqual(storableText("a\u0000b"), { text: "a\ufffdb", replaced: [{ offset: 1, char: "U+0000" }] });
 * ```
 */
export function storableText(text: string): { text: string; replaced: ReplacedChar[] } {
  // The common case (no NUL, no surrogate at all) costs one scan. NUL is what we look for.
  // deno-lint-ignore no-control-regex
  if (!/[\u0000\ud800-\udfff]/.test(text)) return { text, replaced: [] };
  const replaced: ReplacedChar[] = [];
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const low = unit >= 0xdc00 && unit <= 0xdfff;
    if (high && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
        continue;
      }
    }
    if (unit === 0 || high || low) {
      replaced.push({ offset: i, char: `U+${unit.toString(16).toUpperCase().padStart(4, "0")}` });
      out += "\ufffd";
    } else {
      out += text[i];
    }
  }
  return { text: out, replaced };
}

function storable(text: string): string;
function storable(text: string | null): string | null;
function storable(text: string | null): string | null {
  return text === null ? null : storableText(text).text;
}

/** Inputs of {@linkcode buildLineageEvent}. */
export interface LineageEventInput {
  eventType: "pattern_created" | "pattern_modified";
  patternId: string;
  parentPatternId: string | null;
  transformationType: TransformationType | null;
  fileVersion: number;
  filePath: string;
  language: string;
  toolName: string;
  /** The code to send, already redacted; null when it must not leave the machine. */
  code: string | null;
  codeOmitted?: "store_code_off" | "too_large" | null;
  redactedSecrets?: number;
  lineCount: number;
  byteSize: number;
  sessionId: string | null;
  correlationId: string;
  toolUseId: string | null;
  timestamp: string;
  reason: string;
  linesAdded: number | null;
  linesRemoved: number | null;
  durationMs: number | null;
  /** The version's line attribution, when its code is kept. */
  lineAttribution?: LineAttribution | null;
}

/**
 * Builds one Phase 4 lineage event. Text the server cannot store is replaced (and, in the code,
 * listed in `code_replaced`); the pattern ID stays the hash of the real content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildLineageEvent } from "./events.ts";
 * const event = buildLineageEvent({
 *   eventType: "pattern_created", patternId: "3d73da5b43ce076f", parentPatternId: null,
 *   transformationType: null, fileVersion: 1, filePath: "/p/hello.py", language: "python",
 *   toolName: "Write", code: 'def hello():\n    print("world")', lineCount: 2, byteSize: 31,
 *   sessionId: "s", correlationId: "c", toolUseId: "toolu_01",
 *   timestamp: "2026-01-01T00:00:00.000Z", reason: "Write (new file)", linesAdded: 2,
 *   linesRemoved: 0, durationMs: 11,
 * });
 * assert.deepEqual(event.parent_pattern_ids, []);
 * ```
 */
export function buildLineageEvent(input: LineageEventInput): LineageEvent {
  const modified = input.eventType === "pattern_modified" && input.parentPatternId !== null;
  const code = input.code === null ? null : storableText(input.code);
  const data: PatternData = {
    ...(code !== null ? { code: code.text } : {}),
    ...(input.codeOmitted ? { code_omitted: input.codeOmitted } : {}),
    ...(code !== null && code.replaced.length > 0 ? { code_replaced: code.replaced } : {}),
    ...(input.redactedSecrets ? { redacted_secrets: input.redactedSecrets } : {}),
    line_count: input.lineCount,
    byte_size: input.byteSize,
    file_version: input.fileVersion,
    session_id: storable(input.sessionId),
    correlation_id: storable(input.correlationId),
    tool_use_id: storable(input.toolUseId),
    timestamp: input.timestamp,
    lines_added: input.linesAdded,
    lines_removed: input.linesRemoved,
    duration_ms: input.durationMs,
    ...(input.lineAttribution ? { line_attribution: input.lineAttribution } : {}),
  };
  return {
    event_type: modified ? "pattern_modified" : "pattern_created",
    pattern_id: input.patternId,
    pattern_name: storable(baseName(input.filePath)),
    pattern_type: "code",
    pattern_version: serverPatternVersion(input.filePath, input.fileVersion),
    tool_name: storable(input.toolName),
    file_path: storable(input.filePath),
    language: storable(input.language),
    pattern_data: data,
    parent_pattern_ids: modified ? [input.parentPatternId as string] : [],
    edge_type: modified ? "modified_from" : null,
    transformation_type: modified ? input.transformationType : null,
    reason: storable(input.reason),
    triggered_by: TRIGGERED_BY,
  };
}

/**
 * The event of a stored file version, from its row and its pattern's row, with its line attribution
 * when the caller computed it (`src/views/blame_history.ts`, carried along the file's versions). With
 * `storeCode` off the code stays home even when the store holds it (an import from a store that
 * kept code); the attribution is counts only, and goes either way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventForVersion } from "./events.ts";
 * const event = eventForVersion({
 *   filePath: "/p/a.py", version: 1, patternId: "aaaaaaaaaaaaaaaa", parentPatternId: null,
 *   eventType: "pattern_created", transformationType: null, toolName: "Write", toolUseId: "t",
 *   sessionId: "s", correlationId: "c", reason: "Write (new file)",
 *   createdAt: "2026-01-01T00:00:00.000Z",
 * }, undefined, { storeCode: true });
 * assert.deepEqual(event.event_type, "pattern_created");
 * ```
 */
export function eventForVersion(
  v: FileVersion,
  p: PatternRow | undefined,
  options: { storeCode: boolean; lineAttribution?: LineAttribution | null },
): LineageEvent {
  const keepCode = options.storeCode && p?.code !== null && p?.code !== undefined;
  const omitted = !options.storeCode
    ? "store_code_off"
    : p?.codeOmitted === "store_code_off" || p?.codeOmitted === "too_large"
    ? p.codeOmitted
    : null;
  return buildLineageEvent({
    eventType: v.eventType === "pattern_modified" ? "pattern_modified" : "pattern_created",
    patternId: v.patternId,
    parentPatternId: v.parentPatternId,
    transformationType: v.transformationType as TransformationType | null,
    fileVersion: v.version,
    filePath: v.filePath,
    language: p?.language ?? "unknown",
    toolName: v.toolName,
    code: keepCode ? p!.code : null,
    codeOmitted: keepCode ? null : omitted,
    redactedSecrets: keepCode ? p!.redactedSecrets ?? 0 : 0,
    lineCount: p?.lineCount ?? 0,
    byteSize: p?.byteSize ?? 0,
    sessionId: v.sessionId,
    correlationId: v.correlationId,
    toolUseId: v.toolUseId,
    timestamp: v.createdAt,
    reason: v.reason ?? "",
    linesAdded: v.changeLinesAdded ?? null,
    linesRemoved: v.changeLinesRemoved ?? null,
    durationMs: v.changeDurationMs ?? null,
    lineAttribution: options.lineAttribution ?? null,
  });
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}
