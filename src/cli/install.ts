/**
 * `install` and `uninstall`: merge our hook entries into Claude Code's `settings.json` (keeping every
 * other setting and hook), and take them out again. The merge is pure; the command does the I/O
 * and writes a backup first.
 *
 * @module
 */

import { TRACKED_TOOLS } from "../record/payload.ts";
import { denoRunArgs, type Grant } from "../permissions.ts";
import { LAUNCHER, type LauncherAction, launcherCommand, pluginCommand } from "./launcher.ts";
import { isObject, type Json } from "./settings_file.ts";

/** Tool names our hooks match: every tool {@linkcode TRACKED_TOOLS} lists. */
export const HOOK_MATCHER: string = TRACKED_TOOLS.join("|");

/** The SessionStart sources on which the launcher checks that it can run (not on `compact`). */
export const SESSION_START_MATCHER = "startup|resume|clear";

/** The command lines of our hooks; `sessionStart` is absent for the compiled binaries. */
export interface HookCommands {
  pre: string;
  post: string;
  /** The UserPromptSubmit hook (`prompt_hook.ts`), which records each request's intent. */
  prompt?: string;
  sessionStart?: string;
}

/** How long Claude Code lets the prompt hook run (it waits for it before sending the request). */
const PROMPT_TIMEOUT_SECONDS = 10;

/**
 * Recognises a hook command as ours: the launcher, one of our scripts or binaries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isOurCommand } from "./install.ts";
 * assert.equal(isOurCommand("exec '/pt/hooks/pattern-tracker.sh' post '/bin/deno' '/d' '/c' '/pt/post_hook.ts'"), true);
 * assert.equal(isOurCommand("'/bin/deno' run … '/pt/build/post_hook.js'"), true); // an older install
 * assert.equal(isOurCommand("prettier --write"), false);
 * ```
 */
