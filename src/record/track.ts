/**
 * Tracking for the library (`getTracker()`), `import` and the benchmark: the recording core
 * (`record/core.ts`) with every kind of record — intents, changes, failures, and an export's
 * records through `options.imports` — into the whole store, replaying the spill journal first.
 * The hooks run the same core with only their own kinds of record (`record/pre.ts`,
 * `record/post.ts`).
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import { commitRecord, shapeRecord, type TrackInput } from "./records.ts";
import { trackWith } from "./core.ts";
import type { Recorder, TrackOptions, TrackResult } from "./recorder.ts";
import { openStore, type Store } from "../store/store.ts";

/** Every kind of record, into the whole store. */
const EVERY_RECORD: Recorder<Store> = {
  open: openStore,
  shape: shapeRecord,
  commit: commitRecord,
  replayer: async () => {
    const { replayPlaces, finishReplay } = await import("./spill.ts");
    return { apply: replayPlaces, finish: finishReplay };
  },
};

/**
 * Tracks one input (a hook payload, a library call) or many (an import, committed in one
 * transaction: all or nothing). See `record/core.ts` for the chain and what happens when the store
 * fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { track } from "./track.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { parseHookObject } from "./payload.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const parsed = parseHookObject({
 *   hook_event_name: "PostToolUse", tool_name: "Write", tool_use_id: "toolu_1", session_id: "s",
 *   tool_input: { file_path: "/p/a.py", content: "x = 1\n" },
 *   tool_response: { type: "create", content: "x = 1\n", originalFile: null, structuredPatch: [] },
 * });
 * assert.equal(parsed.kind, "change");
 * if (parsed.kind === "change") {
 *   assert.equal((await track({ ...defaultConfig(dataDir), dataDir }, parsed)).outcome, "recorded");
 * }
 * ```
 */
export async function track(
  config: TrackerConfig,
  input: TrackInput | readonly TrackInput[],
  options: TrackOptions<Store> = {},
): Promise<TrackResult> {
  return await trackWith(EVERY_RECORD, config, input, options);
}
