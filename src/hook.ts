/**
 * The hook runner shared by `pre_hook.ts` and `post_hook.ts`: read stdin, parse, record in one
 * transaction, and get out of the way. It never throws, never writes to stdout, and reports every
 * problem to the JSON-lines log only.
 *
 * @module
 */

import { loadConfig, type TrackerConfig } from "./config.ts";
import { appendLog } from "./log.ts";
import { type ParsedPayload, parseHookPayload } from "./payload.ts";
import { hashChange, recordChange, recordFailure, recordIntent } from "./record.ts";
import { openStore, type Store } from "./store.ts";
import { checkPath, projectDirFromEnv } from "./privacy.ts";
import { mayStartFlusher } from "./lock.ts";

/** Payloads above this size are not parsed (and are logged): no real Write is this large. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Which hook is running. */
export type HookKind = "pre" | "post";

/** What a hook run did, for tests and the log. */
export type HookResult = {
  outcome:
    | "ignored"
    | "excluded"
    | "disabled"
    | "invalid"
    | "error"
    | "duplicate"
    | "unchanged"
    | "recorded"
    | "intent";
  detail?: string;
  queued?: boolean;
};

/** Options for {@linkcode runHook}; tests inject these. */
export interface HookOptions {
  /** Called after a hook queued events: starts the background flusher (default: `wakeFlusher`). */
  wake?: (store: Store, config: TrackerConfig, configPath: string) => boolean;
  /**
   * Leave the database open when the process is about to exit: closing the last connection
   * checkpoints the WAL, which costs the hook time and is done by the next writer anyway.
   */
  leaveOpen?: boolean;
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
  try {
    const parsed: ParsedPayload = input === null
      ? {
        kind: "invalid",
        error: `payload larger than ${MAX_PAYLOAD_BYTES} bytes was not read`,
        toolUseId: null,
      }
      : parseHookPayload(new TextDecoder().decode(input));
    // Hash while the config is read and the store opened.
    const ids = parsed.kind === "change" ? hashChange(parsed) : undefined;
    ids?.catch(() => {}); // awaited below; an early failure must not be reported as unhandled
    if (parsed.kind === "ignored") return { outcome: "ignored", detail: parsed.reason };

    const { config, problems, configPath } = await loadConfig({ cache: true });
    logFile = config.logFile;
    if (!config.enabled) return { outcome: "disabled" };
    if (problems.length > 0) Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
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
    if (parsed.kind === "invalid") {
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

    const path = checkPath(
      parsed.filePath,
      { include: config.includePaths, exclude: config.excludePaths },
      { cwd: parsed.cwd, projectDir: projectDirFromEnv() },
    );
    if (path.kind === "refused") {
      Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      appendLog(config.logFile, {
        level: "error",
        event: "path_refused",
        hook: kind,
        tool_use_id: parsed.toolUseId,
        reason: path.reason,
      });
      return { outcome: "invalid", detail: path.reason };
    }
    if (path.kind !== "tracked") return { outcome: "excluded" };
    const store = openStore(config.dataDir);
    try {
      const recordOptions = {
        storeCode: config.storeCode,
        redactSecrets: config.redactSecrets,
        maxPatternBytes: config.maxPatternBytes,
      };
      switch (parsed.kind) {
        case "intent":
          recordIntent(store, parsed, recordOptions);
          return { outcome: "intent" };
        case "failure":
          return {
            outcome: recordFailure(store, parsed, recordOptions) ? "recorded" : "duplicate",
            detail: parsed.error,
          };
        case "change": {
          const result = await recordChange(store, parsed, { ...recordOptions, ids });
          const queued = result.kind === "recorded" && result.versions.length > 0;
          // A running flusher (it lingers after a burst) takes the new events, and an open breaker
          // (the service is down) forbids a new one: then the code that starts one is not loaded.
          let woke = false;
          if (options.wake) woke = queued && options.wake(store, config, configPath);
          else if (queued && mayStartFlusher(store, config)) {
            woke = (await import("./flusher.ts")).startFlusher(config, configPath);
          }
          return { outcome: result.kind, queued, detail: woke ? "flusher started" : undefined };
        }
        default: {
          const unreachable: never = parsed;
          return { outcome: "error", detail: `unhandled payload ${JSON.stringify(unreachable)}` };
        }
      }
    } finally {
      if (!options.leaveOpen) store.close();
    }
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
