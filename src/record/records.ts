/**
 * Recording, in two stages.
 *
 * 1. What needs no store, on the real content: {@linkcode admit} asks the path rules (enabled,
 *    then `checkPath`), {@linkcode shapeRecord} computes pattern IDs (SHA-256 of the real code),
 *    sizes, line deltas and the transformation guess, then applies the size cap, `store_code` and
 *    secret redaction. Its result is a plain, serializable, already-redacted record — exactly what
 *    the spill journal holds, so unredacted code never reaches the disk.
 * 2. {@linkcode commitRecord} writes one record into the store inside the caller's `BEGIN
 *    IMMEDIATE` transaction: pattern (its code as a line patch against its parent's, see
 *    `code_storage.ts`), file version with the metrics of the change that made it, lineage edge,
 *    execution, and the version queued in the outbox (a reference: the flusher assembles the Phase
 *    4 request from the rows when it sends it, `events.ts` `eventForVersion`).
 *
 * The records and the two stages' dispatchers live here; each kind's code lives in its own module
 * (`record/intent.ts`, `record/failure.ts`, `record/change.ts`, the path rules in `record/admit.ts`),
 * so that a hook loads only what its records need: the pre hook neither redaction nor the diff.
 * `track.ts` chains the two (and the journal); hooks, the library, import and the benchmark call it.
 * An export's records are shaped and written by `record_import.ts`, which only import loads.
 *
 * @module
 */

import type { TransformationType } from "./lineage.ts";
import type { LineDelta } from "./pattern.ts";
import type { ToolChange, ToolFailure, ToolIntent } from "./payload.ts";
import { commitChange, shapeChange } from "./change.ts";
import { commitFailure, shapeFailure } from "./failure.ts";
import { commitIntent, shapeIntent } from "./intent.ts";
import type { LineageEdgeRow, PatternRow } from "../store/pattern_rows.ts";
import type { ExecutionRow, FileVersion } from "../store/rows.ts";
import type { RecordingStore } from "../store/recording.ts";

/** The settings recording obeys (a subset of `TrackerConfig`). */
export interface RecordRules {
  /** false: record nothing at all. */
  enabled: boolean;
  includePaths: readonly string[];
  excludePaths: readonly string[];
  /** Keep the code in the store and events (config `store_code`). */
  storeCode: boolean;
  /** Replace secrets before anything is stored or sent (config `redact_secrets`). */
  redactSecrets: boolean;
  /** Larger patterns keep no code (config `max_pattern_bytes`). */
  maxPatternBytes: number;
}

/** Pattern IDs of a change's content after and before (null: new file; undefined: not sent). */
export interface ChangeIds {
  afterId: string;
  beforeId: string | null | undefined;
}

// ---- records ------------------------------------------------------------------------------------

/** One content as it may be stored and sent: its ID (of the real content), sizes, redacted code. */
export interface ContentFacts {
  /** Pattern ID: SHA-256 of the real content (LF line endings), first 16 hex. */
  id: string;
  /** The code with secrets redacted, or null when it must not be kept. */
  code: string | null;
  /** Why `code` is null. */
  codeOmitted: "store_code_off" | "too_large" | null;
  /** Secrets replaced in `code`. */
  redactedSecrets: number;
  lineCount: number;
  byteSize: number;
}

/** The fields every hook record carries (`record/call.ts`). */
export interface CallFields {
  toolUseId: string;
  sessionId: string | null;
  toolName: string;
  filePath: string;
  /** When the hook ran (ISO 8601 UTC): a replay keeps the original time. */
  at: string;
  /** Correlation ID for this call, used unless its intent already gave one. */
  correlationId: string;
}

/** A PreToolUse intent, ready for the store. */
export interface IntentRecord extends CallFields {
  kind: "intent";
}

/** A failed tool call, ready for the store (the error text redacted). */
export interface FailureRecord extends CallFields {
  kind: "failure";
  error: string;
  durationMs: number | null;
}

/** A successful change, ready for the store: everything measured on the real content. */
export interface ChangeRecord extends CallFields {
  kind: "change";
  language: string;
  after: ContentFacts;
  /** The content before: null for a new file, "unknown" when the payload does not say. */
  before: ContentFacts | null | "unknown";
  /** Lines added and removed (the payload's patch, or counted on the real content); null if unknown. */
  delta: LineDelta | null;
  /** Guessed on the real content when the content before is known. */
  transformation: TransformationType | null;
  durationMs: number | null;
  summary: string;
  replaceAll: boolean;
}

/** A file version read from an export (`import`), with its content, ready for the store. */
export interface ImportedVersionRecord {
  kind: "imported_version";
  version: FileVersion;
  content: ContentFacts;
  language: string;
  /** Line of the export it came from, for messages. */
  line: number;
}

/** An execution read from an export, ready for the store (the error text redacted). */
export interface ImportedExecutionRecord {
  kind: "imported_execution";
  execution: ExecutionRow;
  line: number;
}

/** A lineage edge read from an export. */
export interface ImportedEdgeRecord {
  kind: "imported_edge";
  edge: LineageEdgeRow;
  line: number;
}

/** What {@linkcode commitRecord} takes; the first three are what a hook spills to the journal. */
export type PreparedRecord =
  | IntentRecord
  | FailureRecord
  | ChangeRecord
  | ImportedVersionRecord
  | ImportedExecutionRecord
  | ImportedEdgeRecord;

