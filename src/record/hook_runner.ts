/**
 * The hook runner shared by `pre_hook.ts` and `post_hook.ts`: read stdin, parse, hand the payload
 * to the recording core (`core.ts`), and get out of the way. It never throws, never writes to
 * stdout, never waits for a locked store longer than `store_wait_ms` (the record goes to the spill
 * journal instead), and reports every problem to the JSON-lines log only.
 *
 * What differs between the two hooks comes with their {@linkcode HookSpec} (`pre.ts`, `post.ts`),
 * so that each hook script loads only its own records' code: the pre hook no redaction, no diff,
 * no pattern storage and no flusher.
 *
 * @module
 */

import type { ConfigProblem, TrackerConfig } from "../config/schema.ts";
import { loadConfig } from "../config/load.ts";
import { appendLog } from "../log.ts";
import { MAX_PAYLOAD_BYTES, readStdin } from "./stdin.ts";
import { type InvalidPayload, type ParsedPayload, parseHookPayload } from "./payload.ts";
import type { ChangeIds, HookInput } from "./records.ts";
import type { StoreConnection } from "../store/connection.ts";
import { trackWith } from "./core.ts";
import type { Recorder, TrackOutcome } from "./recorder.ts";

/** Which hook is running. */
export type HookKind = "pre" | "post";

/** What a hook run did, for tests and the log. */
export type HookResult = {
  outcome: TrackOutcome | "ignored" | "invalid" | "error";
  detail?: string;
  queued?: boolean;
};

/** Starting the background flusher, which only the post hook does. */
export interface FlusherStarter {
  /** After a commit that queued events: auto-flush on, the breaker allows, no flusher running. */
  mayStart(store: StoreConnection, config: TrackerConfig): boolean;
  /** Auto-flush on and no flusher running (after a spill; for the WAL's upkeep). */
  lockFree(config: TrackerConfig): boolean;
  /** Starts a detached flusher; returns whether one was started. */
  start(config: TrackerConfig, configPath: string): Promise<boolean>;
}

/** One hook: its kind, its records, and (the post hook) how it starts the flusher. */
export interface HookSpec {
  kind: HookKind;
  /**
   * The recorder for an input: the hook's own kind of record is at hand; another kind (a payload
   * of another event sent to this hook) is loaded, and recorded all the same.
   */
  recorderFor(input: HookInput): Recorder<StoreConnection> | Promise<Recorder<StoreConnection>>;
  /** Starts work on the input before the configuration is read (the post hook: hashing). */
  begin?(input: HookInput): Promise<ChangeIds> | undefined;
  flusher?: FlusherStarter;
}

/** Options for {@linkcode runHookWith}; tests and the benchmark inject these. */
export interface HookOptions {
  /** Called after a hook queued events: starts the background flusher (default: the spec's). */
  wake?: (store: StoreConnection | null, config: TrackerConfig, configPath: string) => boolean;
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
 * import assert from "node:assert/strict";
 * import { runHookWith } from "./hook_runner.ts";
 * import { PRE_HOOK } from "./pre.ts";
 * const payload = new TextEncoder().encode('{"hook_event_name":"PreToolUse","tool_name":"Bash"}');
 * assert.equal((await runHookWith(PRE_HOOK, payload)).outcome, "ignored");
 * ```
 */
export async function runHookWith(
  spec: HookSpec,
  input: Uint8Array | null,
  options: HookOptions = {},
): Promise<HookResult> {
  let logFile: string | null = null;
  const time = options.time ?? (() => {});
  const kind = spec.kind;
  try {
    const parsed: ParsedPayload = input === null
      ? {
        kind: "invalid",
        error: `payload larger than ${MAX_PAYLOAD_BYTES} bytes was not read`,
        toolUseId: null,
      }
      : parseHookPayload(new TextDecoder().decode(input));
    // Hash while the config is read.
    const ids = parsed.kind === "change" ? spec.begin?.(parsed) : undefined;
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
    const flusher = spec.flusher;
    const wake = async (store: StoreConnection | null): Promise<string | undefined> => {
      if (!flusher) return undefined;
      if (options.wake) woke = options.wake(store, config, configPath);
      else {
        const may = store ? flusher.mayStart(store, config) : flusher.lockFree(config);
        time("ask whether a flusher may start");
        woke = may && await flusher.start(config, configPath);
        time("start flusher");
      }
      return woke ? "flusher started" : undefined;
    };
    const recorder = await spec.recorderFor(parsed);
    const result = await trackWith(recorder, config, parsed, {
      ids,
      keepOpen: options.leaveOpen,
      onQueued: wake,
      // The flusher replays the journal as soon as the store is free, and delivers it.
      onSpilled: () => wake(null),
      // A flusher closes the store when it is done, which checkpoints and empties the WAL: a
      // running one will; else the post hook starts one (even with the breaker open: it then only
      // tidies up). The pre hook leaves it to the post hook that follows.
      onLongWal: async () => {
        if (!flusher || woke || !config.autoFlush || options.wake) return;
        if (flusher.lockFree(config)) woke = await flusher.start(config, configPath);
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

/** Out of `runHookWith`: a hook compiles only the code it runs. */
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
 * Entry point of a hook script: runs the hook and always exits 0 with empty stdout.
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
export async function hookMainWith(spec: HookSpec, options: HookOptions = {}): Promise<never> {
  try {
    const input = readStdin(Deno.stdin);
    await runHookWith(spec, input, { leaveOpen: true, ...options });
  } catch {
    // runHookWith logs its own failures; reaching here means stdin itself failed. Claude must go on.
  }
  Deno.exit(0);
}
