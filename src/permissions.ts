/**
 * The Deno permission flags of every program we start: the one place they are built. The hook
 * command lines `install` writes, the hook launcher (`hooks/pattern-tracker.sh`, generated from
 * {@linkcode denoRunArgs}), the background flusher and the `deno compile` binaries all take their
 * flags from {@linkcode permissionFlags}, so a grant changes everywhere at once. Pure.
 *
 * @module
 */

import { journalFallbackDir } from "./record/journal.ts";

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
 * import { journalFallbackDir } from "./record/journal.ts";
 * const fallback = journalFallbackDir("/d");
 * assert.match(fallback, /^\/tmp\/pattern-tracker-\d+$/); // the POSIX cksum of "/d"
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
 * How V8 compiles a hook script (`--v8-flags`): eagerly for a bundle (`.js`), lazily (V8's default,
 * said explicitly) for the `.ts` sources.
 *
 * Deno keeps a V8 code cache per module, made when the module is first compiled — before it runs.
 * Lazily, the cache holds little more than the top level, and every hook compiled each function it
 * called afresh: about 5 ms of a post hook's 20 above the floor. `--no-lazy` compiles every
 * function into the cache once; a bundle holds (nearly) only the code a hook runs, so that is
 * cheaper than compiling the called ones on every run (see bench/RESULTS.md). The sources are
 * shared with the CLI and the flusher, which run without the flag: V8 rejects a code cache made
 * with other flags, so they would spoil each other's cache. `--lazy` is the default value, which
 * leaves the flags' hash, and so the cache, as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFlag } from "./permissions.ts";
 * assert.equal(compileFlag("/pt/build/post_hook.js"), "--v8-flags=--no-lazy");
 * assert.equal(compileFlag("/pt/post_hook.ts"), "--v8-flags=--lazy");
 * ```
 */
export function compileFlag(script: string): string {
  return `--v8-flags=${script.endsWith(".js") ? EAGER : LAZY}`;
}

/** The V8 flags of {@linkcode compileFlag} (the launcher picks one by the script's suffix). */
export const EAGER = "--no-lazy";
/** See {@linkcode EAGER}. */
export const LAZY = "--lazy";

/**
 * The arguments after the Deno executable for `deno run` of one of our scripts: quiet, never
 * prompting, never fetching modules, with the checkout's `deno.json` and the program's flags; a
 * hook also with its {@linkcode compileFlag} (`compile` overrides it: the launcher's shell word).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoRunArgs } from "./permissions.ts";
 * const args = denoRunArgs({ program: "pre", dataDir: "/d", configPath: "/c.yaml" }, "/pt", "/pt/pre_hook.ts");
 * assert.deepEqual(args.slice(0, 6), ["run", "--quiet", "--no-prompt", "--cached-only", "--config=/pt/deno.json", "--v8-flags=--lazy"]);
 * assert.equal(args.at(-1), "/pt/pre_hook.ts");
 * ```
 */
export function denoRunArgs(
  grant: Grant,
  root: string,
  script: string,
  compile: string = compileFlag(script),
): string[] {
  const hook = grant.program === "pre" || grant.program === "post";
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--cached-only",
    `--config=${root}/deno.json`,
    ...(hook ? [compile] : []),
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
