/**
 * The Deno permission flags of every program we start: the one place they are built. The hook
 * command lines `install` writes, the hook launcher (`hooks/pattern-tracker.sh`, generated from
 * {@linkcode denoRunArgs}), the background flusher and the `deno compile` binaries all take their
 * flags from {@linkcode permissionFlags}, so a grant changes everywhere at once. Pure.
 *
 * @module
 */

import { journalFallbackDir } from "./journal.ts";

/** Environment variables the hooks and the flusher may read (`--allow-env`). */
export const ALLOWED_ENV: readonly string[] = [
  "HOME", // the default data directory
  "CLAUDE_PROJECT_DIR", // project-relative path rules
  "PATTERN_TRACKER_*", // the configuration
];

/**
 * Environment variables the prompt hook may read: only its configuration (it applies no path
 * rules).
 */
export const PROMPT_ENV: readonly string[] = ["HOME", "PATTERN_TRACKER_*"];

/**
 * The files a hook or the flusher may use: the data directory, the config file, and the spill
 * journal's second place outside the data directory (for a read-only or full one), which is
 * {@linkcode journalFallbackDir} of the data directory unless given (the launcher gives the name
 * it computed in the shell).
 */
export interface FileGrant {
  dataDir: string;
  configPath: string;
  journalFallback?: string;
}

/** What one program is granted. */
export type Grant =
  /** The pre hook: its store and config, nothing else. */
  | { program: "pre" } & FileGrant
  /**
   * The prompt hook (UserPromptSubmit): its store and config, and its configuration's environment
   * variables; no spill journal (a request it cannot store goes unrecorded), no run, no net.
   */
  | { program: "prompt"; dataDir: string; configPath: string }
  /** The post hook: the same, plus starting the flusher with `flusher` (that executable only). */
  | { program: "post"; flusher: string } & FileGrant
  /** The background flusher: the same read/write/env, plus the service's `host:port`. */
  | { program: "flusher"; service: string } & FileGrant
  /**
   * The compiled CLI: it reads and writes settings.json, reports and exports wherever the user
   * says, so its file access is broad; its network is the service's `host:port` only.
   */
  | { program: "cli"; service: string };

/**
 * The permission flags of one program, in a fixed order (read, write, env, run, net). Never `-A`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionFlags } from "./permissions.ts";
 * import { journalFallbackDir } from "./journal.ts";
 * const fallback = journalFallbackDir("/d"); // "/tmp/pattern-tracker-<cksum of /d>"
 * assert.deepEqual(permissionFlags({ program: "pre", dataDir: "/d", configPath: "/c.yaml" }), [
 *   `--allow-read=/d,${fallback},/c.yaml`,
 *   `--allow-write=/d,${fallback}`,
 *   "--allow-env=HOME,CLAUDE_PROJECT_DIR,PATTERN_TRACKER_*",
 * ]);
 * ```
 */
export function permissionFlags(grant: Grant): string[] {
  const env = `--allow-env=${ALLOWED_ENV.join(",")}`;
  switch (grant.program) {
    case "pre":
    case "post":
    case "flusher": {
      const fallback = grant.journalFallback ?? journalFallbackDir(grant.dataDir);
      const files = [
        `--allow-read=${grant.dataDir},${fallback},${grant.configPath}`,
        `--allow-write=${grant.dataDir},${fallback}`,
        env,
      ];
      if (grant.program === "post") return [...files, `--allow-run=${grant.flusher}`];
      if (grant.program === "flusher") return [...files, `--allow-net=${grant.service}`];
      return files;
    }
    case "prompt":
      return [
        `--allow-read=${grant.dataDir},${grant.configPath}`,
        `--allow-write=${grant.dataDir}`,
        `--allow-env=${PROMPT_ENV.join(",")}`,
      ];
    case "cli":
      return [
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-run",
        `--allow-net=${grant.service}`,
      ];
    default: {
      const unreachable: never = grant;
      throw new Error(`unknown program ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * The arguments after the Deno executable for `deno run` of one of our scripts: quiet, never
 * prompting, never fetching modules, with the checkout's `deno.json` and the program's flags.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoRunArgs } from "./permissions.ts";
 * const args = denoRunArgs({ program: "pre", dataDir: "/d", configPath: "/c.yaml" }, "/pt", "/pt/pre_hook.ts");
 * assert.deepEqual(args.slice(0, 5), ["run", "--quiet", "--no-prompt", "--cached-only", "--config=/pt/deno.json"]);
 * assert.equal(args.at(-1), "/pt/pre_hook.ts");
 * ```
 */
export function denoRunArgs(grant: Grant, root: string, script: string): string[] {
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--cached-only",
    `--config=${root}/deno.json`,
    ...permissionFlags(grant),
    script,
  ];
}

/**
 * Host and port for `--allow-net`, from the service URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { netPermission } from "./permissions.ts";
 * assert.equal(netPermission("http://localhost:8053"), "localhost:8053");
 * assert.equal(netPermission("https://intelligence.example"), "intelligence.example:443");
 * ```
 */
export function netPermission(intelligenceUrl: string): string {
  const url = new URL(intelligenceUrl);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}
