/**
 * Real Claude Code 2.1.330: the repository as a plugin marketplace (`claude plugin marketplace add`
 * then `claude plugin install pattern-tracker@pattern-tracker`), a session whose Write the plugin's
 * hooks record, and a Deno that is missing or vanished: every hook exits 0 with empty stdout and
 * the user is told once, through the SessionStart hook's systemMessage (seen in the stream-json
 * output and in the session's transcript). Skips only when Claude Code cannot be installed.
 */
import assert from "node:assert/strict";
import { patternId } from "../src/record/pattern.ts";
import { DENO_PATH_FILE } from "../src/cli/launcher.ts";
import { openStore } from "../src/store/mod.ts";
import { ensureClaudeCode, runClaude, runClaudeCommand } from "./claude/claude_code.ts";
import { startScriptedModel } from "./claude/scripted_model.ts";
import { denoDirEnv, runCli, vanishableDeno } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const claude = await ensureClaudeCode();
const skip = "skip" in claude ? claude.skip : null;
if (skip) console.log(`Claude Code plugin tests skipped: ${skip}`);
const bin = () => (claude as { bin: string }).bin;

const CONTENT = "def greet(name):\n    return f'hello {name}'\n";
/** What `--include-hook-events` streams for one hook run. */
interface HookResponse {
  hook_event: string;
  hook_name: string;
  stdout: string;
  exit_code: number;
}

/** The repository as a user's clone has it: tracked and unignored files only (no .cache, build). */
async function cloneOfCheckout(): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.ok(out.success, "git ls-files");
  const repo = Deno.makeTempDirSync({ prefix: "pt-marketplace-" });
  for (const file of new TextDecoder().decode(out.stdout).split("\0").filter(Boolean)) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(`${ROOT}/${file}`);
    } catch {
      continue; // deleted in the work tree, not yet committed
    }
    Deno.mkdirSync(`${repo}/${file}`.replace(/\/[^/]*$/, ""), { recursive: true });
    Deno.copyFileSync(`${ROOT}/${file}`, `${repo}/${file}`);
    Deno.chmodSync(`${repo}/${file}`, info.mode! & 0o777);
  }
  return repo;
}

/** A HOME with the plugin installed from the marketplace, the way a user does it. */
async function homeWithPlugin(): Promise<{ base: string; home: string; project: string }> {
  const repo = await cloneOfCheckout();
  const base = Deno.makeTempDirSync({ prefix: "pt-plugin-e2e-" });
  const home = `${base}/home`;
  const project = `${base}/project`;
  Deno.mkdirSync(home);
  Deno.mkdirSync(project);
  const validate = await runClaudeCommand(bin(), ["plugin", "validate", repo], home);
  assert.equal(validate.code, 0, validate.stdout + validate.stderr);
  const added = await runClaudeCommand(bin(), ["plugin", "marketplace", "add", repo], home);
  assert.equal(added.code, 0, added.stdout + added.stderr);
  assert.match(added.stdout, /Successfully added marketplace: pattern-tracker/);
  const installed = await runClaudeCommand(
    bin(),
    ["plugin", "install", "pattern-tracker@pattern-tracker"],
    home,
  );
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);
  assert.match(installed.stdout, /Successfully installed plugin: pattern-tracker@pattern-tracker/);
  return { base, home, project };
}

/** One Write of app.py, streamed with every hook event; returns the events and the transcript. */
async function writeSession(
  w: { home: string; project: string },
  env: Record<string, string>,
  settingsPath?: string,
) {
  const model = await startScriptedModel([
    { tool: "Write", input: { file_path: `${w.project}/app.py`, content: CONTENT } },
    { text: "Done." },
  ]);
  try {
    const run = await runClaude({
      bin: bin(),
      home: w.home,
      cwd: w.project,
      modelUrl: model.url,
      env,
      settingsPath,
      allowedTools: "Write",
      extraArgs: ["--output-format", "stream-json", "--verbose", "--include-hook-events"],
    });
    assert.equal(run.code, 0, `claude failed: ${run.stdout}\n${run.stderr}`);
    const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const responses: HookResponse[] = events.filter((e) =>
      e.type === "system" && e.subtype === "hook_response"
    );
    assert.equal(Deno.readTextFileSync(`${w.project}/app.py`), CONTENT, "the Write happened");
    return { responses, transcript: transcriptOf(w.home) };
  } finally {
    await model.close();
  }
}

function findFiles(dir: string, name: RegExp, found: string[] = []): string[] {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) findFiles(path, name, found);
    else if (name.test(entry.name)) found.push(path);
  }
  return found;
}

function transcriptOf(home: string): string {
  return findFiles(`${home}/.claude/projects`, /\.jsonl$/).map((f) => Deno.readTextFileSync(f))
    .join("\n");
}

