/**
 * Blame summarised (pure): the runs of lines with one source (Agent Trace ranges, the report's
 * stripes), and a change's line attribution (the `line_attribution` sent to Phase 4).
 *
 * @module
 */

import type { BlameChange, BlameState, LineSource, Origin } from "./blame.ts";

/** A stretch of consecutive lines with one source. */
export interface BlameRun {
  /** First line, 1-based. */
  start: number;
  /** Last line, 1-based, inclusive. */
  end: number;
  source: LineSource;
}

/**
 * The maximal stretches of consecutive lines brought by one source (one version, or the disk).
 *
 * @example
 * ```ts
 * import { freshBlame, UNKNOWN_SOURCE } from "./blame.ts";
 * import { blameRuns } from "./blame_runs.ts";
 * import assert from "node:assert/strict";
 * const runs = blameRuns(freshBlame("a\nb\n", UNKNOWN_SOURCE).sources);
 * assert.deepEqual(runs, [{ start: 1, end: 2, source: UNKNOWN_SOURCE }]);
 * ```
 */
export function blameRuns(sources: readonly LineSource[]): BlameRun[] {
  const runs: BlameRun[] = [];
  sources.forEach((source, i) => {
    const last = runs[runs.length - 1];
    if (last && sameSource(last.source, source)) last.end = i + 1;
    else runs.push({ start: i + 1, end: i + 1, source });
  });
  return runs;
}

/** Two sources are one when they name the same version (or are the same object). */
function sameSource(a: LineSource, b: LineSource): boolean {
  return a === b || (a.origin === b.origin && a.version === b.version && a.version !== null);
}

/** The line attribution of one version, as sent in `pattern_data.line_attribution`. */
export interface LineAttribution {
  /** Lines of this version. */
  lines: number;
  /** Lines kept unchanged from the version before (the parent). */
  from_parent: number;
  /** Lines this change added (new or rewritten), by `added_by`. */
  added: number;
  /** Lines of the parent this change removed (replaced or deleted). */
  removed: number;
  /** Who added them: Claude (`ai`), or outside Claude Code (`external`, `baseline`). */
  added_by: Exclude<Origin, "unknown">;
  /** This version's lines by origin; `unknown` only when some are. */
  by_origin: { ai: number; external: number; baseline: number; unknown?: number };
}

/**
 * The attribution summary of a version, from its blame and the change that made it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freshBlame, UNKNOWN_SOURCE } from "./blame.ts";
 * import { lineAttribution } from "./blame_runs.ts";
 * const source = { ...UNKNOWN_SOURCE, origin: "ai" as const, version: 1 };
 * const state = freshBlame("a\n", source);
 * assert.deepEqual(lineAttribution(state, { kept: 0, added: 1, removed: 0, removedSources: [] }, "ai").by_origin, { ai: 1, external: 0, baseline: 0 });
 * ```
 */
export function lineAttribution(
  state: BlameState,
  change: BlameChange,
  addedBy: Exclude<Origin, "unknown">,
): LineAttribution {
  const c = state.counts;
  return {
    lines: state.lines.length,
    from_parent: change.kept,
    added: change.added,
    removed: change.removed,
    added_by: addedBy,
    by_origin: {
      ai: c.ai,
      external: c.external,
      baseline: c.baseline,
      ...(c.unknown > 0 ? { unknown: c.unknown } : {}),
    },
  };
}
