/**
 * Recording: turns a parsed hook payload into rows of the store — pattern, file version, lineage
 * edge, execution and outbox event — in one `BEGIN IMMEDIATE` transaction per tool call.
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
import { redactSecrets } from "./privacy.ts";
import type { FileVersion, Store } from "./store.ts";

/** Settings and clocks used while recording. */
export interface RecordOptions {
  /** Keep the code in the store and events (config `store_code`). */
  storeCode: boolean;
  /** Replace secrets in the code before it is stored or sent (config `redact_secrets`, default on). */
  redactSecrets?: boolean;
  /** Patterns larger than this keep no code (config `max_pattern_bytes`). */
  maxPatternBytes?: number;
  /** The change's pattern IDs, when already being computed ({@linkcode hashChange}). */
  ids?: Promise<ChangeIds>;
  /** Clock; tests pass a fixed one. */
  now?: () => Date;
  /** UUID v4 factory for correlation IDs. */
  newId?: () => string;
}

/** Pattern IDs of a change's content after and before (null: new file; undefined: not sent). */
export interface ChangeIds {
  afterId: string;
  beforeId: string | null | undefined;
}

/**
 * Starts hashing a change's contents (WebCrypto runs off the main thread, so a hook starts this
 * first and opens the store meanwhile).
 *
 * @example
 * ```ts
 * import { hashChange } from "./record.ts";
 * // const ids = hashChange(change); ... await recordChange(store, change, { storeCode: true, ids });
 * ```
 */
export async function hashChange(change: Pick<ToolChange, "after" | "before">): Promise<ChangeIds> {
  const [afterId, beforeHash] = await Promise.all([
    patternId(change.after),
    typeof change.before === "string" ? patternId(change.before) : null,
  ]);
  return { afterId, beforeId: typeof change.before === "string" ? beforeHash : change.before };
}

/** What recording a change did. */
export type ChangeOutcome =
  | { kind: "duplicate"; toolUseId: string }
  | { kind: "unchanged"; patternId: string }
  | { kind: "recorded"; versions: FileVersion[] };

/**
 * Records a PreToolUse intent: when the call started and which pattern the file held before (the
 * store's newest version; the hook does not read project files). A repeated intent is ignored.
 *
 * @example
 * ```ts
 * import { recordIntent } from "./record.ts";
 * import { openStore } from "./store.ts";
 * import { parseHookObject, type ToolIntent } from "./payload.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const intent = parseHookObject({
 *   hook_event_name: "PreToolUse", tool_name: "Write", tool_use_id: "toolu_1",
 *   tool_input: { file_path: "/p/a.py", content: "x = 1\n" },
 * }) as ToolIntent;
 * recordIntent(store, intent, { storeCode: true }); // true
 * ```
 */
export function recordIntent(store: Store, intent: ToolIntent, options: RecordOptions): boolean {
  const now = (options.now ?? (() => new Date()))();
  return store.immediate(() =>
    store.insertIntent({
      toolUseId: intent.toolUseId,
      sessionId: intent.sessionId,
      toolName: intent.toolName,
      filePath: intent.filePath,
      correlationId: (options.newId ?? (() => crypto.randomUUID()))(),
      startedAt: now.toISOString(),
      beforePatternId: store.latestVersion(intent.filePath)?.patternId ?? null,
    })
  );
}

/**
 * Records a failed tool call: the execution with its error text, no pattern. A repeated delivery of
 * the same `tool_use_id` is ignored.
 *
 * @example
 * ```ts
 * import { recordFailure } from "./record.ts";
 * // recordFailure(store, failure, { storeCode: true }) → true when recorded
 * ```
 */
export function recordFailure(store: Store, failure: ToolFailure, options: RecordOptions): boolean {
  const now = (options.now ?? (() => new Date()))().toISOString();
  return store.immediate(() => {
    const existing = store.execution(failure.toolUseId);
    if (existing?.finishedAt) return false;
    store.finishExecution({
      toolUseId: failure.toolUseId,
      sessionId: failure.sessionId,
      toolName: failure.toolName,
      filePath: failure.filePath,
      correlationId: existing?.correlationId ?? (options.newId ?? (() => crypto.randomUUID()))(),
      startedAt: existing?.startedAt ?? null,
      finishedAt: now,
      durationMs: failure.durationMs,
      success: false,
      error: options.redactSecrets === false ? failure.error : redactSecrets(failure.error).text,
      linesAdded: 0,
      linesRemoved: 0,
      beforePatternId: existing?.beforePatternId ??
        store.latestVersion(failure.filePath)?.patternId ?? null,
      patternId: null,
    });
    return true;
  });
}

/**
 * Records a successful change: the new pattern and its lineage (or nothing new when the content is
 * unchanged), the execution metrics, and the Phase 4 events in the outbox.
 *
 * When the content before the change is not the file's newest known version, a bridging version is
 * recorded first — a baseline `pattern_created` for a file tracked for the first time, or an
 * external `pattern_modified` for a file changed outside Claude Code — so every modification's
 * parent is a known pattern, locally and on the Phase 4 server.
 *
 * @example
 * ```ts
 * import { recordChange } from "./record.ts";
 * // const outcome = await recordChange(store, change, { storeCode: true });
 * // outcome.kind === "recorded" → outcome.versions holds the new versions
 * ```
 */
