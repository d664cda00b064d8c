/**
 * Where Claude Code keeps what `install` and `compile` write, by default: its settings and the
 * directory of standalone hooks (both under `~/.claude`). Pure.
 *
 * @module
 */

/**
 * Claude Code's user settings file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claudeSettingsPath } from "./claude_paths.ts";
 * assert.equal(claudeSettingsPath("/home/dev"), "/home/dev/.claude/settings.json");
 * ```
 */
export function claudeSettingsPath(home: string): string {
  return `${home}/.claude/settings.json`;
}

/**
 * Where `install --compiled` copies the binaries (and where `compile` expects them to run from).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claudeHooksDir } from "./claude_paths.ts";
 * assert.equal(claudeHooksDir("/home/dev"), "/home/dev/.claude/hooks");
 * ```
 */
export function claudeHooksDir(home: string): string {
  return `${home}/.claude/hooks`;
}
