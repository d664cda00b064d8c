/**
 * Recording's public face: a hook payload parsed into what was asked or done (`payload.ts`),
 * pattern IDs and line counts (`pattern.ts`), lineage decisions (`lineage.ts`), which files are
 * tracked (`path_rules.ts`), the records and how they are shaped and written (`records.ts`), and
 * tracking itself (`track.ts`: the recording core with every kind of record, the spill journal
 * replayed first). The library, the commands and the benchmark import from here.
 *
 * The hook scripts do not: each imports its own spec (`pre.ts`, `post.ts`) and the runner
 * (`hook_runner.ts`), because a hook process loads — and pays for — every module in its graph on
 * every tool call, and this face brings in every kind of record, the whole store and the journal.
 *
 * @module
 */

export { track } from "./track.ts";
export { hookMain, runHook } from "./hooks.ts";
export type { TrackOptions, TrackOutcome, TrackResult } from "./recorder.ts";
export {
  type IgnoredPayload,
  type InvalidPayload,
  type ParsedPayload,
  parseHookObject,
  parseHookPayload,
  type ToolChange,
  type ToolFailure,
  type ToolIntent,
  TRACKED_TOOLS,
  type TrackedTool,
} from "./payload.ts";
export {
  applyEdit,
  applyEdits,
  countLines,
  type LineDelta,
  lineDeltaBetween,
  normalizeLineEndings,
  patternId,
} from "./pattern.ts";
export {
  decideLineage,
  EDGE_TYPES,
  type EdgeType,
  EVENT_TYPES,
  type EventType,
  guessTransformation,
  TRANSFORMATION_TYPES,
  type TransformationType,
} from "./lineage.ts";
export {
  checkPath,
  DEFAULT_EXCLUDES,
  isPathTracked,
  type PathDecision,
  type PathRules,
} from "./path_rules.ts";
export { languageFromPath } from "./language.ts";
export {
  type CommitOutcome,
  commitRecord,
  type HookRecord,
  type PreparedRecord,
  type RecordRules,
  shapeRecord,
  type TrackInput,
} from "./records.ts";
export { journalWaiting, openAndReplay } from "./spill.ts";
