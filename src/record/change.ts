/**
 * A successful change's record (PostToolUse of Write, Edit, MultiEdit, NotebookEdit): measured on
 * the real content (pattern IDs, sizes, line deltas, the transformation guess), then capped and
 * redacted; written as the new pattern (a line patch against its parent where that is smaller),
 * its version and lineage, the execution, and the version queued for delivery.
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
import type { ToolChange } from "./payload.ts";
import type {
  ChangeIds,
  ChangeRecord,
  CommitOptions,
  CommitOutcome,
  ContentFacts,
  RecordRules,
  ShapeOptions,
} from "./records.ts";
import { redactSecrets } from "./secrets.ts";
import type { FileVersion } from "../store/rows.ts";
import type { RecordingStore } from "../store/recording.ts";
import { callFields, stamp } from "./call.ts";

/**
 * Starts hashing a change's contents (WebCrypto runs off the main thread, so a hook starts this
 * first and reads its configuration meanwhile).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashChange } from "./change.ts";
 * const ids = await hashChange({ after: 'def hello():\n    print("world")', before: null });
 * assert.equal(ids.afterId, "3d73da5b43ce076f");
 * ```
 */
export async function hashChange(change: Pick<ToolChange, "after" | "before">): Promise<ChangeIds> {
  const [afterId, beforeHash] = await Promise.all([
    patternId(change.after),
    typeof change.before === "string" ? patternId(change.before) : null,
  ]);
  return { afterId, beforeId: typeof change.before === "string" ? beforeHash : change.before };
}

/**
 * Measures, caps and redacts an admitted change (see the module).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeChange } from "./change.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { parseHookObject } from "./payload.ts";
 * const code = 'def hello():\n    print("world")';
 * const change = parseHookObject({
 *   hook_event_name: "PostToolUse", tool_name: "Write", tool_use_id: "toolu_1", session_id: "s",
 *   tool_input: { file_path: "/p/a.py", content: code },
 *   tool_response: { type: "create", content: code, originalFile: null, structuredPatch: [] },
 * });
 * assert.equal(change.kind, "change");
 * if (change.kind === "change") {
 *   const record = await shapeChange(defaultConfig("/h"), change);
 *   assert.equal(record.after.id, "3d73da5b43ce076f");
 *   assert.equal(record.language, "python");
 *   assert.equal(record.before, null); // a new file
 * }
 * ```
 */
