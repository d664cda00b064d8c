/**
 * `stats [--session ID | --file PATH] [--stored] [--json]`: what became of the lines Claude wrote.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** What `stats` was asked. */
export interface StatsOptions {
  session: string | null;
  file: string | null;
  stored: boolean;
  json: boolean;
}

/** The `stats` command. */
export const stats = defineCommand({
  name: "stats",
  synopsis: "[--session ID | --file PATH] [--stored] [--json]",
  summary:
    "Lines Claude wrote, AI share of the current files, what people rewrote; calls and failures",
  options: {
    session: { type: "string", value: "ID", help: "one session only" },
    file: { type: "string", value: "PATH", help: "one file only" },
    stored: { type: "boolean", help: "the last tracked versions, not the files on disk" },
    json: { type: "boolean", help: "the measures as JSON" },
  },
  parse: ({ values }): StatsOptions => {
    if (values.session !== undefined && values.file !== undefined) {
      throw new CliError("stats takes --session ID or --file PATH, not both", USAGE_EXIT);
    }
    for (const key of ["session", "file"] as const) {
      if (values[key] === "") throw new CliError(`--${key} needs a value`, USAGE_EXIT);
    }
    return {
      session: values.session ?? null,
      file: values.file ?? null,
      stored: values.stored === true,
      json: values.json === true,
    };
  },
  run: async (request) => (await import("../stats.ts")).statsCommand(request),
});

/**
 * Reads `stats`'s arguments (pure). Throws {@linkcode CliError} (exit 2) on a wrong command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStatsArgs } from "./stats.ts";
 * assert.deepEqual(parseStatsArgs(["--session", "abc", "--json"]), {
 *   session: "abc",
 *   file: null,
 *   stored: false,
 *   json: true,
 * });
 * ```
 */
export function parseStatsArgs(args: readonly string[]): StatsOptions {
  return stats.request(args);
}
