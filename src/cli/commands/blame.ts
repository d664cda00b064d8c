/**
 * `blame <file> [--json] [--stored]`: every line of a file with its origin.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** What `blame` was asked. */
export interface BlameOptions {
  file: string;
  json: boolean;
  stored: boolean;
}

/** The `blame` command. */
export const blame = defineCommand({
  name: "blame",
  synopsis: "<file> [--json] [--stored]",
  summary:
    "Every line with its origin: the Claude tool call that wrote it, outside Claude Code, or before tracking",
  options: {
    json: { type: "boolean", help: "the lines and their origins as JSON" },
    stored: { type: "boolean", help: "blame the last tracked version, not the file on disk" },
  },
  positionals: true,
  parse: ({ values, positionals }): BlameOptions => {
    if (positionals.length !== 1) {
      throw new CliError(
        "blame takes one file (its full path, a path relative to here, or its name), e.g. tracker.ts blame src/app.py",
        USAGE_EXIT,
      );
    }
    return {
      file: positionals[0] as string,
      json: values.json === true,
      stored: values.stored === true,
    };
  },
  run: async (request) => (await import("../blame.ts")).blameCommand(request),
});

/**
 * Reads `blame`'s arguments (pure). Throws {@linkcode CliError} (exit 2) on a wrong command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBlameArgs } from "./blame.ts";
 * assert.deepEqual(parseBlameArgs(["app.py", "--json"]), { file: "app.py", json: true, stored: false });
 * ```
 */
export function parseBlameArgs(args: readonly string[]): BlameOptions {
  return blame.request(args);
}
