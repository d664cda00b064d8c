/**
 * The hook launcher (`hooks/pattern-tracker.sh`) as Claude Code runs it: with the values `install`
 * wrote and, for the plugin, with none. A Deno that vanished or a hook script that is gone leaves
 * every hook at exit 0 with empty stdout, and the SessionStart hook tells the user once, with the
 * command that fixes it. Plus: the committed launcher and hooks.json are what the code generates.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { HOOK_MATCHER, pluginHookCommands, pluginHooksJson } from "../src/cli/install.ts";
import { DENO_PATH_FILE, LAUNCHER } from "../src/cli/launcher.ts";
import { generatedFiles } from "../src/cli/plugin_files.ts";
import { TRACKED_TOOLS } from "../src/record/payload.ts";
import { openStore } from "../src/store/mod.ts";
import { denoDirEnv, runCli, runHookProcess, vanishableDeno, waitUntil } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** A captured payload: the demo session's, or one of the tests' own (the UserPromptSubmit one). */
const fixture = (name: string) => {
  const own = `${ROOT}/tests/fixtures/${name}.json`;
  return Deno.readFileSync(existsSync(own) ? own : `${ROOT}/src/cli/demo_session/${name}.json`);
};
const SESSION_START = new TextEncoder().encode(
  JSON.stringify({ hook_event_name: "SessionStart", source: "startup", session_id: "s" }),
);

Deno.test("the committed launcher and hooks.json are what src/cli generates (deno task generate)", () => {
  for (const file of generatedFiles()) {
    assert.equal(
      Deno.readTextFileSync(`${ROOT}/${file.path}`),
      file.text,
      `${file.path} is stale: run deno task generate`,
    );
  }
  assert.equal(Deno.statSync(`${ROOT}/${LAUNCHER}`).mode! & 0o111, 0o111, "executable");
});

Deno.test("hooks.json's matchers and commands come from TRACKED_TOOLS and the launcher", () => {
  const text = Deno.readTextFileSync(`${ROOT}/hooks/hooks.json`);
  assert.deepEqual(JSON.parse(text), pluginHooksJson());
  const committed: {
    hooks: Record<string, { matcher: string; hooks: { command: string }[] }[]>;
  } = JSON.parse(text);
  const first = (event: string) => committed.hooks[event]?.[0];
  assert.equal(HOOK_MATCHER, TRACKED_TOOLS.join("|"));
  for (const event of ["PreToolUse", "PostToolUse", "PostToolUseFailure"]) {
    assert.deepEqual(first(event)?.matcher.split("|"), [...TRACKED_TOOLS], event);
  }
  assert.equal(first("PreToolUse")?.hooks[0]?.command, pluginHookCommands().pre);
  assert.equal(first("SessionStart")?.hooks[0]?.command, pluginHookCommands().sessionStart);
  // UserPromptSubmit has no matcher: every request.
  assert.equal(first("UserPromptSubmit")?.matcher, undefined);
  assert.equal(first("UserPromptSubmit")?.hooks[0]?.command, pluginHookCommands().prompt);
});

/** Installs with a Deno of its own (`--no-bundle`: the .ts scripts); returns the commands. */
async function installWithOwnDeno() {
  const base = Deno.makeTempDirSync({ prefix: "pt-launch-" });
  const deno = vanishableDeno();
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: base,
    PATTERN_TRACKER_DATA_DIR: `${base}/data`,
    PATTERN_TRACKER_AUTO_FLUSH: "false",
    ...denoDirEnv(),
  };
  const settings = `${base}/settings.json`;
  const r = await runCli(["install", "--no-bundle", "--deno", deno, "--settings", settings], env);
  assert.equal(r.code, 0, r.stderr);
  const hooks = JSON.parse(Deno.readTextFileSync(settings)).hooks;
  return {
    base,
    deno,
    env,
    data: `${base}/data`,
    pre: hooks.PreToolUse[0].hooks[0].command as string,
    post: hooks.PostToolUse[0].hooks[0].command as string,
    sessionStart: hooks.SessionStart[0].hooks[0].command as string,
    prompt: hooks.UserPromptSubmit[0].hooks[0].command as string,
  };
}

function versions(data: string, file: string): number {
  const store = openStore(data);
  try {
    return store.fileHistory(file).length;
  } finally {
    store.close();
  }
}

