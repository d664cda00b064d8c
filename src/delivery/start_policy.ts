/**
 * When the post hook starts a background flusher: auto-flush on, the breaker letting requests
 * through, and no flusher holding the lock. Small (the breaker, the lock, the log): every post
 * hook loads it, and loads the flusher's process code (`flusher.ts`) only when this says yes.
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import { appendLog } from "../log.ts";
import type { Store } from "../store/mod.ts";
import { breakerAllows, parseBreaker } from "./breaker.ts";
import { tryFlusherLock } from "./lock.ts";

/**
 * Whether a background flusher should be started now: auto-flush is on, the breaker lets requests
 * through, and no flusher holds the lock (probing takes and drops it at once). Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mayStartFlusher } from "./start_policy.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const config = { autoFlush: true, dataDir, logFile: `${dataDir}/log.jsonl` };
 * assert.equal(mayStartFlusher({ meta: () => undefined }, config), true);
 * assert.equal(mayStartFlusher({ meta: () => undefined }, { ...config, autoFlush: false }), false);
 * const open = JSON.stringify({ state: "open", failures: 1, openUntil: Date.now() + 60_000 });
 * assert.equal(mayStartFlusher({ meta: () => open }, config), false); // the breaker is open
 * ```
 */
export function mayStartFlusher(
  store: Pick<Store, "meta">,
  config: Pick<TrackerConfig, "autoFlush" | "dataDir" | "logFile">,
  nowMs = Date.now(),
): boolean {
  if (!config.autoFlush) return false;
  if (!breakerAllows(parseBreaker(store.meta("breaker")), nowMs)) return false;
  try {
    const lock = tryFlusherLock(config.dataDir);
    lock?.close();
    return lock !== null; // null: a flusher runs, and drains what was just queued too
  } catch (error) {
    appendLog(config.logFile, {
      level: "warn",
      event: "flusher_not_started",
      error: error as Error,
    });
    return false;
  }
}
