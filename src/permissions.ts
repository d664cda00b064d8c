/**
 * The Deno permission flags of every program we start: the one place they are built. The hook
 * command lines `install` writes, the hook launcher (`hooks/pattern-tracker.sh`, generated from
 * {@linkcode denoRunArgs}), the background flusher and the `deno compile` binaries all take their
 * flags from {@linkcode permissionFlags}, so a grant changes everywhere at once. Pure.
 *
 * @module
 */

/** Environment variables the hooks and the flusher may read (`--allow-env`). */
export const ALLOWED_ENV: readonly string[] = [
  "HOME", // the default data directory
  "CLAUDE_PROJECT_DIR", // project-relative path rules
  "PATTERN_TRACKER_*", // the configuration
];

/** What one program is granted. */
export type Grant =
  /** The pre hook: its store and config, nothing else. */
  | { program: "pre"; dataDir: string; configPath: string }
  /** The post hook: the same, plus starting the flusher with `flusher` (that executable only). */
  | { program: "post"; dataDir: string; configPath: string; flusher: string }
  /** The background flusher: the same read/write/env, plus the service's `host:port`. */
  | { program: "flusher"; dataDir: string; configPath: string; service: string }
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
 * assert.deepEqual(permissionFlags({ program: "pre", dataDir: "/d", configPath: "/c.yaml" }), [
 *   "--allow-read=/d,/c.yaml",
 *   "--allow-write=/d",
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
      const files = [
        `--allow-read=${grant.dataDir},${grant.configPath}`,
        `--allow-write=${grant.dataDir}`,
        env,
      ];
      if (grant.program === "post") return [...files, `--allow-run=${grant.flusher}`];
      if (grant.program === "flusher") return [...files, `--allow-net=${grant.service}`];
      return files;
    }
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
