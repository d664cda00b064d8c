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
 * import assert from "node:assert/strict";
 * import { formatLogLine } from "./log.ts";
 * assert.equal(
 *   formatLogLine({ level: "info", event: "flush" }, new Date(0)),
 *   '{"ts":"1970-01-01T00:00:00.000Z","level":"info","event":"flush"}\n',
 * );
 * ```
 */
export function formatLogLine(record: LogRecord, now: Date = new Date()): string {
  return JSON.stringify(
    { ts: now.toISOString(), ...record },
    (_key, value) => value instanceof Error ? { name: value.name, message: value.message } : value,
  ) + "\n";
}

/**
 * Appends a record to the log file, creating it readable by the user only. Refuses to follow a
 * symbolic link (a log replaced by one must not make a hook write outside its data directory).
 * Returns whether the line was written; never throws: a log that cannot be written must not break
 * a hook.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appendLog } from "./log.ts";
 * const path = `${Deno.makeTempDirSync()}/pattern-tracker.log.jsonl`;
 * assert.equal(appendLog(path, { level: "warn", event: "config", key: "enabled" }), true);
 * assert.equal(JSON.parse(Deno.readTextFileSync(path)).key, "enabled");
 * assert.equal((Deno.statSync(path).mode ?? 0) & 0o777, 0o600); // readable by the user only
 * Deno.symlinkSync(path, `${path}.link`);
 * assert.equal(appendLog(`${path}.link`, { level: "info", event: "x" }), false); // no link followed
 * ```
 */
export function appendLog(path: string, record: LogRecord): boolean {
  try {
    if (isSymlink(path)) return false;
    const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    try {
      // Opened the file the path names now (not a link swapped in after the check above).
      const opened = file.statSync();
      const named = Deno.lstatSync(path);
      if (named.isSymlink || named.ino !== opened.ino || named.dev !== opened.dev) return false;
      if (opened.mode !== null && (opened.mode & 0o077) !== 0) Deno.chmodSync(path, 0o600);
      // One write call with O_APPEND keeps lines from parallel hooks whole.
      const bytes = new TextEncoder().encode(formatLogLine(record));
      return file.writeSync(bytes) === bytes.length;
    } finally {
      file.close();
    }
  } catch {
    // Nowhere left to report to; dropping a log line is better than failing the hook.
    return false;
  }
}

function isSymlink(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSymlink;
  } catch {
    return false; // absent: it is created as a regular file
  }
}

/**
 * The log file: `log_file`, inside the data directory when relative (a configuration built in code
 * from `defaultConfig` has not been through `resolveConfig`, which does the same).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logPath } from "./log.ts";
 * assert.equal(logPath({ dataDir: "/d", logFile: "t.log" }), "/d/t.log");
 * assert.equal(logPath({ dataDir: "/d", logFile: "/var/log/t.log" }), "/var/log/t.log");
 * ```
 */
export function logPath(config: { dataDir: string; logFile: string }): string {
  return /^(?:\/|[A-Za-z]:[\\/])/.test(config.logFile)
    ? config.logFile
    : `${config.dataDir}/${config.logFile}`;
}