Deno.test("a vanished Deno: every hook exits 0 with empty stdout; SessionStart says so once, with the fix", async () => {
  const i = await installWithOwnDeno();
  // Installed and working: the hooks record, SessionStart says nothing.
  const working = [
    [i.prompt, "10-user-prompt-submit"],
    [i.pre, "01-pre-write"],
    [i.post, "02-post-write"],
  ] as const;
  for (const [command, name] of working) {
    const r = await runHookProcess(command, i.env, fixture(name));
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""], name);
  }
  assert.equal(versions(i.data, "/home/dev/project/app.py"), 1);
  const quiet = await runHookProcess(i.sessionStart, i.env, SESSION_START);
  assert.deepEqual([quiet.code, quiet.stdout], [0, ""]);

  Deno.removeSync(i.deno); // npm cleaned its cache, the user removed ~/.deno, …
  const names = ["10-user-prompt-submit", "03-pre-edit", "04-post-edit", "05-pre-write"];
  for (const name of names) {
    const command = name.includes("prompt") ? i.prompt : name.includes("pre") ? i.pre : i.post;
    const r = await runHookProcess(command, i.env, fixture(name));
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""], name);
  }
  const told = await runHookProcess(i.sessionStart, i.env, SESSION_START);
  assert.equal(told.code, 0);
  const answer = JSON.parse(told.stdout);
  assert.deepEqual(Object.keys(answer), ["systemMessage"]);
  assert.match(
    answer.systemMessage,
    /^Pattern Tracker is not recording: the Deno its hooks run with is gone/,
  );
  assert.ok(answer.systemMessage.includes(i.deno), "names the missing binary");
  assert.match(answer.systemMessage, /task tracker install/, "says how to fix it");
});

Deno.test("a hook script that is gone (a cleaned checkout): exit 0, empty stdout, and SessionStart names it", async () => {
  const i = await installWithOwnDeno();
  const moved = (command: string) =>
    command.replace(`'${ROOT}/post_hook.ts'`, `'${i.base}/gone/post_hook.ts'`);
  const r = await runHookProcess(moved(i.post), i.env, fixture("02-post-write"));
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
  const told = await runHookProcess(moved(i.sessionStart), i.env, SESSION_START);
  assert.match(
    JSON.parse(told.stdout).systemMessage,
    /hook script is gone \(.*\/gone\/post_hook\.ts\)/,
  );
});

Deno.test("the plugin without any Deno: hooks exit 0 silently; SessionStart gives the npm command for its data dir", async () => {
  const base = Deno.makeTempDirSync({ prefix: "pt-plugin-nodeno-" });
  const env = {
    PATH: "/usr/bin:/bin", // no deno here (checked below)
    HOME: base,
    CLAUDE_PLUGIN_ROOT: ROOT,
    CLAUDE_PLUGIN_DATA: `${base}/plugin-data`,
  };
  const which = await runHookProcess("command -v deno", env, new Uint8Array());
  assert.equal(which.stdout, "", "this test needs a PATH without deno");
  const commands = pluginHookCommands();
  const runs: [string, string][] = [[commands.pre, "01-pre-write"], [
    commands.post,
    "02-post-write",
  ]];
  for (const [command, name] of runs) {
    const r = await runHookProcess(command, env, fixture(name));
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""], name);
  }
  const told = await runHookProcess(commands.sessionStart, env, SESSION_START);
  assert.equal(told.code, 0);
  const message = JSON.parse(told.stdout).systemMessage as string;
  assert.match(message, /no Deno found/);
  assert.ok(message.includes(`npm install --prefix '${base}/plugin-data/deno' deno@`), message);
});

Deno.test("the plugin: SessionStart remembers the Deno it found (its real path), and the hooks record with it", async () => {
  const base = Deno.makeTempDirSync({ prefix: "pt-plugin-" });
  const bin = `${base}/bin`;
  Deno.mkdirSync(bin);
  const deno = vanishableDeno();
  Deno.symlinkSync(deno, `${bin}/deno`); // a symlink on PATH, as package managers make them
  const data = `${base}/plugin-data`;
  const env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: base,
    CLAUDE_PLUGIN_ROOT: ROOT,
    CLAUDE_PLUGIN_DATA: data,
    PATTERN_TRACKER_AUTO_FLUSH: "false",
    ...denoDirEnv(),
  };
  const commands = pluginHookCommands();
  const start = await runHookProcess(commands.sessionStart, env, SESSION_START);
  assert.deepEqual([start.code, start.stdout], [0, ""]);
  assert.equal(Deno.readTextFileSync(`${data}/${DENO_PATH_FILE}`), `${deno}\n`);
  for (const name of ["01-pre-write", "02-post-write"]) {
    const r = await runHookProcess(
      name.includes("pre") ? commands.pre : commands.post,
      env,
      fixture(name),
    );
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""], name);
  }
  assert.equal(versions(data, "/home/dev/project/app.py"), 1);
  // --allow-run names the real file: the post hook may start the flusher with that Deno.
  const flushing = {
    ...env,
    PATTERN_TRACKER_AUTO_FLUSH: "true",
    PATTERN_TRACKER_INTELLIGENCE_URL: "http://127.0.0.1:9",
  };
  const r = await runHookProcess(commands.post, flushing, fixture("04-post-edit"));
  assert.deepEqual([r.code, r.stdout], [0, ""]);
  const log = () => {
    try {
      return Deno.readTextFileSync(`${data}/pattern-tracker.log.jsonl`);
    } catch {
      return "";
    }
  };
  assert.ok(await waitUntil(() => log().includes('"delivery_attempt"'), 20_000), log());
  assert.ok(!log().includes("flusher_not_started"), log());
});
