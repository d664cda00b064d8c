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

/** The captured Claude Code 2.1.330 session, in order (`tests/fixtures/<name>.json`). */
export const SESSION_FIXTURES: readonly string[] = [
  "01-pre-write",
  "02-post-write",
  "03-pre-edit",
  "04-post-edit",
  "05-pre-write",
  "06-post-write",
  "07-pre-edit",
  "08-post-edit",
];

/**
 * Runs a hook command line as Claude Code does (`sh -c`, payload on stdin, a clean environment).
 *
 * @example
 * ```ts
 * import { runHookProcess } from "./support.ts";
 * const r = await runHookProcess("cat >/dev/null", { PATH: "/usr/bin:/bin" }, new Uint8Array());
 * r.code; // 0
 * ```
 */
export async function runHookProcess(
  command: string,
  env: Record<string, string>,
  input: Uint8Array,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    env,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * A fixed-seed generator for property tests (a failure reproduces): `next(n)` in [0, n), `pick`.
 *
 * @example
 * ```ts
 * import { seeded } from "./support.ts";
 * const { pick } = seeded(7);
 * pick(["a", "b"]); // always the same first pick for seed 7
 * ```
 */
export function seeded(seed: number): {
  next: (n: number) => number;
  pick: <T>(xs: readonly T[]) => T;
} {
  let state = seed >>> 0;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[next(xs.length)] as T };
}
