/**
 * The hooks by name, for tests, the benchmark and anything else that runs a hook in-process:
 * `runHook("pre" | "post", …)` runs `record/hook_runner.ts` with that hook's spec. The hook scripts
 * themselves (`pre_hook.ts`, `post_hook.ts`) import their own spec only, so that neither loads
 * the other's code.
 *
 * @module
 */

import {
  type HookKind,
  hookMainWith,
  type HookOptions,
  type HookResult,
  runHookWith,
} from "./hook_runner.ts";
import { POST_HOOK } from "./post.ts";
import { PRE_HOOK } from "./pre.ts";

/**
 * Runs one hook on the bytes Claude Code wrote to stdin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runHook } from "./hooks.ts";
 * const payload = new TextEncoder().encode('{"hook_event_name":"PreToolUse","tool_name":"Bash"}');
 * assert.equal((await runHook("pre", payload)).outcome, "ignored");
 * ```
 */
export async function runHook(
  kind: HookKind,
  input: Uint8Array | null,
  options: HookOptions = {},
): Promise<HookResult> {
  return await runHookWith(kind === "pre" ? PRE_HOOK : POST_HOOK, input, options);
}

/**
 * Entry point of a hook: runs it and always exits 0 with empty stdout.
 *
 * @example
 * The entry point reads the payload from stdin, records into the configured data directory (the
 * user's `~/.claude/pattern-tracker` by default) and exits the process, so this example is not run.
 * ```ts ignore
 * import { hookMain } from "./hooks.ts";
 * if (import.meta.main) await hookMain("post");
 * ```
 */
export async function hookMain(kind: HookKind, options: HookOptions = {}): Promise<never> {
  return await hookMainWith(kind === "pre" ? PRE_HOOK : POST_HOOK, options);
}
