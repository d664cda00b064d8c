/**
 * What the HTML report shows, gathered from the store: the files of a session (or of one file, or
 * of the whole store), each with its versions, its executions, the blame of its last version and
 * the measures of `stats`. Read-only; `report.ts` renders it.
 *
 * @module
 */

import type { Hunk, LineSource, Origin } from "./blame.ts";
import { blameRuns } from "./blame_runs.ts";
import { blameFile } from "./blame_history.ts";
import type { Stats } from "./stats.ts";
import { gatherStats } from "./stats_history.ts";
import type { ExecutionRow, Store, VersionWithMetrics } from "../store/mod.ts";

/** One stretch of lines of the last version with one source (a blame run). */
export interface ReportRun {
  start: number;
  end: number;
  origin: Origin;
  version: number | null;
  toolName: string | null;
  toolUseId: string | null;
}

/** Who wrote the lines of a file's last tracked version. */
export interface ReportAttribution {
  /** The version blamed (the file's last). */
  version: number;
  counts: Record<Origin, number>;
  runs: ReportRun[];
  /** The lines (redacted, without their line endings), only when code is asked for. */
  lines?: string[];
}

/** One file in the report. */
export interface ReportFile {
  filePath: string;
  versions: VersionWithMetrics[];
  /** Code by pattern ID, when stored and asked for. */
  code: Record<string, string | null>;
  /** Who wrote each line of the last version; null when its code is not kept. */
  attribution?: ReportAttribution | null;
  /** Each version's diff against the version before, by version number (with code only). */
  diffs?: Record<number, Hunk[]>;
}

/** Everything the page shows. */
export interface ReportData {
  title: string;
  generatedAt: string;
  scope: string;
  files: ReportFile[];
  executions: ExecutionRow[];
  /** Lines written by Claude, their fate, AI share (`src/views/stats.ts`), of the last versions. */
  stats?: Stats;
}

/** Which part of the store to report on. */
export interface ReportFilter {
  sessionId?: string;
  filePath?: string;
  includeCode?: boolean;
  /** At most this many files (newest first). */
  maxFiles?: number;
}

/**
 * Reads what a report needs from the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "../store/mod.ts";
 * import { gatherReportData } from "./report_data.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const data = gatherReportData(store, { sessionId: "no-such-session" });
 * assert.deepEqual([data.files.length, data.executions.length], [0, 0]);
 * store.close();
 * ```
 */
export function gatherReportData(store: Store, filter: ReportFilter = {}): ReportData {
  const paths = filter.filePath
    ? [filter.filePath]
    : store.trackedFiles({ sessionId: filter.sessionId, limit: filter.maxFiles ?? 200 });
  const files = paths.map((filePath) => {
    const versions = store.fileHistory(filePath);
    const code: Record<string, string | null> = {};
    if (filter.includeCode) {
      for (const v of versions) code[v.patternId] = store.pattern(v.patternId)?.code ?? null;
    }
    return { filePath, versions, code, ...attributionOf(store, filePath, filter.includeCode) };
  });
  const executions = store.executions({ sessionId: filter.sessionId }).filter((e) =>
    !filter.filePath || e.filePath === filter.filePath
  );
  const scope = filter.filePath
    ? `file ${filter.filePath}`
    : filter.sessionId
    ? `session ${filter.sessionId}`
    : "all sessions";
  return {
    title: "Pattern Tracker report",
    generatedAt: new Date().toISOString(),
    scope,
    files,
    executions,
    stats: gatherStats(store, paths, {
      ...(filter.sessionId ? { sessionId: filter.sessionId } : {}),
      ...(filter.filePath ? { filePath: filter.filePath } : {}),
    }, null),
  };
}

/** A file's blame at its last version, and each version's diff when code is shown. */
function attributionOf(
  store: Store,
  filePath: string,
  withCode = false,
): Pick<ReportFile, "attribution" | "diffs"> {
  const diffs: Record<number, Hunk[]> = {};
  const { walk, last } = blameFile(store, filePath, {
    hunks: withCode,
    onStep: (step) => {
      if (withCode && step.change?.hunks) diffs[step.version.version] = step.change.hunks;
    },
  });
  if (!last || !walk.known) return { attribution: null, ...(withCode ? { diffs } : {}) };
  return {
    attribution: {
      version: last.version,
      counts: { ...walk.state.counts },
      runs: blameRuns(walk.state.sources).map(({ start, end, source }) =>
        runOf(start, end, source)
      ),
      ...(withCode ? { lines: walk.state.lines.map((l) => l.replace(/\n$/, "")) } : {}),
    },
    ...(withCode ? { diffs } : {}),
  };
}

function runOf(start: number, end: number, s: LineSource): ReportRun {
  return {
    start,
    end,
    origin: s.origin,
    version: s.version,
    toolName: s.toolName,
    toolUseId: s.toolUseId,
  };
}
