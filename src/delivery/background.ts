/**
 * The background flusher's life in its process: the lock, delivery, a short linger for the next
 * burst of edits, then the store's maintenance. Started detached by a hook (`flusher.ts`) as
 * `tracker.ts flush --background`.
 *
 * @module
 */

import { maintainStore } from "../store/code_maintenance.ts";
import type { TrackerConfig } from "../config/schema.ts";
import type { LogRecord } from "../log.ts";
import { openStore, type Store } from "../store/mod.ts";
import { flushOutbox } from "./flush.ts";
import { tryFlusherLock } from "./lock.ts";

/** How long a background flusher stays after the outbox empties, so a burst of edits shares it. */
export const LINGER_MS = 3000;
/** How often a lingering flusher looks for new events. */
export const POLL_MS = 200;

/**
 * The background flusher's life: take the lock (or leave it to the flusher that has it), deliver,
 * then linger a few seconds polling for new events — hooks that see the lock held do not start
 * another process — and exit. After releasing the lock it looks once more, so an event queued by a
 * hook that saw the lock held just before the release is not left behind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "../config/mod.ts";
 * import type { LogRecord } from "../log.ts";
 * import { runBackgroundFlusher } from "./background.ts";
 * const logs: LogRecord[] = [];
 * const config = { ...defaultConfig("/tmp"), dataDir: Deno.makeTempDirSync() };
 * await runBackgroundFlusher(config, { log: (r) => logs.push(r), lingerMs: 0 });
 * assert.ok(logs.some((r) => r.event === "flush"), "one flush of the (empty) outbox, logged");
 * ```
 */
export async function runBackgroundFlusher(
  config: TrackerConfig,
  deps: { log: (record: LogRecord) => void; lingerMs?: number; pollMs?: number },
): Promise<void> {
  const lingerMs = deps.lingerMs ?? LINGER_MS;
  const pollMs = deps.pollMs ?? POLL_MS;
  for (;;) {
    const lock = tryFlusherLock(config.dataDir);
    if (!lock) return;
    const store = openStore(config.dataDir);
    let seen = -1;
    let stopped = false;
    try {
      let idleSince = Date.now();
      for (;;) {
        const newest = store.maxOutboxId();
        if (newest !== seen) {
          seen = newest;
          const report = await flushOutbox(store, config, { deps: { log: deps.log } });
          deps.log({
            level: "info",
            event: "flush",
            mode: "background",
            ...report,
            breaker: report.breaker.state,
          });
          if (report.stopped) {
            stopped = true; // the breaker is open: hooks will start a probe after the cool-down
            break;
          }
          idleSince = Date.now();
        }
        if (Date.now() - idleSince >= lingerMs) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      runMaintenance(store, config, deps.log);
    } finally {
      lock.close();
    }
    const arrived = !stopped && store.maxOutboxId() !== seen;
    store.close();
    if (!arrived) return;
  }
}

/**
 * Compaction and retention (src/store/code_maintenance.ts), while the flusher holds the lock: never on a
 * hook's path, at most every ten minutes. A failure is logged; delivery is not affected.
 */
function runMaintenance(
  store: Store,
  config: TrackerConfig,
  log: (record: LogRecord) => void,
): void {
  try {
    maintainStore(store, config, { log });
  } catch (error) {
    log({ level: "error", event: "store_maintenance_failed", error: (error as Error).message });
  }
}