export async function recordChange(
  store: Store,
  change: ToolChange,
  options: RecordOptions,
): Promise<ChangeOutcome> {
  const clock = options.now ?? (() => new Date());
  const newId = options.newId ?? (() => crypto.randomUUID());
  // Hashing is async (WebCrypto), so it happens before the synchronous transaction; a hook starts
  // it earlier still (see hashChange), to overlap with opening the store.
  const { afterId, beforeId } = await (options.ids ?? hashChange(change));
  const timestamp = clock().toISOString();
  const language = languageFromPath(change.filePath.replace(/#.*$/, ""));

  return store.immediate((): ChangeOutcome => {
    const existing = store.execution(change.toolUseId);
    if (existing?.finishedAt) return { kind: "duplicate", toolUseId: change.toolUseId };
    const correlationId = existing?.correlationId ?? newId();
    const latest = store.latestVersion(change.filePath);
    const decision = decideLineage({ beforeId, afterId, latestKnownId: latest?.patternId ?? null });
    const versions: FileVersion[] = [];
    let nextVersion = (latest?.version ?? 0) + 1;

    const addVersion = (v: {
      code: string;
      id: string;
      parentId: string | null;
      parentCode: string | null;
      toolName: string;
      toolUseId: string | null;
      reason: string;
      delta: LineDelta;
      durationMs: number | null;
      replaceAll: boolean;
    }) => {
      const normalized = normalizeLineEndings(v.code);
      const lineCount = countLines(normalized);
      const byteSize = new TextEncoder().encode(normalized).length;
      const codeOmitted = !options.storeCode
        ? "store_code_off"
        : byteSize > (options.maxPatternBytes ?? Infinity)
        ? "too_large"
        : null;
      const redaction = codeOmitted !== null
        ? null
        : options.redactSecrets === false
        ? { text: normalized, counts: {} }
        : redactSecrets(normalized);
      const redactedSecrets = Object.values(redaction?.counts ?? {}).reduce((a, b) => a + b, 0);
      const transformationType: TransformationType | null = v.parentId === null
        ? null
        : guessTransformation({
          before: v.parentCode ?? "",
          after: normalized,
          delta: v.delta,
          replaceAll: v.replaceAll,
        });
      store.insertPattern({
        patternId: v.id,
        language,
        lineCount,
        byteSize,
        code: redaction?.text ?? null,
        firstSeenAt: timestamp,
        codeOmitted,
        redactedSecrets,
        // The store keeps the code as a patch against the parent's; the payload's content before
        // spares it reading the parent back.
        parent: v.parentId === null ? null : { patternId: v.parentId, content: v.parentCode },
      });
      const version: FileVersion = {
        filePath: change.filePath,
        version: nextVersion++,
        patternId: v.id,
        parentPatternId: v.parentId,
        eventType: v.parentId === null ? "pattern_created" : "pattern_modified",
        transformationType,
        toolName: v.toolName,
        toolUseId: v.toolUseId,
        sessionId: change.sessionId,
        correlationId,
        reason: v.reason,
        createdAt: timestamp,
        changeLinesAdded: v.delta.added,
        changeLinesRemoved: v.delta.removed,
        changeDurationMs: v.durationMs,
      };
      const versionId = store.insertVersion(version);
      if (v.parentId !== null) {
        store.insertEdge({
          child: v.id,
          parent: v.parentId,
          edgeType: "modified_from",
          transformationType,
          filePath: change.filePath,
          createdAt: timestamp,
        });
      }
      // The outbox refers to the version; the flusher builds the request from the rows.
      store.enqueueVersion(versionId, timestamp);
      versions.push(version);
    };

    // The newest version's code is read only when the payload does not carry the content before.
    const latestCode = () => latest ? store.pattern(latest.patternId)?.code ?? null : null;
    if (
      decision.kind === "modified" && typeof change.before === "string" &&
      latest?.patternId !== beforeId
    ) {
      addVersion({
        code: change.before,
        id: beforeId as string,
        parentId: latest?.patternId ?? null,
        parentCode: latestCode(),
        toolName: latest ? "external" : "baseline",
        toolUseId: null,
        reason: latest
          ? "changed outside Claude Code since the last tracked version"
          : "content before tracking began",
        delta: lineDeltaBetween(latestCode(), change.before),
        durationMs: null,
        replaceAll: false,
      });
    }

    const parentCode = typeof change.before === "string" ? change.before : latestCode();
    const delta = change.lineDelta ?? lineDeltaBetween(parentCode, change.after);
    if (decision.kind !== "unchanged") {
      addVersion({
        code: change.after,
        id: afterId,
        parentId: decision.kind === "modified" ? decision.parentPatternId : null,
        parentCode,
        toolName: change.toolName,
        toolUseId: change.toolUseId,
        reason: change.summary,
        delta,
        durationMs: change.durationMs,
        replaceAll: change.replaceAll,
      });
    }
    store.finishExecution({
      toolUseId: change.toolUseId,
      sessionId: change.sessionId,
      toolName: change.toolName,
      filePath: change.filePath,
      correlationId,
      startedAt: existing?.startedAt ?? null,
      finishedAt: timestamp,
      durationMs: change.durationMs,
      success: true,
      error: null,
      linesAdded: delta.added,
      linesRemoved: delta.removed,
      beforePatternId: (typeof beforeId === "string" ? beforeId : null) ??
        existing?.beforePatternId ?? null,
      patternId: afterId,
    });
    return decision.kind === "unchanged"
      ? { kind: "unchanged", patternId: afterId }
      : { kind: "recorded", versions };
  });
}