export function isOurCommand(command: unknown): boolean {
  return typeof command === "string" &&
    /(?:^|[\\/'"\s])(?:pre_hook\.[jt]s|post_hook\.[jt]s|prompt_hook\.[jt]s|pattern-tracker-pre|pattern-tracker-post|pattern-tracker-prompt|pattern-tracker\.sh)(?:['"\s]|$)/
      .test(command);
}

/** What {@linkcode hookCommands} needs: the Deno, the checkout, the grant, the scripts. */
export interface HookSetup {
  /** The Deno the hooks run with (its real path: the post hook may start it as the flusher). */
  deno: string;
  /** The checkout (deno.json, the launcher, the scripts). */
  root: string;
  dataDir: string;
  configPath: string;
  /** The bundled hooks that `install` makes (see `bundle.ts`); default: the .ts scripts. */
  scripts?: { pre: string; post: string; prompt?: string };
}

/**
 * The command lines `install` writes: the launcher (`hooks/pattern-tracker.sh`) with the values
 * resolved at install time; it builds the least-privilege `deno run` line (see `launcher.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hookCommands } from "./install.ts";
 * const c = hookCommands({ deno: "/usr/bin/deno", root: "/opt/pt", dataDir: "/h/.claude/pattern-tracker", configPath: "/opt/pt/config.yaml" });
 * assert.equal(c.pre, "exec '/opt/pt/hooks/pattern-tracker.sh' pre '/usr/bin/deno' '/h/.claude/pattern-tracker' '/opt/pt/config.yaml' '/opt/pt/pre_hook.ts'");
 * ```
 */
export function hookCommands(p: HookSetup): Required<HookCommands> {
  const scripts = p.scripts ?? { pre: `${p.root}/pre_hook.ts`, post: `${p.root}/post_hook.ts` };
  const prompt = scripts.prompt ?? `${p.root}/prompt_hook.ts`;
  const line = (action: LauncherAction, script: string) =>
    launcherCommand(p.root, action, {
      deno: p.deno,
      dataDir: p.dataDir,
      configPath: p.configPath,
      script,
    });
  return {
    pre: line("pre", scripts.pre),
    post: line("post", scripts.post),
    prompt: line("prompt", prompt),
    // Checks the post script: the two are always made together.
    sessionStart: line("session-start", scripts.post),
  };
}

/**
 * The `deno run` command lines the launcher execs for {@linkcode hookCommands}' values, as one
 * shell line each: what the hooks cost without the launcher (the benchmark compares the two).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directHookCommands } from "./install.ts";
 * const c = directHookCommands({ deno: "/usr/bin/deno", root: "/pt", dataDir: "/d", configPath: "/pt/config.yaml" });
 * assert.ok(c.post.startsWith("'/usr/bin/deno' 'run' '--quiet'"));
 * assert.ok(c.post.includes("'--allow-run=/usr/bin/deno'"));
 * ```
 */
export function directHookCommands(p: HookSetup): { pre: string; post: string; prompt: string } {
  const scripts = p.scripts ?? { pre: `${p.root}/pre_hook.ts`, post: `${p.root}/post_hook.ts` };
  const files = { dataDir: p.dataDir, configPath: p.configPath };
  const line = (grant: Grant, script: string) =>
    [p.deno, ...denoRunArgs(grant, p.root, script)].map(shellQuote).join(" ");
  return {
    pre: line({ program: "pre", ...files }, scripts.pre),
    post: line({ program: "post", ...files, flusher: p.deno }, scripts.post),
    prompt: line({ program: "prompt", ...files }, scripts.prompt ?? `${p.root}/prompt_hook.ts`),
  };
}

/**
 * The plugin's command lines (`hooks/hooks.json`): the launcher under `${CLAUDE_PLUGIN_ROOT}`,
 * which finds Deno, the data directory and the config itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pluginHookCommands } from "./install.ts";
 * assert.equal(pluginHookCommands().pre, 'exec "${CLAUDE_PLUGIN_ROOT}/hooks/pattern-tracker.sh" pre');
 * ```
 */
export function pluginHookCommands(): Required<HookCommands> {
  return {
    pre: pluginCommand("pre"),
    post: pluginCommand("post"),
    prompt: pluginCommand("prompt"),
    sessionStart: pluginCommand("session-start"),
  };
}

/**
 * The plugin's `hooks/hooks.json` (pure): the same entries `install` merges into settings.json.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pluginHooksJson } from "./install.ts";
 * assert.deepEqual(Object.keys(pluginHooksJson().hooks), ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure"]);
 * ```
 */
export function pluginHooksJson(): { description: string; hooks: Record<string, unknown[]> } {
  return {
    description: `Pattern Tracker: record every ${TRACKED_TOOLS.slice(0, -1).join(", ")} and ${
      TRACKED_TOOLS.at(-1)
    } as a pattern with lineage (runs ${LAUNCHER})`,
    hooks: hookEntries(pluginHookCommands()),
  };
}

/** Our hook groups by event, for settings.json and hooks.json alike. */
function hookEntries(commands: HookCommands): Record<string, unknown[]> {
  const group = (matcher: string, command: string, timeout: number) => ({
    matcher,
    hooks: [{ type: "command", command, timeout }],
  });
  return {
    ...(commands.sessionStart
      ? { SessionStart: [group(SESSION_START_MATCHER, commands.sessionStart, 10)] }
      : {}),
    // No matcher: UserPromptSubmit has none.
    ...(commands.prompt
      ? {
        UserPromptSubmit: [{
          hooks: [{ type: "command", command: commands.prompt, timeout: PROMPT_TIMEOUT_SECONDS }],
        }],
      }
      : {}),
    PreToolUse: [group(HOOK_MATCHER, commands.pre, 30)],
    PostToolUse: [group(HOOK_MATCHER, commands.post, 30)],
    PostToolUseFailure: [group(HOOK_MATCHER, commands.post, 30)],
  };
}

/**
 * Commands for the compiled binaries (their permissions are fixed at compile time).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryCommands } from "./install.ts";
 * assert.deepEqual(binaryCommands("/h/.claude/hooks").pre, "'/h/.claude/hooks/pattern-tracker-pre'");
 * ```
 */
export function binaryCommands(hooksDir: string): HookCommands {
  return {
    pre: shellQuote(`${hooksDir}/pattern-tracker-pre`),
    post: shellQuote(`${hooksDir}/pattern-tracker-post`),
    prompt: shellQuote(`${hooksDir}/pattern-tracker-prompt`),
  };
}

/**
 * Quotes a word for a POSIX shell (Claude Code runs hook commands through one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellQuote } from "./install.ts";
 * assert.deepEqual(shellQuote("it's"), "'it'\\''s'");
 * ```
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Returns settings with our entries (SessionStart and UserPromptSubmit when the commands have them, PreToolUse,
 * PostToolUse, PostToolUseFailure), replacing any earlier entries of ours and keeping everything
 * else in place. Idempotent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeHookSettings } from "./install.ts";
 * const merged = mergeHookSettings({ model: "opus" }, { pre: "pre", post: "post" });
 * assert.deepEqual(Object.keys(merged.hooks as object), ["PreToolUse", "PostToolUse", "PostToolUseFailure"]);
 * ```
 */
export function mergeHookSettings(settings: Json, commands: HookCommands): Json {
  const cleaned = removeHookSettings(settings);
  const hooks = isObject(cleaned.hooks) ? { ...cleaned.hooks } : {};
  for (const [event, groups] of Object.entries(hookEntries(commands))) {
    const existing = Array.isArray(hooks[event]) ? hooks[event] as unknown[] : [];
    hooks[event] = [...existing, ...groups];
  }
  return { ...cleaned, hooks };
}

/**
 * Returns settings without our hook entries; everything else, including other hooks in the same
 * matcher groups, stays. Empty groups and events left by the removal are dropped.
 *
 * @example
 * ```ts
 * import { mergeHookSettings, removeHookSettings } from "./install.ts";
 * import assert from "node:assert/strict";
 * const merged = mergeHookSettings({ model: "opus" }, { pre: "/x/pre_hook.ts", post: "/x/post_hook.ts" });
 * assert.deepEqual(removeHookSettings(merged), { model: "opus" });
 * ```
 */
export function removeHookSettings(settings: Json): Json {
  if (!isObject(settings.hooks)) return { ...settings };
  const hooks: Json = {};
  for (const [event, groups] of Object.entries(settings.hooks)) {
    if (!Array.isArray(groups)) {
      hooks[event] = groups;
      continue;
    }
    const kept = groups.flatMap((group) => {
      if (!isObject(group) || !Array.isArray(group.hooks)) return [group];
      const others = group.hooks.filter((h) => !(isObject(h) && isOurCommand(h.command)));
      if (others.length === group.hooks.length) return [group];
      return others.length > 0 ? [{ ...group, hooks: others }] : [];
    });
    if (kept.length > 0) hooks[event] = kept;
  }
  const { hooks: _old, ...rest } = settings;
  return Object.keys(hooks).length > 0 ? { ...rest, hooks } : rest;
}
