/**
 * How the CLI reports a failure: one line on stderr (what failed, why, what to do) and an exit code,
 * never a stack trace. Errors the commands expect are {@linkcode CliError}s; the rest are mapped
 * here by kind (bad options, permissions, the file system, SQLite), and an error nobody expected
 * is printed as its first line while its stack goes to the JSON-lines log.
 *
 * @module
 */

/**
 * An error the user can act on: its message is printed as is (after `error: `), with its exit
 * code (1 by default, 2 for usage).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CliError } from "./errors.ts";
 * assert.equal(new CliError("lineage takes one file path or pattern ID", 2).exitCode, 2);
 * ```
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "CliError";
  }
}

/** Exit code of a usage error (unknown command or option, bad value). */
export const USAGE_EXIT = 2;

/** node:util `parseArgs` error codes: the command line itself is wrong. */
const PARSE_ARGS_CODES = new Set([
  "ERR_PARSE_ARGS_UNKNOWN_OPTION",
  "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
  "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL",
]);

/** How one failure is reported. */
export interface ErrorReport {
  /** The line printed after `error: ` (one line, unless a command's own error lists choices). */
  message: string;
  exitCode: number;
  /** Nobody expected it: its stack belongs in the log. */
  unexpected: boolean;
}

function firstLine(text: string): string {
  // Deno colours some messages; a report is plain text.
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
  return (plain.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

/**
 * Maps any thrown value to the one line the user sees and an exit code (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeError } from "./errors.ts";
 * const unknown = Object.assign(new TypeError("Unknown option '--nope'"), { code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" });
 * assert.deepEqual(describeError(unknown, "status"), {
 *   message: `Unknown option '--nope' for status. Run "tracker.ts help" for the options.`,
 *   exitCode: 2,
 *   unexpected: false,
 * });
 * ```
 */
export function describeError(error: unknown, command = "tracker.ts"): ErrorReport {
  // A command's own message is printed whole (e.g. the candidates of an ambiguous lineage target).
  if (error instanceof CliError) {
    return { message: error.message, exitCode: error.exitCode, unexpected: false };
  }
  if (!(error instanceof Error)) {
    return {
      message: `unexpected failure: ${firstLine(String(error))}.`,
      exitCode: 1,
      unexpected: true,
    };
  }
  const code = (error as { code?: unknown }).code;
  const message = firstLine(error.message);
  if (typeof code === "string" && PARSE_ARGS_CODES.has(code)) {
    return {
      message: `${
        message.replace(/\.$/, "")
      } for ${command}. Run "tracker.ts help" for the options.`,
      exitCode: USAGE_EXIT,
      unexpected: false,
    };
  }
  // A typed error from another module that knows its own exit code (e.g. the store's): its message
  // is already the line to print.
  const exitCode = (error as { exitCode?: unknown }).exitCode;
  if (typeof exitCode === "number" && Number.isInteger(exitCode) && exitCode > 0) {
    return { message, exitCode, unexpected: false };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return {
      message: `Deno did not grant ${command} a permission it needs (${message}). ` +
        `Run it as "deno task tracker ${command}", which grants what the CLI needs.`,
      exitCode: 1,
      unexpected: false,
    };
  }
  if (error instanceof Deno.errors.PermissionDenied || code === "EROFS" || code === "EACCES") {
    return {
      message: `${message}. The file system refused: make that path writable by you ` +
        `(or choose another with PATTERN_TRACKER_DATA_DIR / --settings / --out).`,
      exitCode: 1,
      unexpected: false,
    };
  }
  if (code === "ENOSPC") {
    return {
      message: `${message}. The disk is full: free some space and run the command again.`,
      exitCode: 1,
      unexpected: false,
    };
  }
  if (code === "ERR_SQLITE_ERROR") {
    const hint = /unable to open|readonly|read-only/i.test(message)
      ? "the data directory must exist and be writable (SQLite keeps its journal beside the database)"
      : `"tracker.ts selftest" checks the store; README "Data layout" says where it is`;
    return {
      message: `the SQLite store failed: ${message}. ${hint}.`,
      exitCode: 1,
      unexpected: false,
    };
  }
  if (
    error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory ||
    error instanceof Deno.errors.IsADirectory || error instanceof Deno.errors.AlreadyExists
  ) {
    return {
      message:
        `${message}. Check the path (and PATTERN_TRACKER_DATA_DIR / PATTERN_TRACKER_CONFIG).`,
      exitCode: 1,
      unexpected: false,
    };
  }
  return {
    message: `unexpected ${error.name}: ${message.replace(/\.$/, "")}.`,
    exitCode: 1,
    unexpected: true,
  };
}
