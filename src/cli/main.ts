/**
 * The `tracker.ts` command line: finds the command in the registry (`registry.ts`), prints help
 * generated from the declarations, runs the command, and reports any failure as one line with an
 * exit code (`errors.ts`).
 *
 * @module
 */

import { loadConfig } from "../config/mod.ts";
import { appendLog } from "../log.ts";
import { renderCommandHelp, renderHelp } from "./command.ts";
import { CliError, describeError, USAGE_EXIT } from "./errors.ts";
import { COMMANDS, findCommand } from "./registry.ts";

export { CliError } from "./errors.ts";

/** The list of commands `help` prints, generated from the registry. */
export const USAGE: string = renderHelp(COMMANDS);

/**
 * Runs the CLI; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./main.ts";
 * assert.equal(await main(["help", "lineage"]), 0);
 * assert.equal(await main(["frobnicate"]), 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  // A promise nobody awaited must not end the process with a stack trace either.
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    reportError(event.reason, command).then((code) => Deno.exit(code));
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  try {
    return await run(command, rest);
  } catch (error) {
    return await reportError(error, command);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onRejection);
  }
}

async function run(command: string | undefined, rest: string[]): Promise<number> {
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    const about = rest[0] === undefined ? undefined : findCommand(rest[0]);
    if (rest[0] !== undefined && about === undefined) throw unknownCommand(rest[0]);
    console.log(about ? renderCommandHelp(about) : USAGE);
    return 0;
  }
  const found = findCommand(command);
  if (!found) throw unknownCommand(command);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(renderCommandHelp(found));
    return 0;
  }
  return await found.main(rest);
}

function unknownCommand(name: string): CliError {
  return new CliError(`unknown command "${name}". Run "tracker.ts help" for the list.`, USAGE_EXIT);
}

/**
 * Prints a failure as one line on stderr and returns its exit code; an unexpected one also goes to
 * the JSON-lines log, with its stack, when the log can be written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CliError } from "./errors.ts";
 * import { reportError } from "./main.ts";
 * assert.equal(await reportError(new CliError("no such file", 2), "lineage"), 2);
 * ```
 */
export async function reportError(error: unknown, command: string | undefined): Promise<number> {
  const report = describeError(error, command ?? "tracker.ts");
  let where = "";
  if (report.unexpected) {
    const logFile = await logFileForErrors();
    const record = {
      level: "error" as const,
      event: "cli_error",
      command: command ?? null,
      error: error as Error,
      stack: error instanceof Error ? error.stack ?? null : null,
    };
    if (logFile && appendedTo(logFile, () => appendLog(logFile, record))) {
      where = ` Its stack is in ${logFile} (event "cli_error").`;
    }
  }
  console.error(`error: ${report.message}${where}`);
  return report.exitCode;
}

/** The configured log file, or none when even the configuration cannot be read. */
async function logFileForErrors(): Promise<string | null> {
  try {
    return (await loadConfig()).config.logFile;
  } catch {
    return null;
  }
}

/** Whether `write` made the file grow: the log never throws, so this is how we know it wrote. */
function appendedTo(path: string, write: () => void): boolean {
  const size = () => {
    try {
      return Deno.statSync(path).size;
    } catch {
      return -1;
    }
  };
  const before = size();
  write();
  return size() > before;
}
