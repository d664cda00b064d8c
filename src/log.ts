/**
 * The JSON-lines log: one object per line, with an ISO 8601 UTC timestamp. The log is the only
 * place hooks report problems; Claude Code never sees them.
 *
 * @module
 */

/** Severity of a log record. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One log record. */
export interface LogRecord {
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

/**
 * Formats one record as a log line (pure).
 *
 * @example
 * ```ts
 * import { formatLogLine } from "./log.ts";
 * formatLogLine({ level: "info", event: "flush" }, new Date(0));
 * // '{"ts":"1970-01-01T00:00:00.000Z","level":"info","event":"flush"}\n'
 * ```
 */
export function formatLogLine(record: LogRecord, now: Date = new Date()): string {
  return JSON.stringify(
    { ts: now.toISOString(), ...record },
    (_key, value) => value instanceof Error ? { name: value.name, message: value.message } : value,
  ) + "\n";
}

/**
 * Appends a record to the log file, creating it readable by the user only. Never throws: a log that
 * cannot be written must not break a hook.
 *
 * @example
 * ```ts
 * import { appendLog } from "./log.ts";
 * appendLog("/tmp/pattern-tracker.log.jsonl", { level: "warn", event: "config", key: "enabled" });
 * ```
 */
export function appendLog(path: string, record: LogRecord): void {
  try {
    // One write call with O_APPEND keeps lines from parallel hooks whole.
    Deno.writeTextFileSync(path, formatLogLine(record), { append: true, mode: 0o600 });
  } catch {
    // Nowhere left to report to; dropping a log line is better than failing the hook.
  }
}
