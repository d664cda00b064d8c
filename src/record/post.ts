/**
 * The post hook (PostToolUse, PostToolUseFailure): records the pattern written, its lineage and
 * the execution metrics, queues the version for delivery, and wakes the background flusher. Its
 * recorder writes every kind of hook record into the store's recording layer
 * (`store/recording.ts`), after replaying the spill journal when one waits (that code is loaded
 * only then).
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import { startFlusher } from "../delivery/flusher.ts";
import { mayStartFlusher } from "../delivery/start_policy.ts";
import { tryFlusherLock } from "../delivery/lock.ts";
import { commitRecord, shapeRecord } from "./records.ts";
import { type LazyStoreKind, openStoreLazily } from "../store/open.ts";
import { RecordingStore } from "../store/recording.ts";
import { hashChange } from "./change.ts";
import type { Recorder } from "./recorder.ts";
import type { HookSpec } from "./hook_runner.ts";

/** The store as the post hook queries it. */
const RECORDING: LazyStoreKind<RecordingStore> = {
  make: (db, path, identity) => new RecordingStore(db, path, identity),
  loadMigrations: async () => (await import("./rare.ts")).MIGRATIONS,
};

/**
 * Every kind of hook record, without replaying the journal (what the pre hook records when it is
 * sent another event's payload: it never replays).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recorderWithoutReplay } from "./post.ts";
 * assert.equal(recorderWithoutReplay().replayer, undefined);
 * ```
 */
export function recorderWithoutReplay(): Recorder<RecordingStore> {
  return {
    open: (dataDir, options) => openStoreLazily(RECORDING, dataDir, options),
    shape: shapeRecord,
    commit: commitRecord,
  };
}

/** Every kind of hook record; the spill journal is replayed first. */
export const OUTCOME_RECORDER: Recorder<RecordingStore> = {
  ...recorderWithoutReplay(),
  replayer: async () => {
    const { replayPlaces, finishReplay } = await import("./rare.ts");
    return { apply: replayPlaces, finish: finishReplay };
  },
};

/**
 * Auto-flush on and no flusher running (after a spill there is no store to read the breaker from;
 * for the WAL's upkeep the breaker does not matter).
 */
function flusherLockFree(config: TrackerConfig): boolean {
  if (!config.autoFlush) return false;
  try {
    const lock = tryFlusherLock(config.dataDir);
    lock?.close();
    return lock !== null;
  } catch {
    return false; // a read-only data directory: no flusher could help now
  }
}

/**
 * The post hook.
 *
 * @example
 * The entry point reads the payload from stdin, records into the configured data directory (the
 * user's `~/.claude/pattern-tracker` by default) and exits the process, so this example is not run.
 * ```ts ignore
 * import { hookMainWith } from "./hook_runner.ts";
 * import { POST_HOOK } from "./post.ts";
 * if (import.meta.main) await hookMainWith(POST_HOOK);
 * ```
 */
export const POST_HOOK: HookSpec = {
  kind: "post",
  recorderFor: () => OUTCOME_RECORDER,
  begin: (input) => input.kind === "change" ? hashChange(input) : undefined,
  flusher: {
    mayStart: mayStartFlusher,
    lockFree: flusherLockFree,
    // At hand: it is small, and most bursts of edits start one.
    start: (config, configPath) => Promise.resolve(startFlusher(config, configPath)),
  },
};
