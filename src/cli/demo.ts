/**
 * `demo`: replays a real Claude Code 2.1.330 session (bundled) through the hook scripts, run as
 * Claude Code runs them — same command lines, same permission flags — into a temporary store, and
 * prints the lineage it recorded.
 *
 * @module
 */

import preWrite1 from "../../tests/fixtures/01-pre-write.json" with { type: "json" };
import postWrite1 from "../../tests/fixtures/02-post-write.json" with { type: "json" };
import preEdit1 from "../../tests/fixtures/03-pre-edit.json" with { type: "json" };
import postEdit1 from "../../tests/fixtures/04-post-edit.json" with { type: "json" };
import preWrite2 from "../../tests/fixtures/05-pre-write.json" with { type: "json" };
import postWrite2 from "../../tests/fixtures/06-post-write.json" with { type: "json" };
import preEdit2 from "../../tests/fixtures/07-pre-edit.json" with { type: "json" };
import postEdit2 from "../../tests/fixtures/08-post-edit.json" with { type: "json" };
import sessionEnd from "../../tests/fixtures/09-sessionend.json" with { type: "json" };

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
 * import { replaySession } from "./demo.ts";
 * // const runs = await replaySession({ pre: "deno run … pre_hook.ts", post: "deno run … post_hook.ts" }, env);
 * // runs.every((r) => r.code === 0 && r.stdout === ""); // true
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
