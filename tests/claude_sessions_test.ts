/**
 * Two real Claude Code 2.1.330 sessions whose tool calls carry the same IDs, as behind a gateway
 * that numbers them: each session's scripted model names its calls toolu_e2e_01, toolu_e2e_02, …
 * Nothing may be lost: both sessions' edits are recorded, each call once. Skips only when Claude
 * Code cannot be installed from npm.
 */
import assert from "node:assert/strict";
import type { FileLineageJson } from "../src/views/lineage_json.ts";
import { patternId } from "../src/record/pattern.ts";
import { openStore } from "../src/store/mod.ts";
import { ensureClaudeCode, runClaude } from "./claude/claude_code.ts";
import { type ScriptStep, startScriptedModel } from "./claude/scripted_model.ts";
import { denoDirEnv, runCli } from "./support.ts";

const claude = await ensureClaudeCode();
const skip = "skip" in claude ? claude.skip : null;

function steps(file: string, tag: string): ScriptStep[] {
  const v1 = `def ${tag}(a, b):\n    return a + b\n`;
  return [
    { tool: "Write", input: { file_path: file, content: v1 } },
    {
      tool: "Edit",
      input: { file_path: file, old_string: "return a + b", new_string: "return a - b" },
    },
    { tool: "Write", input: { file_path: file, content: `${v1}# ${tag}\n` } },
    { text: "Done." },
  ];
}

Deno.test({
  name:
    "real Claude Code: two sessions repeating the same tool_use IDs lose nothing (each call recorded once)",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const base = Deno.makeTempDirSync({ prefix: "pt-sessions-" });
    const home = `${base}/home`;
    const data = `${base}/data`;
    Deno.mkdirSync(home);
    const env = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...denoDirEnv(),
      PATTERN_TRACKER_DATA_DIR: data,
      PATTERN_TRACKER_AUTO_FLUSH: "false",
    };
    const settings = `${base}/settings.json`;
    const install = await runCli(["install", "--settings", settings], env);
    assert.equal(install.code, 0, install.stderr);
    const projects = ["alpha", "beta"].map((tag) => ({ tag, dir: `${base}/${tag}` }));
    for (const p of projects) {
      Deno.mkdirSync(p.dir);
      const model = await startScriptedModel(steps(`${p.dir}/app.py`, p.tag));
      try {
        const run = await runClaude({
          bin: (claude as { bin: string }).bin,
          home,
          cwd: p.dir,
          modelUrl: model.url,
          env,
          settingsPath: settings,
        });
        assert.equal(run.code, 0, `claude failed: ${run.stdout}\n${run.stderr}`);
      } finally {
        await model.close();
      }
    }
    for (const p of projects) {
      const out = await runCli(["lineage", `${p.dir}/app.py`, "--json"], env);
      assert.equal(out.code, 0, out.stderr);
      const lineage = JSON.parse(out.stdout) as FileLineageJson;
      const v1 = `def ${p.tag}(a, b):\n    return a + b\n`;
      const expected = await Promise.all(
        [v1, v1.replace("a + b", "a - b"), `${v1}# ${p.tag}\n`].map(patternId),
      );
      assert.deepEqual(lineage.versions.map((v) => v.pattern_id), expected, p.tag);
      assert.deepEqual(
        lineage.versions.map((v) => v.tool_use_id),
        ["toolu_e2e_01", "toolu_e2e_02", "toolu_e2e_03"],
        "the same IDs in both sessions",
      );
    }
    const store = openStore(data);
    try {
      const sessions = new Set(store.executions().map((e) => e.sessionId));
      assert.equal(sessions.size, 2, "two Claude Code sessions");
      for (const session of sessions) {
        for (const id of ["toolu_e2e_01", "toolu_e2e_02", "toolu_e2e_03"]) {
          const calls = store.executionsOfCall(session, id);
          assert.equal(calls.length, 1, `${session} ${id}: once`);
          assert.ok(calls[0]?.startedAt && calls[0]?.finishedAt, "pre and post met");
        }
      }
      assert.equal(store.counts().versions, 6);
    } finally {
      store.close();
    }
    Deno.removeSync(base, { recursive: true });
  },
});
