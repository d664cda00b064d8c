/**
 * Shared bits of the process tests.
 *
 * @module
 */

import { type HookCommands, hookCommands } from "../src/cli/install.ts";

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

/** The captured Claude Code 2.1.330 session, in order (`src/cli/demo_session/<name>.json`). */
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

/** The checkout's root directory (no trailing slash). */
const CHECKOUT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * A temporary data directory with the hook command lines `install` writes for it and the hooks'
 * clean environment (auto-flush off unless `env` says otherwise). The config file defaults to one
 * in the data directory (absent until a test writes it); `scripts` are bundled hooks.
 *
 * @example
 * ```ts
 * import { hookWorld } from "./support.ts";
 * const { dataDir, commands, env } = hookWorld();
 * ```
 */
export function hookWorld(
  options: {
    configPath?: string;
    scripts?: { pre: string; post: string };
    env?: Record<string, string>;
  } = {},
): {
  dataDir: string;
  configPath: string;
  commands: Required<HookCommands>;
  env: Record<string, string>;
} {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-hooks-" });
  const configPath = options.configPath ?? `${dataDir}/config.yaml`;
  const commands = hookCommands({
    deno: Deno.execPath(),
    root: CHECKOUT,
    dataDir,
    configPath,
    scripts: options.scripts,
  });
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: dataDir,
    PATTERN_TRACKER_DATA_DIR: dataDir,
    PATTERN_TRACKER_CONFIG: configPath,
    PATTERN_TRACKER_AUTO_FLUSH: "false",
    ...denoDirEnv(),
    ...options.env,
  };
  return { dataDir, configPath, commands, env };
}

/**
 * Runs `tracker.ts` with the task's permissions and the given environment.
 *
 * @example
 * ```ts
 * import { runCli } from "./support.ts";
 * (await runCli(["help"], { PATH: "/usr/bin:/bin" })).code; // 0
 * ```
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--allow-net",
      `${CHECKOUT}/tracker.ts`,
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Polls `condition` every `intervalMs` until it holds or `timeoutMs` passed; returns whether it
 * held (the caller asserts what it expected, with its own message).
 *
 * @example
 * ```ts
 * import { waitUntil } from "./support.ts";
 * await waitUntil(() => true, 1000); // true
 * ```
 */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return true;
}

/**
 * A Deno of its own in a new directory (a hard link to this one, or a copy across file systems), for
 * tests that delete the Deno the hooks were installed with. Its real path is its own.
 *
 * @example
 * ```ts
 * import { vanishableDeno } from "./support.ts";
 * const deno = vanishableDeno();
 * Deno.removeSync(deno); // the hooks' Deno is gone; this process's is not
 * ```
 */
export function vanishableDeno(): string {
  const path = `${Deno.makeTempDirSync({ prefix: "pt-deno-" })}/deno`;
  try {
    Deno.linkSync(Deno.execPath(), path);
  } catch {
    Deno.copyFileSync(Deno.execPath(), path);
    Deno.chmodSync(path, 0o755);
  }
  return path;
}
