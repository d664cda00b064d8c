/**
 * End to end with real Claude Code 2.1.330: a scripted loopback model makes Claude Code create a file,
 * edit it twice and overwrite it; the hooks installed by `tracker.ts install --settings` (and, in the
 * second test, loaded as a plugin with `--plugin-dir`) record it, and the CLI prints the lineage.
 * Skips only when Claude Code cannot be installed from npm.
 */
import assert from "node:assert/strict";
import type { FileLineageJson } from "../src/views/lineage_json.ts";
import { patternId } from "../src/record/pattern.ts";
import { ensureClaudeCode, runClaude } from "./claude/claude_code.ts";
import { type ScriptStep, startScriptedModel } from "./claude/scripted_model.ts";
import { denoDirEnv, runCli, vanishableDeno, waitUntil } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const claude = await ensureClaudeCode();
const skip = "skip" in claude ? claude.skip : null;
if (skip) console.log(`Claude Code end-to-end tests skipped: ${skip}`);

const V1 = "def add(a, b):\n    return a + b\n";
const V2 = "def add(a, b):\n    if a is None or b is None:\n        return 0\n    return a + b\n";
const V3 = V2.replace("def add(a, b):", "def add(a: int, b: int) -> int:");
const V4 = "def add(a: int, b: int) -> int:\n    return a + b\n";

function session(file: string): ScriptStep[] {
  return [
    { tool: "Write", input: { file_path: file, content: V1 } },
    {
      tool: "Edit",
      input: {
        file_path: file,
        old_string: "    return a + b\n",
        new_string: V2.slice(V2.indexOf("    if")),
      },
    },
    {
      tool: "Edit",
      input: {
        file_path: file,
        old_string: "def add(a, b):",
        new_string: "def add(a: int, b: int) -> int:",
      },
    },
    { tool: "Write", input: { file_path: file, content: V4 } },
    { text: "Done." },
  ];
}

async function assertChain(lineage: FileLineageJson) {
  const expected = await Promise.all([V1, V2, V3, V4].map(patternId));
  assert.deepEqual(
    lineage.versions.map((v) => v.pattern_id),
    expected,
    "one version per step, each the hash of the file after it",
  );
  assert.deepEqual(lineage.versions.map((v) => v.event_type), [
    "pattern_created",
    "pattern_modified",
    "pattern_modified",
    "pattern_modified",
  ]);
  assert.deepEqual(lineage.versions.map((v) => v.parent_pattern_id), [
    null,
    expected[0],
    expected[1],
    expected[2],
  ]);
  assert.deepEqual(lineage.versions.map((v) => v.tool_name), ["Write", "Edit", "Edit", "Write"]);
  assert.ok(lineage.versions.every((v) => v.success === true));
}

function tempWorld() {
  const base = Deno.makeTempDirSync({ prefix: "pt-e2e-" });
  const home = `${base}/home`;
  const project = `${base}/project`;
  const data = `${base}/data`;
  Deno.mkdirSync(home);
  Deno.mkdirSync(project);
  return { base, home, project, data };
}

/** Runs Claude Code on the scripted session (Write, Edit, Edit, Write of app.py); it must exit 0. */
async function playSession(
  w: { home: string; project: string },
  env: Record<string, string>,
  hooks: { settingsPath: string } | { pluginDir: string },
) {
  const model = await startScriptedModel(session(`${w.project}/app.py`));
  try {
    const run = await runClaude({
      bin: (claude as { bin: string }).bin,
      home: w.home,
      cwd: w.project,
      modelUrl: model.url,
      env,
      ...hooks,
    });
    assert.equal(run.code, 0, `claude failed: ${run.stdout}\n${run.stderr}`);
    return run;
  } finally {
    await model.close();
  }
}

