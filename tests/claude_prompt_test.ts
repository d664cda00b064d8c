/**
 * End to end with real Claude Code 2.1.330 and the hooks `tracker.ts install --settings` writes: a
 * session asked to "fix the crash when the list is empty" (with a secret planted in the request)
 * writes a file and edits it. The request is recorded as its intent label — its words only with
 * `store_prompts: true`, and then redacted — the secret reaches neither the store nor the log, and
 * the Edit reaches the Phase 4 stand-in typed from its diff and that intent. Skips only when Claude
 * Code cannot be installed from npm.
 */
import assert from "node:assert/strict";
import { storedPrompts } from "../src/store/prompts.ts";
import { openStore } from "../src/store/mod.ts";
import { explainTransformation } from "../src/record/transformation.ts";
import { ensureClaudeCode, runClaude } from "./claude/claude_code.ts";
import { startScriptedModel } from "./claude/scripted_model.ts";
import { startPhase4Server } from "./phase4_server.ts";
import { denoDirEnv, runCli, vanishableDeno, waitUntil } from "./support.ts";

const claude = await ensureClaudeCode();
const skip = "skip" in claude ? claude.skip : null;
if (skip) console.log(`Claude Code end-to-end tests skipped: ${skip}`);

const BEFORE = "def first(items):\n    return items[0]\n";
const GUARDED = "def first(items):\n    if not items:\n        return None\n    return items[0]\n";
// Made up, of a real provider's shape; assembled so that this file holds no whole key.
const SECRET = "sk-ant-api03-" + "Qx8".repeat(30) + "AA";
const SECRET_PART = "Qx8Qx8Qx8";
const REQUEST = `fix the crash when the list is empty (the CI key is ${SECRET})`;

/** Every byte under a directory as one string (database, WAL, log, caches). */
function everyByte(dir: string): string {
  let all = "";
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) all += everyByte(path);
    else if (entry.isFile) all += new TextDecoder("latin1").decode(Deno.readFileSync(path));
  }
  return all;
}

/** Installs the hooks, runs the session (Write first.py, Edit it), and checks the run. */
async function session(env: Record<string, string>) {
  const base = Deno.makeTempDirSync({ prefix: "pt-e2e-prompt-" });
  const home = `${base}/home`;
  const project = `${base}/project`;
  Deno.mkdirSync(home);
  Deno.mkdirSync(project);
  const data = `${base}/data`;
  const fullEnv = {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    ...denoDirEnv(),
    PATTERN_TRACKER_DATA_DIR: data,
    PATTERN_TRACKER_DENO: vanishableDeno(),
    ...env,
  };
  const settings = `${base}/settings.json`;
  const install = await runCli(["install", "--settings", settings], fullEnv);
  assert.equal(install.code, 0, install.stderr);
  const installed = JSON.parse(Deno.readTextFileSync(settings));
  assert.match(
    installed.hooks.UserPromptSubmit[0].hooks[0].command,
    /pattern-tracker\.sh' prompt /,
  );
  const file = `${project}/first.py`;
  const model = await startScriptedModel([
    { tool: "Write", input: { file_path: file, content: BEFORE } },
    {
      tool: "Edit",
      input: {
        file_path: file,
        old_string: "    return items[0]\n",
        new_string: GUARDED.slice(GUARDED.indexOf("    if")),
      },
    },
    { text: "Done." },
  ]);
  try {
    const run = await runClaude({
      bin: (claude as { bin: string }).bin,
      home,
      cwd: project,
      modelUrl: model.url,
      settingsPath: settings,
      prompt: REQUEST,
      env: fullEnv,
    });
    assert.equal(run.code, 0, `claude failed: ${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /Done\./);
    // The hook printed nothing: Claude Code adds what it prints to what the model sees, as
    // "UserPromptSubmit hook success: <stdout>" (seen with 2.1.330).
    const sent = JSON.stringify(model.requests);
    assert.ok(sent.includes("list is empty"), "the model received the request");
    assert.ok(!sent.includes("UserPromptSubmit hook"), "and nothing from our hook");
  } finally {
    await model.close();
  }
  assert.equal(Deno.readTextFileSync(file), GUARDED);
  return { base, data, file, env: fullEnv };
}

function promptsIn(data: string) {
  const store = openStore(data);
  try {
    return storedPrompts(store);
  } finally {
    store.close();
  }
}

function logOf(data: string): string {
  try {
    return Deno.readTextFileSync(`${data}/pattern-tracker.log.jsonl`);
  } catch {
    return "";
  }
}

Deno.test({
  name:
    "real Claude Code: the request is recorded as its intent only, and the Edit reaches Phase 4 typed from code and intent",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startPhase4Server();
    try {
      const { base, data, file, env } = await session({
        PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
      });
      assert.ok(await waitUntil(() => server.events().length >= 2, 30_000), "both events sent");
      const [created, edited] = server.events();
      assert.equal(created?.event_type, "pattern_created");
      assert.equal(edited?.event_type, "pattern_modified");
      // The diff alone leans enhancement; with the request's words it is a fix.
      assert.equal(
        explainTransformation({ before: BEFORE, after: GUARDED }).transformationType,
        "enhancement",
      );
      assert.equal(edited?.transformation_type, "bugfix");
      // The stored prompt: its label and scores, no words.
      const [prompt, ...more] = promptsIn(data);
      assert.equal(more.length, 0);
      assert.equal(prompt?.intentLabel, "bugfix");
      assert.equal(prompt?.text, null);
      assert.ok(prompt?.sessionId && prompt.promptId, "with Claude Code's session and prompt IDs");
      // lineage shows what Phase 4 received.
      const lineage = await runCli(["lineage", file, "--json"], env);
      assert.equal(lineage.code, 0, lineage.stderr);
      const versions = JSON.parse(lineage.stdout).versions as { transformation_type: string }[];
      assert.deepEqual(versions.map((v) => v.transformation_type), [null, "bugfix"]);
      // Neither the words nor the secret are anywhere: store, WAL, log, nor what was sent.
      const disk = everyByte(data);
      assert.ok(!disk.includes(SECRET_PART), "no secret on disk");
      assert.ok(!disk.includes("list is empty"), "no words on disk");
      assert.ok(!JSON.stringify(server.requests()).includes(SECRET_PART), "no secret sent");
      assert.ok(!logOf(data).includes('"level":"error"'), logOf(data));
      Deno.removeSync(base, { recursive: true });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "real Claude Code with store_prompts: true: the request's words are kept, redacted; the secret is nowhere",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { base, data, file, env } = await session({
      PATTERN_TRACKER_STORE_PROMPTS: "true",
      PATTERN_TRACKER_AUTO_FLUSH: "false",
    });
    const [prompt] = promptsIn(data);
    assert.equal(
      prompt?.text,
      "fix the crash when the list is empty (the CI key is [REDACTED:anthropic_key])",
    );
    assert.equal(prompt?.redactedSecrets, 1);
    assert.equal(prompt?.intentLabel, "bugfix");
    const lineage = await runCli(["lineage", file, "--json"], env);
    assert.equal(JSON.parse(lineage.stdout).versions[1].transformation_type, "bugfix");
    assert.ok(!everyByte(data).includes(SECRET_PART), "no secret on disk");
    assert.ok(!logOf(data).includes('"level":"error"'), logOf(data));
    Deno.removeSync(base, { recursive: true });
  },
});
