/**
 * Shared bits of the process tests.
 *
 * @module
 */

/**
 * The environment entry that keeps a child process on this process's Deno cache. Tests give hooks a
 * temporary HOME, and Deno's cache defaults to `$HOME/.cache/deno`: without this, every child would
 * start with an empty cache, compile everything again, and miss the npm packages `--cached-only`
 * relies on.
 *
 * @example
 * ```ts
 * import { denoDirEnv } from "./support.ts";
 * const env = { HOME: "/tmp/h", ...denoDirEnv() };
 * ```
 */
export function denoDirEnv(): { DENO_DIR: string } {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return { DENO_DIR: explicit };
  const cacheHome = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache`;
  return { DENO_DIR: `${cacheHome}/deno` };
}
