/**
 * The rows every store user reads and writes first: file versions, tool-call executions and the
 * spill journal's replay marks, and how a SQLite row becomes one of them; and the outbox's rows as
 * delivery reads them. Pure.
 *
 * @module
 */

/** A row as `node:sqlite` returns it. */
export type Row = Record<string, unknown>;

/** One version of a file: a pattern in that file's chain. */
export interface FileVersion {
  filePath: string;
  version: number;
  patternId: string;
  parentPatternId: string | null;
  eventType: string;
  transformationType: string | null;
  toolName: string;
  toolUseId: string | null;
  sessionId: string | null;
  correlationId: string;
  reason: string | null;
  createdAt: string;
  /** Lines added by the change that made this version (against its parent), when known. */
  changeLinesAdded?: number | null;
  /** Lines removed by that change, when known. */
  changeLinesRemoved?: number | null;
  /** Duration of the tool call that made this version, when known. */
  changeDurationMs?: number | null;
}

/** One tool call's execution record. */
export interface ExecutionRow {
  toolUseId: string;
  sessionId: string | null;
  toolName: string;
  filePath: string | null;
  correlationId: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  success: boolean | null;
  error: string | null;
  linesAdded: number | null;
  linesRemoved: number | null;
  beforePatternId: string | null;
  patternId: string | null;
}

/** A spill-journal entry applied to the store (see `journal.ts`). */
export interface JournalReplay {
  entryId: string;
  spilledAt: string;
  reason: string;
  /** The journal file it came from. */
  place: string;
  replayedAt: string;
}

/** A text column, or null. */
export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A number column, or null. */
export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** A `file_versions` row as a {@linkcode FileVersion}. */
export function toVersion(r: Row): FileVersion {
  return {
    filePath: String(r.file_path),
    version: Number(r.version),
    patternId: String(r.pattern_id),
    parentPatternId: strOrNull(r.parent_pattern_id),
    eventType: String(r.event_type),
    transformationType: strOrNull(r.transformation_type),
    toolName: String(r.tool_name),
    toolUseId: strOrNull(r.tool_use_id),
    sessionId: strOrNull(r.session_id),
    correlationId: String(r.correlation_id),
    reason: strOrNull(r.reason),
    createdAt: String(r.created_at),
    changeLinesAdded: numOrNull(r.change_lines_added),
    changeLinesRemoved: numOrNull(r.change_lines_removed),
    changeDurationMs: numOrNull(r.change_duration_ms),
  };
}

/** An `executions` row as an {@linkcode ExecutionRow}. */
export function toExecution(r: Row): ExecutionRow {
  return {
    toolUseId: String(r.tool_use_id),
    sessionId: strOrNull(r.session_id),
    toolName: String(r.tool_name),
    filePath: strOrNull(r.file_path),
    correlationId: String(r.correlation_id),
    startedAt: strOrNull(r.started_at),
    finishedAt: strOrNull(r.finished_at),
    durationMs: numOrNull(r.duration_ms),
    success: r.success === null || r.success === undefined ? null : r.success === 1,
    error: strOrNull(r.error),
    linesAdded: numOrNull(r.lines_added),
    linesRemoved: numOrNull(r.lines_removed),
    beforePatternId: strOrNull(r.before_pattern_id),
    patternId: strOrNull(r.pattern_id),
  };
}

// ---- the outbox as delivery reads it (`outbox.ts`) ----------------------------------------------

/** Where the parent version of a queued version stands with a server. */
export type ParentState =
  /** No parent (a created version), or no local version holds it. */
  | "none"
  /** Queued too (it goes first). */
  | "queued"
  /** Acknowledged by this server. */
  | "delivered"
  /** Refused by this server (a dead letter): its children wait. */
  | "dead"
  /** Stored here, but neither queued, acknowledged nor refused (imported without --queue). */
  | "unknown";

/** A file version waiting in the outbox, with what ordering and verification need. */
export interface QueuedVersion {
  /** The outbox row. */
  queueId: number;
  /** The file version (`file_versions.id`). */
  versionId: number;
  filePath: string;
  version: number;
  patternId: string;
  parentPatternId: string | null;
  /** `file_versions.id` of the version before in the same file, when it holds the parent. */
  parentVersionId: number | null;
  parentState: ParentState;
  /** Local versions (any file) holding the parent's pattern: above 1, the server has several nodes of it. */
  parentPatternVersions: number;
  /** Newest version of the parent's pattern this server acknowledged (by order of acknowledgement). */
  newestDeliveredOfParent: number | null;
  /** The request may have reached the server: verify before sending again. */
  inDoubt: boolean;
  lastSentAt: string | null;
  /** The `pattern_version` an older release sent this version under (migrated rows only). */
  legacyVersion: string | null;
  queuedAt: string;
  attempts: number;
  lastError: string | null;
}

/** A dead letter: a version a server refused, with its answer. */
export interface DeadLetter {
  server: string;
  versionId: number;
  filePath: string;
  version: number;
  patternId: string;
  status: number | null;
  message: string;
  /** How the client read the refusal ("rejected"); null for dead letters of older releases. */
  verdict: string | null;
  deadAt: string;
}

/** Delivery counts of one server. */
export interface ServerDeliveryCounts {
  server: string;
  delivered: number;
  deadLetters: number;
}
