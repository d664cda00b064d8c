/**
 * The pre hook's record: a tool call's intent (when it started, the file's newest known version),
 * shaped and written. Nothing here reads code, so the pre hook loads no redaction, no diff and no
 * pattern storage.
 *
 * @module
 */

import type { CommitOutcome, IntentRecord, ShapeOptions } from "./records.ts";
import type { ToolIntent } from "./payload.ts";
import type { StoreConnection } from "../store/connection.ts";
import { callFields, stamp } from "./call.ts";

/**
 * An intent ready for the store.
 *
 * @example
 * ```ts
 * import { shapeIntent } from "./intent.ts";
 * // shapeIntent(parsedPreToolUse).kind; // "intent"
 * ```
 */
export function shapeIntent(input: ToolIntent, options: ShapeOptions = {}): IntentRecord {
  const { at, id } = stamp(options);
  return { kind: "intent", ...callFields(input, at, id) };
}

/**
 * Writes an intent (inside the caller's transaction): a second intent for a call not yet finished
 * is ignored.
 *
 * @example
 * ```ts
 * import { commitIntent } from "./intent.ts";
 * // store.immediate(() => commitIntent(store, record));
 * ```
 */
export function commitIntent(store: StoreConnection, record: IntentRecord): CommitOutcome {
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
}
