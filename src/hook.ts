/**
 * The hook runner shared by `pre_hook.ts` and `post_hook.ts`: read stdin, parse, hand the payload to
 * the recording core (`track`), and get out of the way. It never throws, never writes to stdout,
 * never waits for a locked store longer than `store_wait_ms` (the record goes to the spill journal
 * instead), and reports every problem to the JSON-lines log only.
 *
 * @module
 */

import { type ConfigProblem, loadConfig, type TrackerConfig } from "./config/mod.ts";
import { appendLog } from "./log.ts";
import { type InvalidPayload, type ParsedPayload, parseHookPayload } from "./payload.ts";
import { hashChange } from "./record.ts";
import type { Store } from "./store.ts";
import { tryFlusherLock } from "./delivery/lock.ts";
import { mayStartFlusher } from "./delivery/start_policy.ts";
import { track, type TrackOutcome } from "./track.ts";

/** Payloads above this size are not parsed (and are logged): no real Write is this large. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Which hook is running. */
export type HookKind = "pre" | "post";

/** What a hook run did, for tests and the log. */
export type HookResult = {
  outcome: TrackOutcome | "ignored" | "invalid" | "error";
  detail?: string;
  queued?: boolean;
};

/** Options for {@linkcode runHook}; tests and the benchmark inject these. */
export interface HookOptions {
  /** Called after a hook queued events: starts the background flusher (default: `startFlusher`). */
  wake?: (store: Store | null, config: TrackerConfig, configPath: string) => boolean;
  /**
   * Leave the database open when the process is about to exit: closing the last connection
   * checkpoints the WAL, which costs the hook time and is done by the next writer anyway.
   */
  leaveOpen?: boolean;
  /** Phase timing (`bench/profile_hook.ts`): called with each phase's name as it ends. */
  time?: (phase: string) => void;
}

/**
 * Runs one hook on the bytes Claude Code wrote to stdin.
 *
 * @example
 * ```ts
 * import { runHook } from "./hook.ts";
 * const payload = new TextEncoder().encode('{"hook_event_name":"PreToolUse","tool_name":"Bash"}');
 * (await runHook("pre", payload)).outcome; // "ignored"
 * ```
 */
export async function runHook(
  kind: HookKind,
  input: Uint8Array | null,
  options: HookOptions = {},
): Promise<HookResult> {
  let logFile: string | null = null;
  const time = options.time ?? (() => {});
  try {
    const parsed: ParsedPayload = input === null
      ? {
        kind: "invalid",
        error: `payload larger than ${MAX_PAYLOAD_BYTES} bytes was not read`,
        toolUseId: null,
      }
      : parseHookPayload(new TextDecoder().decode(input));
    // Hash while the config is read.
    const ids = parsed.kind === "change" ? hashChange(parsed) : undefined;
    ids?.catch(() => {}); // awaited by track; an early failure must not be reported as unhandled
    time("parse payload");
    if (parsed.kind === "ignored") return { outcome: "ignored", detail: parsed.reason };

    const { config, problems, configPath } = await loadConfig({ cache: true });
    time("read config");
    logFile = config.logFile;
    if (!config.enabled) return { outcome: "disabled" };
    if (problems.length > 0) logConfigProblems(config, problems);
    if (parsed.kind === "invalid") return logInvalid(config, kind, parsed);
    // A running flusher (it lingers after a burst) takes the new events, and an open breaker (the
    // service is down) forbids a new one: then the code that starts one is not loaded.
    let woke = false;
    const wake = async (store: Store | null): Promise<string | undefined> => {
      if (kind !== "post") return undefined;
      if (options.wake) woke = options.wake(store, config, configPath);
      else {
        const may = store ? mayStartFlusher(store, config) : flusherLockFree(config);
        time("ask whether a flusher may start");
        woke = may && (await import("./delivery/flusher.ts")).startFlusher(config, configPath);
        time("start flusher");
      }
      return woke ? "flusher started" : undefined;
    };
    const result = await track(config, parsed, {
      ids,
      keepOpen: options.leaveOpen,
      replay: kind === "post",
      onQueued: wake,
      // The flusher replays the journal as soon as the store is free, and delivers it.
      onSpilled: () => wake(null),
      // A flusher closes the store when it is done, which checkpoints and empties the WAL: a
      // running one will; else the post hook starts one (even with the breaker open: it then only
      // tidies up). The pre hook leaves it to the post hook that follows.
      onLongWal: async () => {
        if (kind === "pre" || woke || !config.autoFlush || options.wake) return;
        if (flusherLockFree(config)) {
          woke = (await import("./delivery/flusher.ts")).startFlusher(config, configPath);
        }
      },
      time,
    });
    return { outcome: result.outcome, detail: result.detail, queued: result.queued };
  } catch (error) {
    if (logFile) {
      appendLog(logFile, {
        level: "error",
        event: "hook_failed",
        hook: kind,
        error: error as Error,
        stack: (error as Error)?.stack,
      });
    }
    return { outcome: "error", detail: String((error as Error)?.message ?? error) };
  }
}

/** Out of `runHook`: a hook compiles only the code it runs. */
function logConfigProblems(config: TrackerConfig, problems: readonly ConfigProblem[]): void {
  Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  for (const p of problems) {
    appendLog(config.logFile, {
      level: "error",
      event: "config_invalid",
      key: p.key,
      source: p.source,
      reason: p.reason,
      using: "default",
    });
  }
}

function logInvalid(config: TrackerConfig, kind: HookKind, parsed: InvalidPayload): HookResult {
  Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  appendLog(config.logFile, {
    level: "error",
    event: "payload_invalid",
    hook: kind,
    tool_use_id: parsed.toolUseId,
    error: parsed.error,
  });
  return { outcome: "invalid", detail: parsed.error };
}

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
 * Reads all of stdin, up to {@linkcode MAX_PAYLOAD_BYTES}; returns null (after draining the rest,
 * so Claude Code's write does not fail) when the payload is larger. Synchronous reads: for a pipe
 * they cost a fraction of the stream machinery, and the hook has nothing else to do meanwhile.
 *
 * @example
 * ```ts
 * import { readStdin } from "./hook.ts";
 * const bytes = readStdin(Deno.stdin);
 * ```
 */
export function readStdin(input: { readSync(p: Uint8Array): number | null }): Uint8Array | null {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let tooLarge = false;
  const buffer = new Uint8Array(256 * 1024);
  for (;;) {
    const n = input.readSync(buffer);
    if (n === null) break;
    if (n === 0) continue;
    size += n;
    if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(buffer.slice(0, n));
  }
  if (tooLarge) return null;
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * Entry point of a hook script: runs the hook and always exits 0 with empty stdout.
 *
 * @example
 * ```ts
 * import { hookMain } from "./hook.ts";
 * if (import.meta.main) await hookMain("post");
 * ```
 */
export async function hookMain(kind: HookKind, options: HookOptions = {}): Promise<never> {
  try {
    const input = readStdin(Deno.stdin);
    await runHook(kind, input, { leaveOpen: true, ...options });
  } catch {
    // runHook logs its own failures; reaching here means stdin itself failed. Claude must go on.
  }
  Deno.exit(0);
}
