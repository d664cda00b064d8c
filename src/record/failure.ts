/**
 * A failed tool call's record (PostToolUseFailure): the error text redacted, written into its
 * intent when one waits.
 *
 * @module
 */

import type { CommitOutcome, FailureRecord, RecordRules, ShapeOptions } from "./records.ts";
import type { ToolFailure } from "./payload.ts";
import { redactSecrets } from "./secrets.ts";
import type { StoreConnection } from "../store/connection.ts";
import { callFields, stamp } from "./call.ts";

/**
 * A failure ready for the store, its error text redacted (unless `redact_secrets` is off).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeFailure } from "./failure.ts";
 * const record = shapeFailure({ redactSecrets: true }, {
 *   kind: "failure", hookEvent: "PostToolUseFailure", toolName: "Edit", toolUseId: "toolu_1",
 *   sessionId: "s", cwd: "/p", filePath: "/p/a.py", durationMs: 5,
 *   // Built in two parts, so that this file itself holds no connection string.
 *   error: 'cannot connect to "postgres://app:' + 's3cret@db:5432/x"',
 * });
 * assert.equal(record.kind, "failure");
 * assert.equal(record.error, 'cannot connect to "postgres://app:[REDACTED:connection_string]@db:5432/x"');
 * ```
 */
export function shapeFailure(
  rules: Pick<RecordRules, "redactSecrets">,
  input: ToolFailure,
  options: ShapeOptions = {},
): FailureRecord {
  const { at, id } = stamp(options);
  return {
    kind: "failure",
    ...callFields(input, at, id),
    error: rules.redactSecrets ? redactSecrets(input.error).text : input.error,
    durationMs: input.durationMs,
  };
}

/**
 * Writes a failure (inside the caller's transaction).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitFailure, shapeFailure } from "./failure.ts";
 * import { openStore } from "../store/mod.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const record = shapeFailure({ redactSecrets: true }, {
 *   kind: "failure", hookEvent: "PostToolUseFailure", toolName: "Edit", toolUseId: "toolu_1",
 *   sessionId: "s", cwd: "/p", filePath: "/p/a.py", durationMs: 5, error: "old_string not found",
 * });
 * assert.deepEqual(store.immediate(() => commitFailure(store, record)), {
 *   kind: "failure",
 *   recorded: true,
 * });
 * // The same failure of the same call again is not a second row.
 * assert.deepEqual(store.immediate(() => commitFailure(store, record)), {
 *   kind: "failure",
 *   recorded: false,
 * });
 * assert.equal(store.execution("s", "toolu_1")?.success, false);
 * store.close();
 * ```
 */
export function commitFailure(store: StoreConnection, record: FailureRecord): CommitOutcome {
  return { kind: "failure", recorded: writeFailure(store, record) };
}

/** A failure repeats an earlier one of the same call when its file and error are the same. */
function writeFailure(store: StoreConnection, record: FailureRecord): boolean {
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
