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
 * import assert from "node:assert/strict";
 * import { shapeIntent } from "./intent.ts";
 * const record = shapeIntent({
 *   kind: "intent", hookEvent: "PreToolUse", toolName: "Write", toolUseId: "toolu_1",
 *   sessionId: "s", cwd: "/p", filePath: "/p/a.py", contentAfter: "x = 1\n",
 * }, { now: () => new Date(0), newId: () => "c" });
 * assert.equal(record.kind, "intent");
 * assert.equal(record.at, "1970-01-01T00:00:00.000Z");
 * assert.equal(record.correlationId, "c");
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
 * import assert from "node:assert/strict";
 * import { commitIntent, shapeIntent } from "./intent.ts";
 * import { openStore } from "../store/mod.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const record = shapeIntent({
 *   kind: "intent", hookEvent: "PreToolUse", toolName: "Write", toolUseId: "toolu_1",
 *   sessionId: "s", cwd: "/p", filePath: "/p/a.py", contentAfter: "x = 1\n",
 * });
 * assert.deepEqual(store.immediate(() => commitIntent(store, record)), {
 *   kind: "intent",
 *   recorded: true,
 * });
 * // A second intent for the same unfinished call is ignored.
 * assert.deepEqual(store.immediate(() => commitIntent(store, record)), {
 *   kind: "intent",
 *   recorded: false,
 * });
 * store.close();
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
