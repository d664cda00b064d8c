/**
 * The background flusher's process management: one flusher at a time across processes (an OS file
 * lock, released by the kernel even on kill -9), started detached by the post hook when it queued
 * events, so the hook never waits on the network.
 *
 * @module
 */

import type { TrackerConfig } from "./config.ts";
import { appendLog } from "./log.ts";
import type { Store } from "./store/mod.ts";
import { BINARIES, isCompiled, ROOT } from "./runtime.ts";
import { denoRunArgs, netPermission } from "./permissions.ts";

export { netPermission } from "./permissions.ts";

export { LOCK_FILE, tryFlusherLock, waitForFlusherLock } from "./lock.ts";
import { mayStartFlusher } from "./lock.ts";

/**
 * The command line of a background flush: the same Deno, the narrowest flags (the data directory,
 * the config file, and the service's host only; see `permissions.ts`).
 *
 * @example
 * ```ts
 * import { flusherCommand } from "./flusher.ts";
 * flusherCommand({ deno: "/bin/deno", root: "/pt", dataDir: "/d", configPath: "/pt/config.yaml", intelligenceUrl: "http://localhost:8053" })
 *   .includes("--allow-net=localhost:8053"); // true
 * ```
 */
export function flusherCommand(
  p: { deno: string; root: string; dataDir: string; configPath: string; intelligenceUrl: string },
): string[] {
  const grant = {
    program: "flusher",
    dataDir: p.dataDir,
    configPath: p.configPath,
    service: netPermission(p.intelligenceUrl),
  } as const;
  return [p.deno, ...denoRunArgs(grant, p.root, `${p.root}/tracker.ts`), "flush", "--background"];
}

/**
 * Starts a detached background flusher when there is reason to ({@linkcode mayStartFlusher}:
 * auto-flush is on, the breaker lets requests through, no flusher holds the lock). Returns whether
 * one was started. Never throws.
 *
 * @example
 * ```ts
 * import { wakeFlusher } from "./flusher.ts";
 * // if (queued) wakeFlusher(store, config, configPath);
 * ```
 */
export function wakeFlusher(store: Store, config: TrackerConfig, configPath: string): boolean {
  return mayStartFlusher(store, config) && startFlusher(config, configPath);
}

/**
 * Starts a detached background flusher, unconditionally: for a caller that has just asked
 * {@linkcode mayStartFlusher} (the post hook asks before it loads this module). Returns whether
 * the process started. Never throws.
 *
 * @example
 * ```ts
 * import { startFlusher } from "./flusher.ts";
 * // if (mayStartFlusher(store, config)) startFlusher(config, configPath);
 * ```
 */
export function startFlusher(config: TrackerConfig, configPath: string): boolean {
  try {
    // A compiled post hook starts the compiled CLI beside it (its permissions are baked in).
    const [cmd, ...args] = isCompiled()
      ? [`${Deno.execPath().replace(/[\\/][^\\/]*$/, "")}/${BINARIES.cli}`, "flush", "--background"]
      : flusherCommand({
        deno: Deno.execPath(),
        root: ROOT,
        dataDir: config.dataDir,
        configPath,
        intelligenceUrl: config.intelligenceUrl,
      });
    const child = new Deno.Command(cmd as string, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    }).spawn();
    child.unref();
    return true;
  } catch (error) {
    appendLog(config.logFile, {
      level: "warn",
      event: "flusher_not_started",
      error: error as Error,
    });
    return false;
  }
}
