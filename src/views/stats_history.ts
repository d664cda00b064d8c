/**
 * The measures of `src/views/stats.ts` read from the store: each file's versions walked once
 * (`src/views/blame_history.ts`), then compared with the file on disk as `blame` does, and the tool calls
 * of the scope. Used by `stats` and the HTML report.
 *
 * @module
 */

import { advanceTo, blameText, DISK_SOURCE } from "./blame.ts";
import { blameFile } from "./blame_history.ts";
import { readDisk } from "./disk_text.ts";
import { type Stats, StatsBuilder } from "./stats.ts";
import type { Store } from "../store/mod.ts";

/**
 * The measures over some files of a store: each file's versions walked once, then (unless
 * `disk` is null) compared with the file on disk as `blame` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { gatherStats } from "./stats_history.ts";
 * const stats = gatherStats(store, ["/p/app.py"], {}, null); // null: the stored versions, not the disk
 * assert.equal(stats.totals.lines_written, 2);
 * store.close();
 * ```
 */
export function gatherStats(
  store: Store,
  files: readonly string[],
  scope: { sessionId?: string; filePath?: string },
  disk: { redactSecrets: boolean } | null,
): Stats {
  const builder = new StatsBuilder(scope, { comparedWithDisk: disk !== null });
  for (const file of files) {
    const { walk } = blameFile(store, file, {
      onStep: (step) =>
        builder.addStep(file, step.source, step.change, {
          version: true,
          created: step.version.parentPatternId === null,
        }),
    });
    if (!walk.known) {
      builder.addUncounted(file);
      continue;
    }
    const onDisk = disk === null ? null : readDisk(file, disk);
    if (onDisk?.kind === "text" && onDisk.text !== blameText(walk.state)) {
      builder.addStep(file, DISK_SOURCE, advanceTo(walk.state, onDisk.text, DISK_SOURCE), {
        version: false,
      });
    }
    builder.addCurrent(file, walk.state.sources, onDisk?.kind === "missing");
  }
  const executions = store.executions({ sessionId: scope.sessionId, limit: -1 });
  builder.addExecutions(
    scope.filePath === undefined
      ? executions
      : executions.filter((e) => e.filePath === scope.filePath),
  );
  return builder.build();
}
