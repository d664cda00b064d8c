/**
 * `compile`: standalone binaries with `deno compile` — the three hooks and the CLI — each with exactly
 * the permissions its script needs, baked in at compile time.
 *
 * @module
 */

import { CONFIG_PATH_ENV, dataDirConfigPath, homeDir, loadConfig } from "../config/mod.ts";
import { netPermission, permissionFlags } from "../permissions.ts";
import { BINARIES, ROOT } from "../runtime.ts";
import type { CompileRequest } from "./commands/compile.ts";
import { claudeHooksDir } from "./claude_paths.ts";
import { CliError } from "./errors.ts";

/** Inputs of {@linkcode compileArgs}. */
export interface CompileTarget {
  root: string;
  outDir: string;
  /** Where the binaries will be installed (the post hook may start the CLI from there). */
  hooksDir: string;
  dataDir: string;
  configPath: string;
  intelligenceUrl: string;
}

/**
 * `deno compile` argument lists for the four binaries (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileArgs } from "./compile.ts";
 * const all = compileArgs({ root: "/pt", outDir: "/pt/dist", hooksDir: "/h/.claude/hooks", dataDir: "/h/.claude/pattern-tracker",
 *   configPath: "/h/.claude/pattern-tracker/config.yaml", intelligenceUrl: "http://localhost:8053" });
 * assert.deepEqual(all.map((a) => a.name), ["pattern-tracker-pre", "pattern-tracker-post", "pattern-tracker", "pattern-tracker-prompt"]);
 * ```
 */
export function compileArgs(t: CompileTarget): { name: string; args: string[] }[] {
  const files = { dataDir: t.dataDir, configPath: t.configPath };
  const common = ["compile", "--quiet", "--no-prompt", `--config=${t.root}/deno.json`];
  const binary = (name: string, flags: string[], script: string) => ({
    name,
    args: [...common, ...flags, `--output=${t.outDir}/${name}`, `${t.root}/${script}`],
  });
  return [
    binary(BINARIES.pre, permissionFlags({ program: "pre", ...files }), "pre_hook.ts"),
    // The compiled post hook starts the compiled CLI beside it as its flusher.
    binary(
      BINARIES.post,
      permissionFlags({ program: "post", ...files, flusher: `${t.hooksDir}/${BINARIES.cli}` }),
      "post_hook.ts",
    ),
    binary(
      BINARIES.cli,
      permissionFlags({ program: "cli", service: netPermission(t.intelligenceUrl) }),
      "tracker.ts",
    ),
    binary(BINARIES.prompt, permissionFlags({ program: "prompt", ...files }), "prompt_hook.ts"),
  ];
}

/**
 * A clear message for a failed `deno compile`, naming the usual cause: the compile runtime (denort)
 * is downloaded from dl.deno.land, which may be unreachable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainCompileFailure } from "./compile.ts";
 * const why = explainCompileFailure("error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip)");
 * assert.match(why, /DENORT_BIN/);
 * ```
 */
export function explainCompileFailure(stderr: string): string {
  // Deno colours its errors; strip the ANSI escapes before matching.
  // deno-lint-ignore no-control-regex
  const plain = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  if (/dl\.deno\.land|denort|Setting up base binary/i.test(plain)) {
    return "deno compile could not obtain its runtime (denort) from dl.deno.land, which is unreachable from this machine. " +
      "Run `deno task compile` on a machine with internet access, or set DENORT_BIN to a local denort binary of the same Deno version.";
  }
  const firstError = plain.split("\n").find((l) => /error/i.test(l)) ?? plain.split("\n")[0] ?? "";
  return `deno compile failed: ${firstError.trim()}`;
}

/**
 * Runs `deno compile` for each binary; returns the paths made, or throws with a clear message.
 *
 * @example
 * ```ts ignore
 * // Downloads Deno's runtime (denort) when it is not cached: tests/compile_test.ts runs it.
 * import { compileBinaries } from "./compile.ts";
 * const made = await compileBinaries({ root, outDir: `${root}/dist`, hooksDir, dataDir, configPath, intelligenceUrl });
 * ```
 */
export async function compileBinaries(t: CompileTarget): Promise<string[]> {
  Deno.mkdirSync(t.outDir, { recursive: true });
  const made: string[] = [];
  for (const { name, args } of compileArgs(t)) {
    const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) throw new Error(explainCompileFailure(new TextDecoder().decode(out.stderr)));
    made.push(`${t.outDir}/${name}`);
  }
  return made;
}

/**
 * Runs `compile`: the three binaries into `--out` (default `dist/`); returns the exit code.
 *
 * @example
 * ```ts ignore
 * // Downloads Deno's runtime (denort) when it is not cached: tests/compile_test.ts runs it.
 * import { compileCommand } from "./compile.ts";
 * Deno.exit(await compileCommand({ out: undefined, hooksDir: undefined }));
 * ```
 */
export async function compileCommand(request: CompileRequest): Promise<number> {
  const { config } = await loadConfig();
  const outDir = request.out ?? `${ROOT}/dist`;
  const configPath = Deno.env.get(CONFIG_PATH_ENV) || dataDirConfigPath(homeDir());
  try {
    const made = await compileBinaries({
      root: ROOT,
      outDir,
      hooksDir: request.hooksDir ?? claudeHooksDir(homeDir()),
      dataDir: config.dataDir,
      configPath,
      intelligenceUrl: config.intelligenceUrl,
    });
    console.log(
      `Built:\n  ${made.join("\n  ")}\nInstall them with: deno task tracker install --compiled`,
    );
    return 0;
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}
