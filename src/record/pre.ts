/**
 * The pre hook (PreToolUse): records a tool call's intent — when it started, and which version the
 * file held. Its recorder writes intents only, into the store's connection layer
 * (`store/connection.ts`), so the pre hook loads no redaction, no diff, no pattern storage and no
 * flusher; a payload of another event sent to it is recorded by the whole recorder, loaded then.
 *
 * @module
 */

import type { IntentRecord } from "./records.ts";
import { StoreConnection } from "../store/connection.ts";
import { type LazyStoreKind, openStoreLazily } from "../store/open.ts";
import type { Recorder } from "./recorder.ts";
import type { HookSpec } from "./hook_runner.ts";
import { commitIntent, shapeIntent } from "./intent.ts";

/** The store as the pre hook queries it. */
const CONNECTION: LazyStoreKind<StoreConnection> = {
  make: (db, path, identity) => new StoreConnection(db, path, identity),
  loadMigrations: async () => (await import("./rare.ts")).MIGRATIONS,
};

/**
 * Intents only. It leaves the spill journal to the post hook that follows (an intent orders
 * nothing), so it has no replayer.
 */
export const INTENT_RECORDER: Recorder<StoreConnection> = {
  open: (dataDir, options) => openStoreLazily(CONNECTION, dataDir, options),
  shape(_rules, input, options) {
    if (input.kind !== "intent") throw new Error(`the intent recorder got a ${input.kind}`);
    return Promise.resolve(shapeIntent(input, options));
  },
  commit(store, record) {
    if (record.kind !== "intent") throw new Error(`the intent recorder got a ${record.kind}`);
    return commitIntent(store, record as IntentRecord);
  },
};

/**
 * The pre hook.
 *
 * @example
 * The entry point reads the payload from stdin, records into the configured data directory (the
 * user's `~/.claude/pattern-tracker` by default) and exits the process, so this example is not run.
 * ```ts ignore
 * import { hookMainWith } from "./hook_runner.ts";
 * import { PRE_HOOK } from "./pre.ts";
 * if (import.meta.main) await hookMainWith(PRE_HOOK);
 * ```
 */
export const PRE_HOOK: HookSpec = {
  kind: "pre",
  recorderFor: async (input) =>
    input.kind === "intent" ? INTENT_RECORDER : (await import("./rare.ts")).recorderWithoutReplay(),
};
