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
 * `track.ts` chains the two (and the journal); hooks, the library, import and the benchmark call it.
 * An export's records are shaped and written by `record_import.ts`, which only import loads.
 *
 * @module
 */

import { languageFromPath } from "./language.ts";
import { decideLineage, guessTransformation, type TransformationType } from "./lineage.ts";
import {
  countLines,
  type LineDelta,
  lineDeltaBetween,
  normalizeLineEndings,
  patternId,
} from "./pattern.ts";
import type { ToolChange, ToolFailure, ToolIntent } from "./payload.ts";
import { checkPath, projectDirFromEnv, redactSecrets } from "./privacy.ts";
import type { ExecutionRow, FileVersion, LineageEdgeRow, PatternRow, Store } from "./store.ts";

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

/**
 * Starts hashing a change's contents (WebCrypto runs off the main thread, so a hook starts this
 * first and reads its configuration meanwhile).
 *
 * @example
 * ```ts
 * import { hashChange } from "./record.ts";
 * const ids = await hashChange({ after: 'def hello():\n    print("world")', before: null });
 * ids.afterId; // "3d73da5b43ce076f"
 * ```
 */
export async function hashChange(change: Pick<ToolChange, "after" | "before">): Promise<ChangeIds> {
  const [afterId, beforeHash] = await Promise.all([
    patternId(change.after),
    typeof change.before === "string" ? patternId(change.before) : null,
  ]);
  return { afterId, beforeId: typeof change.before === "string" ? beforeHash : change.before };
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

interface CallFields {
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

/**
 * True for the records of an export.
 *
 * @example
 * ```ts
 * import { isImportInput } from "./record.ts";
 * isImportInput({ kind: "imported_edge", edge: {} as never, line: 1 }); // true
 * ```
 */
export function isImportInput(input: TrackInput): input is ImportInput {
  return input.kind === "imported_version" || input.kind === "imported_execution" ||
    input.kind === "imported_edge";
}

/** A refusal of an input, with the reason (import stops on these; nothing is written). */
export class RecordRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordRefused";
  }
}

/** Options of {@linkcode shapeRecord}. */
export interface ShapeOptions {
  /** The change's pattern IDs, when the hook started hashing early ({@linkcode hashChange}). */
  ids?: Promise<ChangeIds>;
  now?: () => Date;
  newId?: () => string;
}

/** Whether an input is recorded at all: the first two links of the chain. */
export type Admission =
  | { kind: "disabled" }
  | { kind: "excluded"; filePath: string }
  /** A file path that is not a file's (empty, relative, a directory…): logged, never stored. */
  | { kind: "refused"; reason: string; toolUseId: string | null }
  | { kind: "admitted" };

/**
 * Enabled → path rules: whether an input is recorded at all (synchronous, so a hook knows before
 * it opens the store). The one place the path rules are asked: relative to the project root
 * (`CLAUDE_PROJECT_DIR`, else the payload's `cwd`) for a file inside it (see `path_rules.ts`).
 *
 * @example
 * ```ts
 * import { admit } from "./record.ts";
 * import { defaultConfig } from "./config/mod.ts";
 * admit(defaultConfig("/h"), {
 *   kind: "intent", hookEvent: "PreToolUse", toolName: "Write", toolUseId: "t", sessionId: "s",
 *   cwd: "/p", filePath: "/p/.env", contentAfter: "K=v\n",
 * }).kind; // "excluded"
 * ```
 */
export function admit(rules: RecordRules, input: TrackInput): Admission {
  if (!rules.enabled) return { kind: "disabled" };
  const target = targetOf(input);
  if (target === null) return { kind: "admitted" };
  // `cwd` is null for an export's records and library calls: then CLAUDE_PROJECT_DIR, if set, is
  // the root, else rules see the absolute path.
  const decision = checkPath(
    target.filePath,
    { include: rules.includePaths, exclude: rules.excludePaths },
    { cwd: target.cwd, projectDir: projectDirFromEnv() },
  );
  switch (decision.kind) {
    case "tracked":
      return { kind: "admitted" };
    case "excluded":
    case "not_included":
      return { kind: "excluded", filePath: target.filePath };
    case "refused":
      return { kind: "refused", reason: decision.reason, toolUseId: toolUseIdOf(input) };
    default: {
      const unreachable: never = decision;
      throw new Error(`unhandled path decision ${JSON.stringify(unreachable)}`);
    }
  }
}

