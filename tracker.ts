/**
 * Pattern Tracker: records every piece of code Claude Code writes as a content-addressed pattern
 * with its lineage and execution metrics, in a local SQLite store, and delivers it to the Phase 4
 * Pattern Traceability API.
 *
 * This module is both the library (the exports below) and the command line (`deno task tracker`).
 *
 * @example
 * ```ts
 * import { getTracker } from "./tracker.ts";
 * const tracker = await getTracker();
 * await tracker.trackCreation("def add(a, b):\n    return a + b\n", { filePath: "/p/app.py" });
 * ```
 *
 * @module
 */

export { getTracker, PatternTracker } from "./src/api.ts";
export type { CodeContext, ExecutionReport } from "./src/api.ts";
export { defaultConfig, loadConfig, resolveConfig } from "./src/config/mod.ts";
export type { ConfigProblem, TrackerConfig } from "./src/config/mod.ts";
export { EDGE_TYPES, EVENT_TYPES, TRANSFORMATION_TYPES } from "./src/record/lineage.ts";
export type { EdgeType, EventType, TransformationType } from "./src/record/lineage.ts";
export { buildLineageEvent } from "./src/delivery/events.ts";
export type { LineageEvent, PatternData } from "./src/delivery/events.ts";
export { applyEdit, applyEdits, countLines, patternId } from "./src/record/pattern.ts";
export { languageFromPath } from "./src/record/language.ts";
export { parseHookPayload } from "./src/record/payload.ts";
export type {
  ParsedPayload,
  ToolChange,
  ToolFailure,
  ToolIntent,
  TrackedTool,
} from "./src/record/payload.ts";
export type { CommitOutcome } from "./src/record/records.ts";
export type { TrackResult } from "./src/record/recorder.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
