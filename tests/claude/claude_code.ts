/**
 * Installing and running real Claude Code (`@anthropic-ai/claude-code@2.1.330` from npm) for
 * end-to-end tests.
 *
 * @module
 */

/** The Claude Code version the tests run. */
export const CLAUDE_CODE_VERSION = "2.1.330";

const CACHE = new URL("../../.cache/claude-code", import.meta.url).pathname;

/**
 * Installs Claude Code once into `.cache/claude-code` and returns its binary, or the reason it could
 * not be installed (the only reason an end-to-end test may skip).
 *
 * @example
 * ```ts
 * import { ensureClaudeCode } from "./claude_code.ts";
 * const cc = await ensureClaudeCode();
 * if ("skip" in cc) console.log(cc.skip);
 * ```
 */
export async function ensureClaudeCode(): Promise<{ bin: string } | { skip: string }> {
  const bin = `${CACHE}/node_modules/.bin/claude`;
  try {
    const pkg = JSON.parse(
      Deno.readTextFileSync(`${CACHE}/node_modules/@anthropic-ai/claude-code/package.json`),
    );
    if (pkg.version === CLAUDE_CODE_VERSION) return { bin };
  } catch { /* not installed yet */ }
  Deno.mkdirSync(CACHE, { recursive: true });
  try {
    const out = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        CACHE,
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        `@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      return {
        skip: `npm could not install @anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}: ${
          new TextDecoder().decode(out.stderr).slice(0, 300)
        }`,
      };
    }
  } catch (error) {
    return { skip: `npm is not available to install Claude Code: ${(error as Error).message}` };
  }
  return { bin };
}

/** Options of {@linkcode runClaude}. */
export interface RunClaudeOptions {
  bin: string;
  home: string;
  cwd: string;
  modelUrl: string;
  /** The request (`-p`); default "go". */
  prompt?: string;
  /** `--settings FILE`, or none. */
  settingsPath?: string;
  /** `--plugin-dir DIR`, or none. */
  pluginDir?: string;
  allowedTools?: string;
  /** More arguments, e.g. `--output-format stream-json --verbose --include-hook-events`. */
  extraArgs?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Runs `claude -p "go"` (or the given request) against the scripted model with a temporary HOME; kills it after the
 * timeout.
 */
export async function runClaude(
  o: RunClaudeOptions,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ["-p", o.prompt ?? "go", "--allowedTools", o.allowedTools ?? "Write,Edit"];
  if (o.settingsPath) args.push("--settings", o.settingsPath);
  if (o.pluginDir) args.push("--plugin-dir", o.pluginDir);
  args.push(...o.extraArgs ?? []);
  const child = new Deno.Command(o.bin, {
    args,
    cwd: o.cwd,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: o.home,
      ANTHROPIC_BASE_URL: o.modelUrl,
      ANTHROPIC_API_KEY: "sk-test-not-a-real-key",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      ...o.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 120_000);
  const out = await child.output();
  clearTimeout(timer);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Runs a Claude Code subcommand that needs no model (e.g. `plugin marketplace add DIR`) with a
 * temporary HOME.
 *
 * @example
 * ```ts
 * import { ensureClaudeCode, runClaudeCommand } from "./claude_code.ts";
 * const cc = await ensureClaudeCode();
 * if ("bin" in cc) await runClaudeCommand(cc.bin, ["plugin", "list"], "/tmp/home");
 * ```
 */
export async function runClaudeCommand(
  bin: string,
  args: string[],
  home: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(bin, {
    args,
    cwd: home,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: home,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
