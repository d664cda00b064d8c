/**
 * The background flusher's process management: one flusher at a time across processes (an OS file
 * lock, released by the kernel even on kill -9), started detached by the post hook when it queued
 * events, so the hook never waits on the network.
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import { appendLog } from "../log.ts";
import { BINARIES, isCompiled, ROOT } from "../runtime.ts";
import { denoRunArgs, netPermission } from "../permissions.ts";

/**
 * The command line of a background flush: the same Deno, the narrowest flags (the data directory,
 * the config file, and the service's host only; see `permissions.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flusherCommand } from "./flusher.ts";
 * const command = flusherCommand({ deno: "/bin/deno", root: "/pt", dataDir: "/d", configPath: "/pt/config.yaml", intelligenceUrl: "http://localhost:8053" });
 * assert.ok(command.includes("--allow-net=localhost:8053"));
 * assert.deepEqual(command.slice(-3), ["/pt/tracker.ts", "flush", "--background"]);
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
 * Starts a detached background flusher, unconditionally: for a caller that has just asked
 * `mayStartFlusher` (`start_policy.ts`; the post hook asks before it loads this module). Returns
 * whether the process started. Never throws.
 *
 * @example
 * ```ts ignore
 * // Starts a detached process that outlives the example: tests/delivery_faults_test.ts and
 * // tests/bundle_test.ts watch the flusher a hook starts deliver to a server.
 * import { startFlusher } from "./flusher.ts";
 * if (mayStartFlusher(store, config)) startFlusher(config, configPath);
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
