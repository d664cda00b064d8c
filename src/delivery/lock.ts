/**
 * The flusher lock: one background flusher at a time across processes. An OS file lock, so the kernel
 * releases it when its holder exits, even on kill -9. Small and without imports: every post hook
 * loads it (through `start_policy.ts`).
 *
 * @module
 */

/** Name of the lock file inside the data directory. */
export const LOCK_FILE = "flusher.lock";

/**
 * Takes the flusher lock without waiting; returns the open file holding it, or null when another
 * flusher has it. Close the file to release.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tryFlusherLock } from "./lock.ts";
 * const dir = Deno.makeTempDirSync();
 * const lock = tryFlusherLock(dir);
 * assert.ok(lock !== null);
 * lock.close();
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
 * import assert from "node:assert/strict";
 * import { waitForFlusherLock } from "./lock.ts";
 * const lock = await waitForFlusherLock(Deno.makeTempDirSync(), 1000);
 * assert.ok(lock !== null); // nobody held it
 * lock.close();
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
