/**
 * The runner of `prompt_hook.ts`, Claude Code's `UserPromptSubmit` hook: read the request, keep
 * what its words say (the intent label and scores; the redacted text only with `store_prompts`) in
 * the store, and get out of the way. It never throws, never writes to stdout (Claude Code would add
 * that to the request), waits for a locked store at most `store_wait_ms` (then the request goes
 * unrecorded, and its changes are typed from their code alone), and reports every problem to the
 * JSON-lines log only — never with the request's words.
 *
 * @module
 */

import type { ConfigProblem } from "../config/schema.ts";
import { loadConfig } from "../config/load.ts";
import { appendLog } from "../log.ts";
import { MAX_PAYLOAD_BYTES, readStdin } from "./stdin.ts";
import { parsePromptPayload, promptRecord, type PromptTextPolicy } from "./prompt_intent.ts";
import { PromptConnection } from "../store/prompt_connection.ts";
import { type LazyStoreKind, openStoreLazily } from "../store/open.ts";

/**
 * The store as the prompt hook writes it: the connection and one INSERT; the migrations are
 * loaded only for a store behind the current schema (a new one, or the first run after an upgrade).
 */
const PROMPT_STORE: LazyStoreKind<PromptConnection> = {
  make: (db, path, identity) => new PromptConnection(db, path, identity),
  loadMigrations: async () => (await import("../store/schema.ts")).MIGRATIONS,
};

/** What a run of the prompt hook did, for tests and the benchmark. */
export interface PromptHookResult {
  outcome: "recorded" | "ignored" | "invalid" | "disabled" | "error";
  detail?: string;
  /** The request's row in `prompts`, when recorded. */
  row?: number;
}

/** Options of {@linkcode runPromptHook}. */
export interface PromptHookOptions {
  /** Clock of `submitted_at`. */
  now?: () => Date;
  /** Leave the database open when the process is about to exit (closing checkpoints the WAL). */
  leaveOpen?: boolean;
}

/**
 * Runs the prompt hook on the bytes Claude Code wrote to stdin (null: too large to read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPromptHook } from "./prompt_hook.ts";
 * const payload = new TextEncoder().encode('{"hook_event_name":"Stop"}');
 * assert.equal((await runPromptHook(payload)).outcome, "ignored");
 * ```
 */
export async function runPromptHook(
  input: Uint8Array | null,
  options: PromptHookOptions = {},
): Promise<PromptHookResult> {
  let logFile: string | null = null;
  try {
    const parsed = input === null
      ? {
        kind: "invalid" as const,
        error: `payload larger than ${MAX_PAYLOAD_BYTES} bytes was not read`,
      }
      : parsePromptPayload(new TextDecoder().decode(input));
    if (parsed.kind === "ignored") return { outcome: "ignored", detail: parsed.reason };
    const { config, problems } = await loadConfig({ cache: true });
    logFile = config.logFile;
    if (!config.enabled) return { outcome: "disabled" };
    if (problems.length > 0) logConfigProblems(config, problems);
    if (parsed.kind === "invalid") {
      log(config, { level: "error", event: "prompt_payload_invalid", error: parsed.error });
      return { outcome: "invalid", detail: parsed.error };
    }
    const policy: PromptTextPolicy = {
      storePrompts: config.storePrompts,
      maxBytes: config.maxPatternBytes,
      // The redaction code goes through, loaded only when a text is to be kept.
      redact: config.storePrompts && config.redactSecrets
        ? (await import("./secrets.ts")).redactSecrets
        : null,
    };
    const record = promptRecord(parsed, (options.now?.() ?? new Date()).toISOString(), policy);
    const store = await openStoreLazily(PROMPT_STORE, config.dataDir, {
      busyTimeoutMs: config.storeWaitMs,
      onMovedAside: (aside, reason) =>
        log(config, { level: "error", event: "store_moved_aside", aside, reason }),
    });
    try {
      const row = store.insertPrompt(record);
      return { outcome: "recorded", row };
    } finally {
      if (!options.leaveOpen) store.close();
    }
  } catch (error) {
    // Store and configuration errors name files and reasons, never the request's words.
    if (logFile) {
      appendLog(logFile, {
        level: "error",
        event: "prompt_not_recorded",
        error: error as Error,
        stack: (error as Error)?.stack,
      });
    }
    return { outcome: "error", detail: String((error as Error)?.message ?? error) };
  }
}

function log(
  config: { dataDir: string; logFile: string },
  record: Parameters<typeof appendLog>[1],
): void {
  try {
    Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  } catch { /* appendLog reports nothing either: the log is best effort */ }
  appendLog(config.logFile, record);
}

function logConfigProblems(
  config: { dataDir: string; logFile: string },
  problems: readonly ConfigProblem[],
): void {
  for (const p of problems) {
    log(config, {
      level: "error",
      event: "config_invalid",
      key: p.key,
      source: p.source,
      reason: p.reason,
      using: "default",
    });
  }
}

/**
 * Entry point of `prompt_hook.ts`: runs the hook and always exits 0 with empty stdout.
 *
 * @example
 * The entry point reads the payload from stdin, records into the configured data directory (the
 * user's `~/.claude/pattern-tracker` by default) and exits the process, so this example is not run.
 * ```ts ignore
 * import { promptHookMain } from "./prompt_hook.ts";
 * if (import.meta.main) await promptHookMain();
 * ```
 */
export async function promptHookMain(): Promise<never> {
  try {
    await runPromptHook(readStdin(Deno.stdin), { leaveOpen: true });
  } catch {
    // runPromptHook logs its own failures; reaching here means stdin itself failed.
  }
  Deno.exit(0);
}
