/**
 * `install` and `uninstall`: merge our hook entries into Claude Code's `settings.json` (keeping every
 * other setting and hook), and take them out again. The merge is pure; the command does the I/O
 * and writes a backup first.
 *
 * @module
 */

import { journalFallbackDir } from "../journal.ts";

/** Tool names our hooks match. */
export const HOOK_MATCHER = "Write|Edit|MultiEdit|NotebookEdit";

/** The command lines of our hooks. */
export interface HookCommands {
  pre: string;
  post: string;
}

type Json = Record<string, unknown>;

/**
 * Recognises a hook command as ours: one of our scripts or binaries.
 *
 * @example
 * ```ts
 * import { isOurCommand } from "./install.ts";
 * isOurCommand("'/bin/deno' run … '/pt/post_hook.ts'"); // true
 * isOurCommand("'/bin/deno' run … '/pt/build/post_hook.js'"); // true (the bundle)
 * isOurCommand("prettier --write"); // false
 * ```
 */
export function isOurCommand(command: unknown): boolean {
  return typeof command === "string" &&
    /(?:^|[\\/'"\s])(?:pre_hook\.[jt]s|post_hook\.[jt]s|pattern-tracker-pre|pattern-tracker-post)(?:['"\s]|$)/
      .test(command);
}

/**
 * Least-privilege `deno run` command lines for the two hooks: the scripts in the checkout, or
 * `scripts` (the bundled hooks that `install` makes, see `bundle.ts`).
 *
 * @example
 * ```ts
 * import { hookCommands } from "./install.ts";
 * hookCommands({ deno: "/usr/bin/deno", root: "/opt/pt", dataDir: "/h/.claude/pattern-tracker", configPath: "/opt/pt/config.yaml" }).pre;
 * // "'/usr/bin/deno' run --quiet --no-prompt --cached-only --config='/opt/pt/deno.json' ... '/opt/pt/pre_hook.ts'"
 * ```
 */
export function hookCommands(
  p: {
    deno: string;
    root: string;
    dataDir: string;
    configPath: string;
    scripts?: { pre: string; post: string };
  },
): HookCommands {
  const q = shellQuote;
  const common = [
    q(p.deno),
    "run",
    "--quiet",
    "--no-prompt",
    "--cached-only",
    `--config=${q(`${p.root}/deno.json`)}`,
    // The spill journal's second place (a read-only or full data directory) is outside it.
    `--allow-read=${q(`${p.dataDir},${journalFallbackDir(p.dataDir)},${p.configPath}`)}`,
    `--allow-write=${q(`${p.dataDir},${journalFallbackDir(p.dataDir)}`)}`,
    // Quoted: the shell must not try to expand the wildcard against the project directory.
    q("--allow-env=HOME,PATTERN_TRACKER_*"),
  ];
  return {
    pre: [...common, q(p.scripts?.pre ?? `${p.root}/pre_hook.ts`)].join(" "),
    // The post hook may start the background flusher: a run of this same Deno, nothing else.
    post: [...common, `--allow-run=${q(p.deno)}`, q(p.scripts?.post ?? `${p.root}/post_hook.ts`)]
      .join(" "),
  };
}

/**
 * Commands for the compiled binaries (their permissions are fixed at compile time).
 *
 * @example
 * ```ts
 * import { binaryCommands } from "./install.ts";
 * binaryCommands("/h/.claude/hooks").pre; // "'/h/.claude/hooks/pattern-tracker-pre'"
 * ```
 */
export function binaryCommands(hooksDir: string): HookCommands {
  return {
    pre: shellQuote(`${hooksDir}/pattern-tracker-pre`),
    post: shellQuote(`${hooksDir}/pattern-tracker-post`),
  };
}

/**
 * Quotes a word for a POSIX shell (Claude Code runs hook commands through one).
 *
 * @example
 * ```ts
 * import { shellQuote } from "./install.ts";
 * shellQuote("it's"); // "'it'\\''s'"
 * ```
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Returns settings with our entries for PreToolUse, PostToolUse and PostToolUseFailure, replacing any
 * earlier entries of ours and keeping everything else in place. Idempotent.
 *
 * @example
 * ```ts
 * import { mergeHookSettings } from "./install.ts";
 * const merged = mergeHookSettings({ model: "opus" }, { pre: "pre", post: "post" });
 * Object.keys(merged.hooks as object); // ["PreToolUse", "PostToolUse", "PostToolUseFailure"]
 * ```
 */
export function mergeHookSettings(settings: Json, commands: HookCommands): Json {
  const cleaned = removeHookSettings(settings);
  const hooks = isObject(cleaned.hooks) ? { ...cleaned.hooks } : {};
  const add = (event: string, command: string) => {
    const existing = Array.isArray(hooks[event]) ? hooks[event] as unknown[] : [];
    hooks[event] = [...existing, {
      matcher: HOOK_MATCHER,
      hooks: [{ type: "command", command, timeout: 30 }],
    }];
  };
  add("PreToolUse", commands.pre);
  add("PostToolUse", commands.post);
  add("PostToolUseFailure", commands.post);
  return { ...cleaned, hooks };
}

/**
 * Returns settings without our hook entries; everything else, including other hooks in the same
 * matcher groups, stays. Empty groups and events left by the removal are dropped.
 *
 * @example
 * ```ts
 * import { mergeHookSettings, removeHookSettings } from "./install.ts";
 * removeHookSettings(mergeHookSettings({ model: "opus" }, { pre: "/x/pre_hook.ts", post: "/x/post_hook.ts" }));
 * // { model: "opus" }
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

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads a settings file: `{}` when missing; a clear error when it is not a JSON object, so that
 * we never overwrite a file we could not read.
 *
 * @example
 * ```ts
 * import { readSettings } from "./install.ts";
 * readSettings("/nonexistent/settings.json"); // {}
 * ```
 */
export function readSettings(path: string): Json {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.trim() === "") return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${path} is not valid JSON (${
        (error as Error).message
      }); fix it or pass --settings with another file. Nothing was changed.`,
    );
  }
  if (!isObject(data)) throw new Error(`${path} must hold a JSON object. Nothing was changed.`);
  return data;
}

/**
 * Writes settings: a backup of the old file first (`settings.json.bak-<timestamp>`), then the new
 * content through a temporary file and a rename, so a crash never leaves half a file.
 *
 * @example
 * ```ts
 * import { writeSettings } from "./install.ts";
 * const dir = Deno.makeTempDirSync();
 * writeSettings(`${dir}/settings.json`, { model: "opus" }); // null: there was no file to back up
 * ```
 */
export function writeSettings(path: string, settings: Json): string | null {
  const dir = path.replace(/[\\/][^\\/]*$/, "") || ".";
  Deno.mkdirSync(dir, { recursive: true });
  let backup: string | null = null;
  try {
    const old = Deno.readFileSync(path);
    backup = `${path}.bak-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    Deno.writeFileSync(backup, old, { mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const tmp = `${path}.tmp-${Deno.pid}`;
  Deno.writeTextFileSync(tmp, JSON.stringify(settings, null, 2) + "\n", { mode: 0o600 });
  Deno.renameSync(tmp, path);
  return backup;
}
