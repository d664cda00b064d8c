/**
 * `stats [--session ID | --file PATH] [--stored] [--json]`: lines Claude wrote and what became of
 * them (surviving, reworked by people, superseded by Claude), the AI share of the current files, and
 * tool calls with their failures — in total, per tool, file, session and day. The measures are
 * defined in `src/views/stats.ts` (and the README); the current files are the files on disk (lines
 * changed since the last tracked version count as external), or with `--stored` the last tracked
 * versions.
 *
 * @module
 */

import type { StatsOptions } from "./commands/stats.ts";
import { loadConfig } from "../config/mod.ts";
import { openAndReplay } from "../record/spill.ts";
import { renderStats } from "../views/stats.ts";
import { gatherStats } from "../views/stats_history.ts";
import { allTrackedFiles } from "../views/queries.ts";
import { CliError } from "./errors.ts";
import { requireTrackedFile } from "./lineage.ts";

/**
 * `stats [--session ID | --file PATH] [--stored] [--json]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { statsCommand } from "./stats.ts";
 * assert.equal(await statsCommand({ session: null, file: null, stored: false, json: true }), 0);
 * ```
 */
export async function statsCommand(options: StatsOptions): Promise<number> {
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