Deno.test({
  name:
    "real Claude Code: install --settings, create, edit twice, overwrite → the lineage chain the CLI prints",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { base, home, project, data } = tempWorld();
    const env = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...denoDirEnv(),
      PATTERN_TRACKER_DATA_DIR: data,
      PATTERN_TRACKER_AUTO_FLUSH: "false",
      PATTERN_TRACKER_DENO: vanishableDeno(), // a Deno outside npm's cache: no npm install here
    };
    const settings = `${base}/settings.json`;
    const install = await runCli(["install", "--settings", settings], env);
    assert.equal(install.code, 0, install.stderr);
    const run = await playSession({ home, project }, env, { settingsPath: settings });
    assert.match(run.stdout, /Done\./);
    assert.equal(Deno.readTextFileSync(`${project}/app.py`), V4);
    const lineage = await runCli(["lineage", `${project}/app.py`, "--json"], env);
    assert.equal(lineage.code, 0, lineage.stderr);
    await assertChain(JSON.parse(lineage.stdout));
    const text = await runCli(["lineage", "app.py"], { ...env });
    assert.match(text.stdout, /4 versions/);
    if (Deno.env.get("PT_E2E_VERBOSE")) console.log(text.stdout);
    // Nothing went wrong inside the hooks.
    let log = "";
    try {
      log = Deno.readTextFileSync(`${data}/pattern-tracker.log.jsonl`);
    } catch { /* no log: no problems */ }
    assert.ok(!log.includes('"level":"error"'), log);
    Deno.removeSync(base, { recursive: true });
  },
});

function findFile(dir: string, name: string): string | null {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isFile && entry.name === name) return path;
    if (entry.isDirectory) {
      const found = findFile(path, name);
      if (found) return found;
    }
  }
  return null;
}

Deno.test({
  name:
    "real Claude Code: the repository as a plugin (--plugin-dir) records the same chain under the plugin's data dir",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { base, home, project } = tempWorld();
    const env = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...denoDirEnv(),
      PATTERN_TRACKER_DENO: Deno.execPath(),
      PATTERN_TRACKER_AUTO_FLUSH: "false",
    };
    await playSession({ home, project }, env, { pluginDir: ROOT });
    const db = findFile(home, "patterns.db");
    assert.ok(db, "the plugin's hooks created a store under HOME");
    const dataDir = db.replace(/\/patterns\.db$/, "");
    if (Deno.env.get("PT_E2E_VERBOSE")) console.log(`plugin data dir: ${dataDir}`);
    assert.notEqual(
      dataDir,
      `${home}/.claude/pattern-tracker`,
      "the store is under CLAUDE_PLUGIN_DATA, not the default",
    );
    const lineage = await runCli(["lineage", `${project}/app.py`, "--json"], {
      ...env,
      PATTERN_TRACKER_DATA_DIR: dataDir,
    });
    assert.equal(lineage.code, 0, lineage.stderr);
    await assertChain(JSON.parse(lineage.stdout));
    Deno.removeSync(base, { recursive: true });
  },
});

Deno.test({
  name:
    "real Claude Code with delivery on: the background flusher brings the chain to the Phase 4 stand-in",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { startPhase4Server } = await import("./phase4_server.ts");
    const server = await startPhase4Server();
    const { base, home, project, data } = tempWorld();
    const env = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...denoDirEnv(),
      PATTERN_TRACKER_DATA_DIR: data,
      PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
      PATTERN_TRACKER_DENO: vanishableDeno(),
    };
    const settings = `${base}/settings.json`;
    assert.equal((await runCli(["install", "--settings", settings], env)).code, 0);
    try {
      await playSession({ home, project }, env, { settingsPath: settings });
      await waitUntil(() => server.events().length >= 4, 20_000);
      const expected = await Promise.all([V1, V2, V3, V4].map(patternId));
      assert.deepEqual(
        server.events().map((e) => e.pattern_id),
        expected,
        "delivered in causal order",
      );
      assert.deepEqual(server.events().map((e) => e.parent_pattern_ids), [[], [expected[0]], [
        expected[1],
      ], [expected[2]]]);
      const status = await runCli(["status", "--json"], env);
      const report = JSON.parse(status.stdout);
      assert.equal(report.counts.outbox, 0);
      assert.equal(report.counts.delivered, 4);
      assert.ok(report.last_success);
    } finally {
      await server.close();
    }
    Deno.removeSync(base, { recursive: true });
  },
});
