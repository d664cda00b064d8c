/**
 * The flusher lock: one background flusher at a time across processes. An OS file lock, so the kernel
 * releases it when its holder exits, even on kill -9. Kept in a small module of its own (only the
 * tiny breaker and log modules besides), because every post hook asks it whether a flusher may start.
 *
 * @module
 */

import { breakerAllows, parseBreaker } from "./breaker.ts";
import type { TrackerConfig } from "./config.ts";
import { appendLog } from "./log.ts";
import type { Store } from "./store/mod.ts";

/** Name of the lock file inside the data directory. */
export const LOCK_FILE = "flusher.lock";

/**
 * Takes the flusher lock without waiting; returns the open file holding it, or null when another
 * flusher has it. Close the file to release.
 *
 * @example
 * ```ts
 * import { tryFlusherLock } from "./flusher.ts";
 * const lock = tryFlusherLock(Deno.makeTempDirSync());
 * lock?.close();
 * ```
 */
export function tryFlusherLock(dataDir: string): Deno.FsFile | null {
  const file = Deno.openSync(`${dataDir}/${LOCK_FILE}`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    if (file.tryLockSync(true)) return file;
  } catch { /* treated as held */ }
  file.close();
  return null;
}

/**
 * Waits up to `timeoutMs` for the flusher lock (a manual flush waits for a background one).
 *
 * @example
 * ```ts
 * import { waitForFlusherLock } from "./lock.ts";
 * const lock = await waitForFlusherLock(Deno.makeTempDirSync(), 1000);
 * lock?.close();
 * ```
 */
export async function waitForFlusherLock(
  dataDir: string,
  timeoutMs: number,
): Promise<Deno.FsFile | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lock = tryFlusherLock(dataDir);
    if (lock || Date.now() >= deadline) return lock;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Whether a background flusher should be started now: auto-flush is on, the breaker lets requests
 * through, and no flusher holds the lock (probing takes and drops it at once). Never throws.
 *
 * @example
 * ```ts
 * import { mayStartFlusher } from "./lock.ts";
 * // if (queued && mayStartFlusher(store, config)) startFlusher(config, configPath);
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