export async function shapeChange(
  rules: RecordRules,
  change: ToolChange,
  options: ShapeOptions = {},
): Promise<ChangeRecord> {
  const { at, id } = stamp(options);
  return await prepareChange(rules, change, options, at, id);
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
    language: languageFromPath(change.filePath),
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
 * import assert from "node:assert/strict";
 * import { contentFacts } from "./change.ts";
 * const f = contentFacts("0123456789abcdef", "x = 1\r\ny = 2\r\n", {
 *   storeCode: true, redactSecrets: true, maxPatternBytes: 8,
 * });
 * assert.equal(f.byteSize, 12); // measured with LF line endings
 * assert.equal(f.code, null);
 * assert.equal(f.codeOmitted, "too_large");
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
export function commitChange(
  store: RecordingStore,
  change: ChangeRecord,
  options: CommitOptions,
): CommitOutcome {
  const existing = store.execution(change.sessionId, change.toolUseId);
  if (
    existing?.finishedAt && existing.success && existing.patternId === change.after.id &&
    existing.filePath === change.filePath
  ) return { kind: "duplicate", toolUseId: change.toolUseId };
  const waiting = existing && !existing.finishedAt ? existing : undefined;
  const chain = new FileChain(
    store,
    change,
    options,
    waiting?.correlationId ?? change.correlationId,
  );
  const before = change.before;
  const beforeId = before === "unknown" ? undefined : before === null ? null : before.id;
  const decision = decideLineage({
    beforeId,
    afterId: change.after.id,
    latestKnownId: chain.latest?.patternId ?? null,
  });
  if (decision.kind === "modified" && before !== null && before !== "unknown") {
    if (chain.latest?.patternId !== before.id) chain.bridgeTo(before);
  }

  // The content before unknown to the payload: the newest stored version is the parent, and the
  // measures come from its stored (redacted) code.
  const delta = change.delta ??
    (change.after.code !== null
      ? lineDeltaBetween(chain.latestCode(), change.after.code)
      : { added: change.after.lineCount, removed: 0 });
  if (decision.kind !== "unchanged") {
    const transformation = change.transformation ??
      (decision.kind === "modified"
        ? guessTransformation({
          before: chain.latestCode() ?? "",
          after: change.after.code ?? "",
          delta,
          replaceAll: change.replaceAll,
        })
        : null);
    chain.add({
      content: change.after,
      parentId: decision.kind === "modified" ? decision.parentPatternId : null,
      // The content before is the parent: the payload's when the hook has it, else the newest
      // stored code when it was read for the measures (a replay: the store reads it if need be).
      parentContent: before !== null && before !== "unknown"
        ? options.beforeText ?? null
        : chain.latestCodeIfRead(),
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
    correlationId: chain.correlationId,
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
    : { kind: "recorded", versions: chain.versions };
}

/** One version {@linkcode FileChain.add} appends to the file's chain. */
interface NewVersion {
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
}

/** The versions one change appends to its file's chain, numbered after the newest stored one. */
class FileChain {
  readonly latest: FileVersion | undefined;
  readonly versions: FileVersion[] = [];
  #next: number;
  // The newest version's (stored, redacted) code: read only when the measures need it.
  #latestCode: { value: string | null } | null = null;

  constructor(
    private readonly store: RecordingStore,
    private readonly change: ChangeRecord,
    private readonly options: CommitOptions,
    readonly correlationId: string,
  ) {
    this.latest = store.latestVersion(change.filePath);
    this.#next = (this.latest?.version ?? 0) + 1;
  }

  latestCode(): string | null {
    this.#latestCode ??= {
      value: this.latest ? this.store.pattern(this.latest.patternId)?.code ?? null : null,
    };
    return this.#latestCode.value;
  }

  /** The newest version's code if {@linkcode latestCode} read it, else null. */
  latestCodeIfRead(): string | null {
    return this.#latestCode?.value ?? null;
  }

  /**
   * The store never saw the content before the change: bridge to it. Measured on redacted code
   * (the only code the store has); a bridge happens once per file tracked or changed outside
   * Claude Code.
   */
  bridgeTo(before: ContentFacts): void {
    const latest = this.latest;
    const parentCode = this.latestCode();
    const bridgeCode = before.code ?? "";
    this.add({
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

  /** Appends a version: its pattern, the version, its lineage edge, and its place in the outbox. */
  add(v: NewVersion): void {
    this.store.insertPattern({
      patternId: v.content.id,
      language: this.change.language,
      lineCount: v.content.lineCount,
      byteSize: v.content.byteSize,
      code: v.content.code,
      firstSeenAt: this.change.at,
      codeOmitted: v.content.codeOmitted,
      redactedSecrets: v.content.redactedSecrets,
      // Kept as a patch against the parent's stored code when that is smaller.
      parent: v.parentId === null ? null : { patternId: v.parentId, content: v.parentContent },
    });
    const version: FileVersion = {
      filePath: this.change.filePath,
      version: this.#next++,
      patternId: v.content.id,
      parentPatternId: v.parentId,
      eventType: v.parentId === null ? "pattern_created" : "pattern_modified",
      transformationType: v.parentId === null ? null : v.transformation,
      toolName: v.toolName,
      toolUseId: v.toolUseId,
      sessionId: this.change.sessionId,
      correlationId: this.correlationId,
      reason: v.reason,
      createdAt: this.change.at,
      changeLinesAdded: v.delta.added,
      changeLinesRemoved: v.delta.removed,
      changeDurationMs: v.durationMs,
    };
    const versionId = this.store.insertVersion(version);
    if (v.parentId !== null) {
      this.store.insertEdge({
        child: v.content.id,
        parent: v.parentId,
        edgeType: "modified_from",
        transformationType: version.transformationType,
        filePath: this.change.filePath,
        createdAt: this.change.at,
      });
    }
    // A reference to the version: the flusher assembles the request from the rows when it sends.
    if (this.options.queue) this.store.enqueueVersion(versionId, this.change.at);
    this.versions.push(version);
  }
}
