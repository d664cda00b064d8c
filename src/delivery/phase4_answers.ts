/**
 * What the Phase 4 server's answers mean (pure). The real server says little with its status codes:
 * a database outage comes back as `400 "Operation failed: [Errno 111] Connect call failed …"`, a
 * missing parent as a 400 "Validation error", a duplicate creation as a 200 success. So each
 * failure is read by its message and the exception type the server reports
 * (`metadata.error_type`), and each success must actually acknowledge the event.
 *
 * @module
 */

/** The verdict on one event. */
export type EventVerdict =
  /** The server holds the event (it stored it now, or already had it). */
  | { kind: "stored"; alreadyExisted: boolean }
  /** Worth trying again later (the database, the network, a timeout). `maybeStored`: the server may have stored it all the same. */
  | { kind: "transient"; message: string; maybeStored: boolean }
  /** The server does not know the parent (reset, or never told): send the ancestors first. */
  | { kind: "missing_parent"; message: string; parentPatternId: string }
  /** The server refuses the event itself: sending it again would be refused again. */
  | { kind: "rejected"; message: string };

/** Exception types (`metadata.error_type`) of a database or network that is down or overloaded. */
const TRANSIENT_ERROR_TYPES = new Set([
  "ConnectionRefusedError",
  "ConnectionResetError",
  "ConnectionAbortedError",
  "ConnectionError",
  "BrokenPipeError",
  "OSError",
  "TimeoutError",
  "CancelledError",
  "InterfaceError",
  "InternalClientError",
  "ConnectionDoesNotExistError",
  "ConnectionFailureError",
  "CannotConnectNowError",
  "TooManyConnectionsError",
  "AdminShutdownError",
  "CrashShutdownError",
  "IdleSessionTimeoutError",
  "QueryCanceledError",
  "SerializationError",
  "DeadlockDetectedError",
  "LockNotAvailableError",
  "PostgresConnectionError",
  "ClientCannotConnectError",
]);

/**
 * Messages of a transient condition. Each names a specific condition (a connection, the database
 * system's state, a timeout); none matches ordinary words in a path or code.
 */
const TRANSIENT_MESSAGE = new RegExp(
  [
    String.raw`\[Errno \d+\]`,
    String.raw`connect call failed`,
    String.raw`connection (?:was )?(?:closed|refused|reset|lost|timed out)`,
    String.raw`could not connect`,
    String.raw`connection to server`,
    String.raw`database connection (?:not available|error)`,
    String
      .raw`the database system is (?:starting up|shutting down|in recovery mode|not yet accepting connections)`,
    String.raw`terminating connection`,
    String.raw`server closed the connection`,
    String.raw`too many (?:connections|clients)`,
    String.raw`remaining connection slots`,
    String.raw`timed out`,
    String.raw`deadlock detected`,
    String.raw`could not serialize access`,
    String.raw`canceling statement due to`,
    String.raw`pool is closed`,
  ].join("|"),
  "i",
);

/** The real server's words for a parent it does not hold. */
const MISSING_PARENT = /Parent pattern not found: (\S+)/;

/**
 * Classifies a failure the server reported for one event, from its message and exception type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyFailure } from "./phase4_answers.ts";
 * assert.deepEqual(classifyFailure("Operation failed: [Errno 111] Connect call failed ('127.0.0.1', 5432)", "ConnectionRefusedError").kind, "transient");
 * assert.deepEqual(classifyFailure("Validation error: Parent pattern not found: 3d73da5b43ce076f", "validation_error").kind, "missing_parent");
 * assert.deepEqual(classifyFailure("Operation failed: value too long for type character varying(255)", "StringDataRightTruncationError").kind, "rejected");
 * ```
 */
export function classifyFailure(
  message: string,
  errorType: string | null,
): Exclude<EventVerdict, { kind: "stored" }> {
  const parent = message.match(MISSING_PARENT);
  if (parent && (errorType === null || errorType === "validation_error")) {
    return { kind: "missing_parent", message, parentPatternId: parent[1] as string };
  }
  // The exception type, when the server names it, decides: a message may quote our own data.
  const transient = errorType !== null && errorType !== ""
    ? TRANSIENT_ERROR_TYPES.has(errorType)
    : TRANSIENT_MESSAGE.test(message);
  if (!transient) return { kind: "rejected", message };
  // A timeout may have come after the event was stored; a refused connection never reached it.
  return { kind: "transient", message, maybeStored: /timed out|timeout/i.test(message) };
}

/**
 * Whether a successful result says the event was already there: the structured field
 * `data.status === "already_exists"` or `metadata.error_type === "unique_violation_handled"` —
 * never a word found elsewhere in the answer (a file named `duplicate_utils.py` is not a duplicate).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { saysAlreadyExists } from "./phase4_answers.ts";
 * assert.deepEqual(saysAlreadyExists({ status: "already_exists" }, {}), true);
 * assert.deepEqual(saysAlreadyExists({ pattern_name: "duplicate_utils.py" }, {}), false);
 * ```
 */
export function saysAlreadyExists(data: unknown, metadata: unknown): boolean {
  return field(data, "status") === "already_exists" ||
    field(metadata, "error_type") === "unique_violation_handled";
}

/**
 * Reads the answer to one event of a batch (`successful_results[i]` or `failed_results[i]`, or
 * a single `/lineage/track` answer) into a verdict; null when the entry acknowledges nothing (a
 * success without data).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEventAnswer } from "./phase4_answers.ts";
 * assert.deepEqual(readEventAnswer({ success: true, data: { pattern_node_id: "n" } }), { kind: "stored", alreadyExisted: false });
 * assert.deepEqual(readEventAnswer({ success: true }), null);
 * ```
 */
export function readEventAnswer(answer: unknown): EventVerdict | null {
  if (typeof answer !== "object" || answer === null) return null;
  const a = answer as { success?: unknown; data?: unknown; metadata?: unknown; error?: unknown };
  if (a.success === false || typeof a.error === "string") {
    const message = typeof a.error === "string" ? a.error : JSON.stringify(a.error ?? "failed");
    const errorType = field(a.metadata, "error_type");
    return classifyFailure(message, typeof errorType === "string" ? errorType : null);
  }
  if (typeof a.data !== "object" || a.data === null || Array.isArray(a.data)) return null;
  if (Object.keys(a.data).length === 0) return null;
  return { kind: "stored", alreadyExisted: saysAlreadyExists(a.data, a.metadata) };
}

/**
 * Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), capped at
 * {@linkcode MAX_WAIT_SECONDS}; null when absent or unreadable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./phase4_answers.ts";
 * assert.deepEqual(parseRetryAfter("3", 0), 3);
 * assert.deepEqual(parseRetryAfter("99999999999", 0), 900);
 * assert.deepEqual(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 0), 10);
 * assert.deepEqual(parseRetryAfter("soon", 0), null);
 * ```
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === "") return null;
  const text = header.trim();
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(text)) seconds = Number(text);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    seconds = Math.max(0, (at - nowMs) / 1000);
  }
  return Number.isFinite(seconds) ? Math.min(seconds, MAX_WAIT_SECONDS) : MAX_WAIT_SECONDS;
}

/** No server answer makes the client wait longer than this (Retry-After, breaker cool-down). */
export const MAX_WAIT_SECONDS = 15 * 60;

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
