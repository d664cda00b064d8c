/**
 * The fields every hook record carries: which tool call it is, which file, when, and the call's
 * correlation ID. Pure.
 *
 * @module
 */

import type { ToolChange, ToolFailure, ToolIntent } from "./payload.ts";
import type { CallFields, ShapeOptions } from "./records.ts";

/**
 * When a record is made (ISO 8601 UTC) and a fresh correlation ID (UUID v4), from the options'
 * clock and ID maker when given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stamp } from "./call.ts";
 * assert.deepEqual(stamp({ now: () => new Date(0), newId: () => "id" }), {
 *   at: "1970-01-01T00:00:00.000Z",
 *   id: "id",
 * });
 * ```
 */
export function stamp(options: Pick<ShapeOptions, "now" | "newId">): { at: string; id: string } {
  return {
    at: (options.now ? options.now() : new Date()).toISOString(),
    id: options.newId ? options.newId() : crypto.randomUUID(),
  };
}

/**
 * The call fields of a hook input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callFields } from "./call.ts";
 * const intent = {
 *   kind: "intent" as const, hookEvent: "PreToolUse" as const, toolName: "Write" as const,
 *   toolUseId: "toolu_1", sessionId: "s", cwd: "/p", filePath: "/p/a.py", contentAfter: "x\n",
 * };
 * assert.deepEqual(callFields(intent, "2026-11-25T00:00:00.000Z", "c"), {
 *   toolUseId: "toolu_1", sessionId: "s", toolName: "Write", filePath: "/p/a.py",
 *   at: "2026-11-25T00:00:00.000Z", correlationId: "c",
 * });
 * ```
 */
export function callFields(
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