/** The records a hook makes (and the spill journal holds). */
export type HookRecord = IntentRecord | FailureRecord | ChangeRecord;

/** The records an import makes. */
export type ImportRecord = ImportedVersionRecord | ImportedExecutionRecord | ImportedEdgeRecord;

/** A version from an export, as `import` reads it. */
export interface ImportedVersion {
  kind: "imported_version";
  version: FileVersion;
  /** The export's pattern record for `version.patternId`, if it had one. */
  pattern: PatternRow | undefined;
  line: number;
}

/** An execution from an export. */
export interface ImportedExecution {
  kind: "imported_execution";
  execution: ExecutionRow;
  line: number;
}

/** A lineage edge from an export. */
export interface ImportedEdge {
  kind: "imported_edge";
  edge: LineageEdgeRow;
  line: number;
}

/** What a hook (or the library) records. */
export type HookInput = ToolIntent | ToolChange | ToolFailure;

/** What an import records. */
export type ImportInput = ImportedVersion | ImportedExecution | ImportedEdge;

/** Everything the recording core accepts: hook payloads, and the records of an export. */
export type TrackInput = HookInput | ImportInput;

/** Options of {@linkcode shapeRecord}. */
export interface ShapeOptions {
  /** The change's pattern IDs, when the hook started hashing early ({@linkcode hashChange}). */
  ids?: Promise<ChangeIds>;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Size cap → redaction, on an admitted hook input: pattern IDs and measures of the real content,
 * then the code as it may be kept (an export's records: `record_import.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeRecord } from "./records.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { parseHookObject } from "./payload.ts";
 * const input = parseHookObject({
 *   hook_event_name: "PostToolUseFailure", tool_name: "Edit", tool_use_id: "toolu_1",
 *   session_id: "s", tool_input: { file_path: "/p/a.py", old_string: "a", new_string: "b" },
 *   error: "String to replace not found in file",
 * });
 * assert.equal(input.kind, "failure");
 * if (input.kind === "failure") {
 *   const record = await shapeRecord(defaultConfig("/h"), input);
 *   assert.equal(record.kind, "failure");
 *   assert.equal(record.filePath, "/p/a.py");
 * }
 * ```
 */
export async function shapeRecord(
  rules: RecordRules,
  input: HookInput,
  options: ShapeOptions = {},
): Promise<HookRecord> {
  switch (input.kind) {
    case "intent":
      return shapeIntent(input, options);
    case "failure":
      return shapeFailure(rules, input, options);
    case "change":
      return await shapeChange(rules, input, options);
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${JSON.stringify(unreachable)}`);
    }
  }
}

// ---- the store half ------------------------------------------------------------------------------

/** What committing a record did. */
export type CommitOutcome =
  | { kind: "intent"; recorded: boolean }
  | { kind: "failure"; recorded: boolean }
  | { kind: "duplicate"; toolUseId: string }
  | { kind: "unchanged"; patternId: string }
  | { kind: "recorded"; versions: FileVersion[] }
  | {
    kind: "imported";
    what: "version" | "execution" | "edge";
    added: boolean;
    patternAdded: boolean;
    queued: number;
  };

/** Options of {@linkcode commitRecord}. */
export interface CommitOptions {
  /** Queue Phase 4 events (hooks and the library: yes; import: only with `--queue`). */
  queue: boolean;
  /** Imported patterns already committed in this transaction (import checks parents against it). */
  imported?: Set<string>;
  /** Pattern IDs whose versions are queued in this transaction (so a parent is queued once). */
  queuedNow?: Set<string>;
  /** When an import queues its versions (a hook's record is queued at the time it was made). */
  queuedAt?: string;
  /**
   * The content before the change as the payload carried it (unredacted; a hook's own record
   * only, never from the journal): the store patches the new code against it without reading the
   * parent's code back. Absent, the store reads it.
   */
  beforeText?: string | null;
}

/**
 * Writes one prepared hook record into the store. Call inside `store.immediate` (the caller's
 * transaction; an export's records: `record_import.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitRecord, shapeRecord } from "./records.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import { parseHookObject } from "./payload.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const config = { ...defaultConfig(dataDir), dataDir };
 * const change = parseHookObject({
 *   hook_event_name: "PostToolUse", tool_name: "Write", tool_use_id: "toolu_1", session_id: "s",
 *   tool_input: { file_path: "/p/a.py", content: "x = 1\n" },
 *   tool_response: { type: "create", content: "x = 1\n", originalFile: null, structuredPatch: [] },
 * });
 * assert.equal(change.kind, "change");
 * if (change.kind === "change") {
 *   const record = await shapeRecord(config, change); // after admit(config, change)
 *   const store = openStore(dataDir);
 *   const outcome = store.immediate(() => commitRecord(store, record, { queue: true }));
 *   assert.equal(outcome.kind, "recorded");
 *   assert.equal(store.latestVersion("/p/a.py")?.version, 1);
 *   store.close();
 * }
 * ```
 */
export function commitRecord(
  store: RecordingStore,
  record: HookRecord,
  options: CommitOptions,
): CommitOutcome {
  switch (record.kind) {
    case "intent":
      return commitIntent(store, record);
    case "failure":
      return commitFailure(store, record);
    case "change":
      return commitChange(store, record, options);
    default: {
      const unreachable: never = record;
      throw new Error(`unhandled record ${JSON.stringify(unreachable)}`);
    }
  }
}