function toolUseIdOf(input: TrackInput): string | null {
  switch (input.kind) {
    case "intent":
    case "failure":
    case "change":
      return input.toolUseId;
    case "imported_version":
      return input.version.toolUseId;
    case "imported_execution":
      return input.execution.toolUseId;
    case "imported_edge":
      return null;
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Size cap → redaction, on an admitted hook input: pattern IDs and measures of the real content,
 * then the code as it may be kept (an export's records: `record_import.ts`).
 *
 * @example
 * ```ts
 * import { shapeRecord } from "./record.ts";
 * import { defaultConfig } from "./config/mod.ts";
 * // const record = await shapeRecord(defaultConfig("/h"), change);
 * ```
 */
export async function shapeRecord(
  rules: RecordRules,
  input: HookInput,
  options: ShapeOptions = {},
): Promise<HookRecord> {
  const at = () => (options.now ?? (() => new Date()))().toISOString();
  const newId = options.newId ?? (() => crypto.randomUUID());
  switch (input.kind) {
    case "intent":
      return { kind: "intent", ...callFields(input, at(), newId()) };
    case "failure":
      return {
        kind: "failure",
        ...callFields(input, at(), newId()),
        error: rules.redactSecrets ? redactSecrets(input.error).text : input.error,
        durationMs: input.durationMs,
      };
    case "change":
      return await prepareChange(rules, input, options, at(), newId());
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The file an input writes, and the project it was written in (the payload's `cwd`). */
function targetOf(input: TrackInput): { filePath: string; cwd: string | null } | null {
  switch (input.kind) {
    case "intent":
    case "failure":
    case "change":
      return { filePath: input.filePath, cwd: input.cwd };
    case "imported_version":
      return { filePath: input.version.filePath, cwd: null };
    case "imported_execution":
      return input.execution.filePath === null
        ? null
        : { filePath: input.execution.filePath, cwd: null };
    case "imported_edge":
      return input.edge.filePath === null ? null : { filePath: input.edge.filePath, cwd: null };
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${JSON.stringify(unreachable)}`);
    }
  }
}

function callFields(
  input: ToolIntent | ToolChange | ToolFailure,
  at: string,
  correlationId: string,
): CallFields {
  return {
    toolUseId: input.toolUseId,
    sessionId: input.sessionId,
    toolName: input.toolName,
    filePath: input.filePath,
    at,
    correlationId,
  };
}

async function prepareChange(
  rules: RecordRules,
  change: ToolChange,
  options: ShapeOptions,
  at: string,
  correlationId: string,
): Promise<ChangeRecord> {
  const { afterId, beforeId } = await (options.ids ?? hashChange(change));
  const known = typeof change.before === "string" && typeof beforeId === "string";
  const delta = change.lineDelta ??
    (change.before === null ? lineDeltaBetween(null, change.after) : null) ??
    (known ? lineDeltaBetween(change.before as string, change.after) : null);
  const transformation = known && beforeId !== afterId
    ? guessTransformation({
      before: change.before as string,
      after: change.after,
      delta: delta ?? lineDeltaBetween(change.before as string, change.after),
      replaceAll: change.replaceAll,
    })
    : null;
  return {
    kind: "change",
    ...callFields(change, at, correlationId),
    language: languageFromPath(change.filePath.replace(/#.*$/, "")),
    after: contentFacts(afterId, change.after, rules),
    // Redacted only if read: a bridge needs it (the store never saw this content), or the journal.
    before: known
      ? lazyContentFacts(beforeId as string, change.before as string, rules)
      : change.before === null
      ? null
      : "unknown",
    delta,
    transformation,
    durationMs: change.durationMs,
    summary: change.summary,
    replaceAll: change.replaceAll,
  };
}

/**
 * One content as it may be kept: sizes of the real content, then the size cap, `store_code`, and
 * secret redaction.
 *
 * @example
 * ```ts
 * import { contentFacts } from "./record.ts";
 * const f = contentFacts("0123456789abcdef", "x = 1\r\ny = 2\r\n", {
 *   storeCode: true, redactSecrets: true, maxPatternBytes: 8,
 * });
 * f.byteSize; // 12: measured with LF line endings
 * f.code; // null
 * f.codeOmitted; // "too_large"
 * ```
 */
export function contentFacts(
  id: string,
  text: string,
  rules: Pick<RecordRules, "storeCode" | "redactSecrets" | "maxPatternBytes">,
): ContentFacts {
  const normalized = normalizeLineEndings(text);
  const byteSize = new TextEncoder().encode(normalized).length;
  return {
    id,
    lineCount: countLines(normalized),
    byteSize,
    ...keptCode(normalized, byteSize, rules),
  };
}

function keptCode(
  normalized: string,
  byteSize: number,
  rules: Pick<RecordRules, "storeCode" | "redactSecrets" | "maxPatternBytes">,
): Pick<ContentFacts, "code" | "codeOmitted" | "redactedSecrets"> {
  if (!rules.storeCode) return { code: null, codeOmitted: "store_code_off", redactedSecrets: 0 };
  if (byteSize > rules.maxPatternBytes) {
    return { code: null, codeOmitted: "too_large", redactedSecrets: 0 };
  }
  if (!rules.redactSecrets) return { code: normalized, codeOmitted: null, redactedSecrets: 0 };
  const r = redactSecrets(normalized);
  return {
    code: r.text,
    codeOmitted: null,
    redactedSecrets: Object.values(r.counts).reduce((a, b) => a + b, 0),
  };
}

/**
 * {@linkcode contentFacts} whose code is redacted when first read: the content before an edit is
 * usually the store's newest version already, and redacting a large file costs milliseconds. Its
 * fields are enumerable getters, so `JSON.stringify` (the journal) reads — and redacts — them.
 */
function lazyContentFacts(
  id: string,
  text: string,
  rules: Pick<RecordRules, "storeCode" | "redactSecrets" | "maxPatternBytes">,
): ContentFacts {
  const normalized = normalizeLineEndings(text);
  const byteSize = new TextEncoder().encode(normalized).length;
  let kept: ReturnType<typeof keptCode> | null = null;
  const get = () => kept ??= keptCode(normalized, byteSize, rules);
  const facts = { id, lineCount: countLines(normalized), byteSize } as ContentFacts;
  for (const key of ["code", "codeOmitted", "redactedSecrets"] as const) {
    Object.defineProperty(facts, key, { enumerable: true, get: () => get()[key] });
  }
  return facts;
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
 * import { commitRecord, shapeRecord } from "./record.ts";
 * // const record = await shapeRecord(config, change); // after admit(config, change)
 * // store.immediate(() => commitRecord(store, record, { queue: true }));
 * ```
 */
export function commitRecord(
  store: Store,
  record: HookRecord,
  options: CommitOptions,
): CommitOutcome {
  switch (record.kind) {
    case "intent":
      return {
        kind: "intent",
        recorded: store.insertIntent({
          toolUseId: record.toolUseId,
          sessionId: record.sessionId,
          toolName: record.toolName,
          filePath: record.filePath,
          correlationId: record.correlationId,
          startedAt: record.at,
          beforePatternId: store.latestVersion(record.filePath)?.patternId ?? null,
        }),
      };
    case "failure":
      return { kind: "failure", recorded: commitFailure(store, record) };
    case "change":
      return commitChange(store, record, options);
    default: {
      const unreachable: never = record;
      throw new Error(`unhandled record ${JSON.stringify(unreachable)}`);
    }
  }
}

/** A failure repeats an earlier one of the same call when its file and error are the same. */
function commitFailure(store: Store, record: FailureRecord): boolean {
  const existing = store.execution(record.sessionId, record.toolUseId);
  if (
    existing?.finishedAt && existing.success === false && existing.error === record.error &&
    existing.filePath === record.filePath
  ) return false;
  const waiting = existing && !existing.finishedAt ? existing : undefined;
  store.finishExecution({
    toolUseId: record.toolUseId,
    sessionId: record.sessionId,
    toolName: record.toolName,
    filePath: record.filePath,
    correlationId: waiting?.correlationId ?? record.correlationId,
    startedAt: waiting?.startedAt ?? null,
    finishedAt: record.at,
    durationMs: record.durationMs,
    success: false,
    error: record.error,
    linesAdded: 0,
    linesRemoved: 0,
    beforePatternId: waiting?.beforePatternId ??
      store.latestVersion(record.filePath)?.patternId ?? null,
    patternId: null,
  });
  return true;
}

/**
 * Records a successful change: the new pattern and its lineage (or nothing new when the content is
 * unchanged), the execution metrics, and the Phase 4 events in the outbox.
 *
 * A call is identified by (session, `tool_use_id`). Its PostToolUse repeated (same file, same
 * content) records once; the same ID with other content is another call that reused the ID, and
 * is recorded — a change of content is never dropped because of an execution key.
 *
 * When the content before the change is not the file's newest known version, a bridging version is
 * recorded first — a baseline `pattern_created` for a file tracked for the first time, or an
 * external `pattern_modified` for a file changed outside Claude Code — so every modification's
 * parent is a known pattern, locally and on the Phase 4 server.
 */
function commitChange(store: Store, change: ChangeRecord, options: CommitOptions): CommitOutcome {
  const existing = store.execution(change.sessionId, change.toolUseId);
  if (
    existing?.finishedAt && existing.success && existing.patternId === change.after.id &&
    existing.filePath === change.filePath
  ) return { kind: "duplicate", toolUseId: change.toolUseId };
  const waiting = existing && !existing.finishedAt ? existing : undefined;
  const correlationId = waiting?.correlationId ?? change.correlationId;
  const before = change.before;
  const beforeId = before === "unknown" ? undefined : before === null ? null : before.id;
  const latest = store.latestVersion(change.filePath);
  const decision = decideLineage({
    beforeId,
    afterId: change.after.id,
    latestKnownId: latest?.patternId ?? null,
  });
  const versions: FileVersion[] = [];
  let nextVersion = (latest?.version ?? 0) + 1;
  // The newest version's (stored, redacted) code: read only when the measures need it.
  let latestCodeRead = false;
  let latestCodeValue: string | null = null;
  const latestCode = () => {
    if (!latestCodeRead) {
      latestCodeValue = latest ? store.pattern(latest.patternId)?.code ?? null : null;
      latestCodeRead = true;
    }
    return latestCodeValue;
  };

  const addVersion = (v: {
    content: ContentFacts;
    parentId: string | null;
    /** The parent's content when at hand (else the store reads it if it needs it). */
    parentContent: string | null;
    transformation: TransformationType | null;
    toolName: string;
    toolUseId: string | null;
    reason: string;
    delta: LineDelta;
    durationMs: number | null;
  }) => {
    store.insertPattern({
      patternId: v.content.id,
      language: change.language,
      lineCount: v.content.lineCount,
      byteSize: v.content.byteSize,
      code: v.content.code,
      firstSeenAt: change.at,
      codeOmitted: v.content.codeOmitted,
      redactedSecrets: v.content.redactedSecrets,
      // Kept as a patch against the parent's stored code when that is smaller.
      parent: v.parentId === null ? null : { patternId: v.parentId, content: v.parentContent },
    });
    const version: FileVersion = {
      filePath: change.filePath,
      version: nextVersion++,
      patternId: v.content.id,
      parentPatternId: v.parentId,
      eventType: v.parentId === null ? "pattern_created" : "pattern_modified",
      transformationType: v.parentId === null ? null : v.transformation,
      toolName: v.toolName,
      toolUseId: v.toolUseId,
      sessionId: change.sessionId,
      correlationId,
      reason: v.reason,
      createdAt: change.at,
      changeLinesAdded: v.delta.added,
      changeLinesRemoved: v.delta.removed,
      changeDurationMs: v.durationMs,
    };
    const versionId = store.insertVersion(version);
    if (v.parentId !== null) {
      store.insertEdge({
        child: v.content.id,
        parent: v.parentId,
        edgeType: "modified_from",
        transformationType: version.transformationType,
        filePath: change.filePath,
        createdAt: change.at,
      });
    }
    // A reference to the version: the flusher assembles the request from the rows when it sends.
    if (options.queue) store.enqueueVersion(versionId, change.at);
    versions.push(version);
  };

  if (decision.kind === "modified" && before !== null && before !== "unknown") {
    if (latest?.patternId !== before.id) {
      // The store never saw the content before: bridge to it. Measured on redacted code (the only
      // code the store has); a bridge happens once per file tracked or changed outside Claude.
      const parentCode = latestCode();
      const bridgeCode = before.code ?? "";
      addVersion({
        content: before,
        parentId: latest?.patternId ?? null,
        parentContent: parentCode,
        transformation: latest
          ? guessTransformation({
            before: parentCode ?? "",
            after: bridgeCode,
            delta: lineDeltaBetween(parentCode, bridgeCode),
            replaceAll: false,
          })
          : null,
        toolName: latest ? "external" : "baseline",
        toolUseId: null,
        reason: latest
          ? "changed outside Claude Code since the last tracked version"
          : "content before tracking began",
        delta: before.code !== null
          ? lineDeltaBetween(parentCode, before.code)
          : { added: before.lineCount, removed: 0 },
        durationMs: null,
      });
    }
  }

  // The content before unknown to the payload: the newest stored version is the parent, and the
  // measures come from its stored (redacted) code.
  const delta = change.delta ??
    (change.after.code !== null
      ? lineDeltaBetween(latestCode(), change.after.code)
      : { added: change.after.lineCount, removed: 0 });
  if (decision.kind !== "unchanged") {
    const transformation = change.transformation ??
      (decision.kind === "modified"
        ? guessTransformation({
          before: latestCode() ?? "",
          after: change.after.code ?? "",
          delta,
          replaceAll: change.replaceAll,
        })
        : null);
    addVersion({
      content: change.after,
      parentId: decision.kind === "modified" ? decision.parentPatternId : null,
      // The content before is the parent: the payload's when the hook has it, else the newest
      // stored code when it was read for the measures (a replay: the store reads it if need be).
      parentContent: before !== null && before !== "unknown"
        ? options.beforeText ?? null
        : latestCodeRead
        ? latestCodeValue
        : null,
      transformation,
      toolName: change.toolName,
      toolUseId: change.toolUseId,
      reason: change.summary,
      delta,
      durationMs: change.durationMs,
    });
  }
  store.finishExecution({
    toolUseId: change.toolUseId,
    sessionId: change.sessionId,
    toolName: change.toolName,
    filePath: change.filePath,
    correlationId,
    startedAt: waiting?.startedAt ?? null,
    finishedAt: change.at,
    durationMs: change.durationMs,
    success: true,
    error: null,
    linesAdded: delta.added,
    linesRemoved: delta.removed,
    beforePatternId: (typeof beforeId === "string" ? beforeId : null) ??
      waiting?.beforePatternId ?? null,
    patternId: change.after.id,
  });
  return decision.kind === "unchanged"
    ? { kind: "unchanged", patternId: change.after.id }
    : { kind: "recorded", versions };
}
