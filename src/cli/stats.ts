/**
 * `stats [--session ID | --file PATH] [--stored] [--json]`: lines Claude wrote and what became of
 * them (surviving, reworked by people, superseded by Claude), the AI share of the current files, and
 * tool calls with their failures — in total, per tool, file, session and day. The measures are
 * defined in `src/stats.ts` (and the README); the current files are the files on disk (lines
 * changed since the last tracked version count as external), or with `--stored` the last tracked
 * versions.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { openAndReplay } from "../record/spill.ts";
import { renderStats } from "../stats.ts";
import { gatherStats } from "../stats_history.ts";
import { allTrackedFiles } from "../views_queries.ts";
import { CliError, USAGE_EXIT } from "./errors.ts";
import { requireTrackedFile } from "./lineage.ts";

/** What `stats` was asked. */
export interface StatsOptions {
  session: string | null;
  file: string | null;
  stored: boolean;
  json: boolean;
}

/**
 * Reads `stats`'s arguments (pure). Throws {@linkcode CliError} (exit 2) on a wrong command line.
 *
 * @example
 * ```ts
 * import { parseStatsArgs } from "./stats.ts";
 * parseStatsArgs(["--session", "abc", "--json"]); // { session: "abc", file: null, stored: false, json: true }
 * ```
 */
export function parseStatsArgs(args: readonly string[]): StatsOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      session: { type: "string" },
      file: { type: "string" },
      stored: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
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
}

/**
 * `stats [--session ID | --file PATH] [--stored] [--json]`.
 *
 * @example
 * ```ts
 * import { statsCommand } from "./stats.ts";
 * // Deno.exit(await statsCommand(["--json"]));
 * ```
 */
export async function statsCommand(args: string[]): Promise<number> {
  const options = parseStatsArgs(args);
  const { config } = await loadConfig();
  const { store } = openAndReplay(config);
  try {
    const scope: { sessionId?: string; filePath?: string } = {};
    let files: string[];
    if (options.file !== null) {
      scope.filePath = requireTrackedFile(store, options.file, Deno.cwd());
      files = [scope.filePath];
    } else if (options.session !== null) {
      scope.sessionId = options.session;
      files = allTrackedFiles(store, { sessionId: options.session });
      if (files.length === 0 && store.executions({ sessionId: options.session }).length === 0) {
        throw new CliError(
          `no session "${options.session}" in the store ${store.path}: it recorded no version and no tool call. "tracker.ts report" lists the sessions' files.`,
        );
      }
    } else files = allTrackedFiles(store);
    const stats = gatherStats(store, files, scope, options.stored ? null : config);
    console.log(options.json ? JSON.stringify(stats, null, 2) : renderStats(stats));
    return 0;
  } finally {
    store.close();
  }
}
