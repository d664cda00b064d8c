/**
 * `demo`: replays a real Claude Code 2.1.330 session (bundled) through the hook scripts, run as
 * Claude Code runs them — same command lines, same permission flags — into a temporary store, and
 * prints the lineage it recorded.
 *
 * @module
 */

import { defaultConfigPath, homeDir } from "../config/mod.ts";
import { ROOT } from "../runtime.ts";
import { openStore } from "../store/mod.ts";
import { classifyBeforeShowing } from "../record/version_transformations.ts";
import { CliError } from "./errors.ts";
import { hookCommands } from "./install.ts";
import { renderFileLineage } from "./lineage.ts";
import preWrite1 from "./demo_session/01-pre-write.json" with { type: "json" };
import postWrite1 from "./demo_session/02-post-write.json" with { type: "json" };
import preEdit1 from "./demo_session/03-pre-edit.json" with { type: "json" };
import postEdit1 from "./demo_session/04-post-edit.json" with { type: "json" };
import preWrite2 from "./demo_session/05-pre-write.json" with { type: "json" };
import postWrite2 from "./demo_session/06-post-write.json" with { type: "json" };
import preEdit2 from "./demo_session/07-pre-edit.json" with { type: "json" };
import postEdit2 from "./demo_session/08-post-edit.json" with { type: "json" };
import sessionEnd from "./demo_session/09-sessionend.json" with { type: "json" };

/** The bundled session, in the order Claude Code sent it: [hook, payload]. */
export const DEMO_SESSION: ReadonlyArray<readonly ["pre" | "post", unknown]> = [
  ["pre", preWrite1],
  ["post", postWrite1],
  ["pre", preEdit1],
  ["post", postEdit1],
  ["pre", preWrite2],
  ["post", postWrite2],
  ["pre", preEdit2],
  ["post", postEdit2],
  ["post", sessionEnd],
];

/** The file the demo session writes. */
export const DEMO_FILE = "/home/dev/project/app.py";

/**
 * Pipes each payload into a hook command (through `sh -c`, as Claude Code does) and checks that the
 * hook exited 0 with empty stdout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaySession } from "./demo.ts";
 * // Hooks that read their input and say nothing, as ours do.
 * const runs = await replaySession({ pre: "cat >/dev/null", post: "cat >/dev/null" }, { PATH: "/usr/bin:/bin" });
 * assert.equal(runs.length, 9);
 * assert.ok(runs.every((r) => r.code === 0 && r.stdout === ""));
 * ```
 */
export async function replaySession(
  commands: { pre: string; post: string },
  env: Record<string, string>,
): Promise<{ hook: string; code: number; stdout: string }[]> {
  const results = [];
  for (const [hook, payload] of DEMO_SESSION) {
    const child = new Deno.Command("sh", {
      args: ["-c", hook === "pre" ? commands.pre : commands.post],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(payload)));
    await writer.close();
    const out = await child.output();
    results.push({ hook, code: out.code, stdout: new TextDecoder().decode(out.stdout) });
  }
  return results;
}

/**
 * Runs `demo`: the bundled session through the hook scripts into a temporary store, then its
 * lineage; returns the exit code.
 *
 * @example
 * ```ts ignore
 * // Starts nine hook processes: tests/hooks_test.ts runs the demo.
 * import { demoCommand } from "./demo.ts";
 * Deno.exit(await demoCommand());
 * ```
 */
export async function demoCommand(): Promise<number> {
  const dataDir = Deno.makeTempDirSync({ prefix: "pattern-tracker-demo-" });
  const configPath = defaultConfigPath();
  const commands = hookCommands({ deno: Deno.execPath(), root: ROOT, dataDir, configPath });
  console.log(
    "Replaying a real Claude Code 2.1.330 session (Write, Edit, Write, Edit of app.py) through the hooks,",
  );
  console.log(`with the command lines "install --no-bundle" writes, into ${dataDir}\n`);
  const results = await replaySession(commands, {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: homeDir(),
    PATTERN_TRACKER_DATA_DIR: dataDir,
    PATTERN_TRACKER_CONFIG: configPath,
    // The demo's events stay local: no delivery to a real service.
    PATTERN_TRACKER_AUTO_FLUSH: "false",
  });
  const bad = results.filter((r) => r.code !== 0 || r.stdout !== "");
  if (bad.length > 0) throw new CliError(`a hook misbehaved: ${JSON.stringify(bad)}`);
  console.log(`${results.length} hook runs, all exit 0 with empty stdout.\n`);
  const store = openStore(dataDir);
  try {
    classifyBeforeShowing(store, { filePath: DEMO_FILE });
    console.log(renderFileLineage(DEMO_FILE, store.fileHistory(DEMO_FILE)));
    const c = store.counts();
    console.log(
      `\n${c.patterns} patterns, ${c.executions} executions, ${c.outbox} Phase 4 events in the outbox.`,
    );
    console.log(`Try: PATTERN_TRACKER_DATA_DIR=${dataDir} deno task tracker lineage app.py`);
  } finally {
    store.close();
  }
  return 0;
}
