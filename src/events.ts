/**
 * Pure builders of Phase 4 Pattern Traceability requests. Only the fields the real API accepts are
 * produced (it has no `metadata` field); everything else rides in `pattern_data`.
 *
 * @module
 */

import type { EdgeType, EventType, TransformationType } from "./lineage.ts";

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

/** What we put in `pattern_data`. */
export interface PatternData {
  /** The code (secrets redacted), unless `store_code` is off or the pattern is over the size cap. */
  code?: string;
  /** Why the code is absent. */
  code_omitted?: "store_code_off" | "too_large";
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
}

/** Value of `triggered_by` on every event we send. */
export const TRIGGERED_BY = "claude-code-pattern-tracker";

/**
 * The Phase 4 `pattern_version` of a file's n-th version: semantic-version shaped, as the API
 * expects, and distinct per version so the server's (pattern_id, pattern_version) dedupe keeps a
 * reverted file's later version apart from its first.
 *
 * @example
 * ```ts
 * import { patternVersion } from "./events.ts";
 * patternVersion(3); // "3.0.0"
 * ```
 */
export function patternVersion(fileVersion: number): string {
  return `${fileVersion}.0.0`;
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
}

/**
 * Builds one Phase 4 lineage event.
 *
 * @example
 * ```ts
 * import { buildLineageEvent } from "./events.ts";
 * const event = buildLineageEvent({
 *   eventType: "pattern_created", patternId: "3d73da5b43ce076f", parentPatternId: null,
 *   transformationType: null, fileVersion: 1, filePath: "/p/hello.py", language: "python",
 *   toolName: "Write", code: 'def hello():\n    print("world")', lineCount: 2, byteSize: 31,
 *   sessionId: "s", correlationId: "c", toolUseId: "toolu_01",
 *   timestamp: "2026-01-01T00:00:00.000Z", reason: "Write (new file)", linesAdded: 2,
 *   linesRemoved: 0, durationMs: 11,
 * });
 * event.parent_pattern_ids; // []
 * ```
 */
export function buildLineageEvent(input: LineageEventInput): LineageEvent {
  const modified = input.eventType === "pattern_modified" && input.parentPatternId !== null;
  const data: PatternData = {
    ...(input.code !== null ? { code: input.code } : {}),
    ...(input.codeOmitted ? { code_omitted: input.codeOmitted } : {}),
    ...(input.redactedSecrets ? { redacted_secrets: input.redactedSecrets } : {}),
    line_count: input.lineCount,
    byte_size: input.byteSize,
    file_version: input.fileVersion,
    session_id: input.sessionId,
    correlation_id: input.correlationId,
    tool_use_id: input.toolUseId,
    timestamp: input.timestamp,
    lines_added: input.linesAdded,
    lines_removed: input.linesRemoved,
    duration_ms: input.durationMs,
  };
  return {
    event_type: modified ? "pattern_modified" : "pattern_created",
    pattern_id: input.patternId,
    pattern_name: baseName(input.filePath),
    pattern_type: "code",
    pattern_version: patternVersion(input.fileVersion),
    tool_name: input.toolName,
    file_path: input.filePath,
    language: input.language,
    pattern_data: data,
    parent_pattern_ids: modified ? [input.parentPatternId as string] : [],
    edge_type: modified ? "modified_from" : null,
    transformation_type: modified ? input.transformationType : null,
    reason: input.reason,
    triggered_by: TRIGGERED_BY,
  };
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}