/** The SessionStart messages Claude Code took from our hook, as the user is shown them. */
function systemMessages(responses: HookResponse[], transcript: string): string[] {
  const fromStream = responses.filter((r) => r.hook_event === "SessionStart" && r.stdout.trim())
    .map((r) => JSON.parse(r.stdout).systemMessage as string);
  const fromTranscript = transcript.split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .filter((l) => l.attachment?.type === "hook_system_message").map((l) => l.attachment.content);
  assert.deepEqual(fromTranscript, fromStream, "Claude Code recorded the message for the user");
  return fromStream;
}

function assertToolHooksQuiet(responses: HookResponse[]) {
  const toolHooks = responses.filter((r) => /^(PreToolUse|PostToolUse)/.test(r.hook_event));
  assert.ok(toolHooks.length >= 2, `our tool hooks ran: ${JSON.stringify(responses)}`);
  for (const r of toolHooks) {
    assert.deepEqual([r.exit_code, r.stdout], [0, ""], `${r.hook_name}: ${JSON.stringify(r)}`);
  }
}

Deno.test({
  name:
    "real Claude Code: marketplace add + plugin install, then a session's Write is recorded by the plugin's hooks",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const w = await homeWithPlugin();
    // Deno on PATH, as after Deno's installer or a package manager (a symlink).
    const pathDir = `${w.base}/bin`;
    Deno.mkdirSync(pathDir);
    const deno = vanishableDeno();
    Deno.symlinkSync(deno, `${pathDir}/deno`);
    const env = {
      PATH: `${pathDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      ...denoDirEnv(),
      PATTERN_TRACKER_AUTO_FLUSH: "false",
    };
    const { responses, transcript } = await writeSession(w, env);
    assert.deepEqual(systemMessages(responses, transcript), [], "nothing to tell");
    assertToolHooksQuiet(responses);
    const [db] = findFiles(`${w.home}/.claude/plugins`, /^patterns\.db$/);
    assert.ok(db, "the plugin's hooks made a store under the plugin's data directory");
    const data = db.replace(/\/patterns\.db$/, "");
    assert.equal(Deno.readTextFileSync(`${data}/${DENO_PATH_FILE}`), `${deno}\n`);
    const store = openStore(data);
    try {
      const history = store.fileHistory(`${w.project}/app.py`);
      assert.deepEqual(history.map((v) => [v.patternId, v.toolName, v.eventType]), [
        [await patternId(CONTENT), "Write", "pattern_created"],
      ]);
    } finally {
      store.close();
    }
    Deno.removeSync(w.base, { recursive: true });
  },
});

Deno.test({
  name:
    "real Claude Code: the plugin without Deno records nothing, breaks nothing, and tells the user once at SessionStart",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const w = await homeWithPlugin();
    const env = { PATH: "/usr/bin:/bin", ...denoDirEnv() };
    for (const dir of env.PATH.split(":")) {
      assert.throws(() => Deno.statSync(`${dir}/deno`), `this test needs no deno in ${dir}`);
    }
    const { responses, transcript } = await writeSession(w, env);
    const messages = systemMessages(responses, transcript);
    assert.equal(messages.length, 1, "told once");
    assert.match(messages[0]!, /^Pattern Tracker is not recording: no Deno found/);
    assert.match(messages[0]!, /Fix: npm install --prefix '.*\/deno' deno@/);
    assertToolHooksQuiet(responses);
    assert.deepEqual(findFiles(`${w.home}/.claude/plugins`, /^patterns\.db$/), []);
    Deno.removeSync(w.base, { recursive: true });
  },
});

Deno.test({
  name:
    "real Claude Code: settings.json hooks whose Deno vanished exit 0 quietly and SessionStart says how to fix it",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const base = Deno.makeTempDirSync({ prefix: "pt-vanished-e2e-" });
    const w = { home: `${base}/home`, project: `${base}/project` };
    Deno.mkdirSync(w.home);
    Deno.mkdirSync(w.project);
    const deno = vanishableDeno();
    const env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: w.home,
      ...denoDirEnv(),
      PATTERN_TRACKER_DATA_DIR: `${base}/data`,
      PATTERN_TRACKER_AUTO_FLUSH: "false",
    };
    const settings = `${base}/settings.json`;
    const install = await runCli(
      ["install", "--no-bundle", "--deno", deno, "--settings", settings],
      env,
    );
    assert.equal(install.code, 0, install.stderr);
    Deno.removeSync(deno); // e.g. npm cleaned the cache it was in
    const { responses, transcript } = await writeSession(w, env, settings);
    const messages = systemMessages(responses, transcript);
    assert.equal(messages.length, 1, "told once");
    assert.match(messages[0]!, /the Deno its hooks run with is gone \(.*\/deno\)/);
    assert.match(messages[0]!, /task tracker install/);
    assertToolHooksQuiet(responses);
    Deno.removeSync(base, { recursive: true });
  },
});
