/**
 * The UserPromptSubmit hook as Claude Code runs it: the command line `install` writes (the launcher,
 * least-privilege flags, `sh -c`), on the real payload, with a secret in the words, with bad
 * configuration, and when it cannot do its work. It must exit 0 with nothing on stdout every time,
 * and the words must reach neither the store nor the log unless `store_prompts` is on (then
 * redacted).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { hookCommands } from "../src/cli/install.ts";
import { storedPrompts } from "../src/store/prompts.ts";
import { openStore } from "../src/store/mod.ts";
import { hookWorld, runHookProcess } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const FIXTURE = JSON.parse(
  Deno.readTextFileSync(`${ROOT}/tests/fixtures/10-user-prompt-submit.json`),
) as Record<string, unknown>;
// Made up, of a real provider's shape; assembled so that this file holds no whole key.
const SECRET = "sk-ant-api03-" + "Zq7".repeat(30) + "AA";
const SECRET_PART = "Zq7Zq7Zq7";

function payload(prompt: string, session = FIXTURE.session_id as string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...FIXTURE, session_id: session, prompt }));
}

function logRecords(dataDir: string): Record<string, unknown>[] {
  try {
    return Deno.readTextFileSync(`${dataDir}/pattern-tracker.log.jsonl`).trim().split("\n")
      .filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** Every byte under the data directory (database, WAL, log, caches) as one string. */
function everyByte(dir: string): string {
  let all = "";
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) all += everyByte(path);
    else if (entry.isFile) all += new TextDecoder("latin1").decode(Deno.readFileSync(path));
  }
  return all;
}

function prompts(dataDir: string) {
  const store = openStore(dataDir);
  try {
    return storedPrompts(store);
  } finally {
    store.close();
  }
}

Deno.test("prompt hook as installed: the real payload is stored as its intent label and scores, with no text; exit 0, nothing printed", async () => {
  const { dataDir, commands, env } = hookWorld({ configPath: `${ROOT}/config.yaml` });
  assert.match(commands.prompt, /pattern-tracker\.sh' prompt /);
  const r = await runHookProcess(commands.prompt, env, payload(FIXTURE.prompt as string));
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  const [p, ...more] = prompts(dataDir);
  assert.equal(more.length, 0);
  assert.equal(p?.sessionId, FIXTURE.session_id);
  assert.equal(p?.promptId, FIXTURE.prompt_id);
  assert.equal(p?.intentLabel, "bugfix");
  assert.equal(p?.intentScores?.length, 4);
  assert.equal(p?.text, null);
  assert.ok(!everyByte(dataDir).includes("list is empty"), "the words are nowhere in the data dir");
  assert.deepEqual(logRecords(dataDir), []);
  Deno.removeSync(dataDir, { recursive: true });
});

Deno.test("a secret in the prompt never reaches the store or the log; with store_prompts the text is kept redacted", async () => {
  const words = `fix the crash when the list is empty; my key is ${SECRET}`;
  // Default: nothing of the words.
  const plain = hookWorld();
  let r = await runHookProcess(plain.commands.prompt, plain.env, payload(words));
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  assert.equal(prompts(plain.dataDir)[0]?.text, null);
  assert.ok(!everyByte(plain.dataDir).includes(SECRET_PART));
  assert.ok(!everyByte(plain.dataDir).includes("crash"));

  // store_prompts from config.yaml, and from the environment over the file.
  for (
    const [config, envValue] of [["store_prompts: true\n", undefined], [
      "store_prompts: false\n",
      "true",
    ]] as const
  ) {
    const w = hookWorld({
      env: envValue ? { PATTERN_TRACKER_STORE_PROMPTS: envValue } : {},
    });
    Deno.writeTextFileSync(w.configPath, config);
    r = await runHookProcess(w.commands.prompt, w.env, payload(words));
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
    const [p] = prompts(w.dataDir);
    assert.equal(
      p?.text,
      "fix the crash when the list is empty; my key is [REDACTED:anthropic_key]",
    );
    assert.equal(p?.redactedSecrets, 1);
    assert.equal(p?.intentLabel, "bugfix");
    assert.ok(!everyByte(w.dataDir).includes(SECRET_PART), "the secret is nowhere on disk");
    Deno.removeSync(w.dataDir, { recursive: true });
  }
  // The environment says no over a file that says yes.
  const no = hookWorld({ env: { PATTERN_TRACKER_STORE_PROMPTS: "0" } });
  Deno.writeTextFileSync(no.configPath, "store_prompts: true\n");
  await runHookProcess(no.commands.prompt, no.env, payload(words));
  assert.equal(prompts(no.dataDir)[0]?.text, null);
  Deno.removeSync(no.dataDir, { recursive: true });
  Deno.removeSync(plain.dataDir, { recursive: true });
});

Deno.test("a bad store_prompts value is a logged error, the default (no text) is used, and the request is still recorded", async () => {
  const w = hookWorld({ env: { PATTERN_TRACKER_STORE_PROMPTS: "perhaps" } });
  const r = await runHookProcess(w.commands.prompt, w.env, payload(`add a ${SECRET} flag`));
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  const [p] = prompts(w.dataDir);
  assert.equal(p?.text, null);
  assert.equal(p?.intentLabel, "enhancement");
  const [problem] = logRecords(w.dataDir);
  assert.equal(problem?.event, "config_invalid");
  assert.equal(problem?.key, "PATTERN_TRACKER_STORE_PROMPTS");
  assert.match(String(problem?.reason), /"perhaps" is not a boolean/);
  assert.ok(!everyByte(w.dataDir).includes(SECRET_PART));
  Deno.removeSync(w.dataDir, { recursive: true });
});

Deno.test("prompt hook failures: exit 0 and empty stdout, logged without the words", async () => {
  const w = hookWorld({ env: { PATTERN_TRACKER_STORE_PROMPTS: "true" } });
  // Not JSON (cut short): logged by its size, not its content.
  let r = await runHookProcess(
    w.commands.prompt,
    w.env,
    new TextEncoder().encode(`{"prompt":"${SECRET}`),
  );
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  assert.deepEqual(logRecords(w.dataDir).map((l) => [l.event, l.error]), [[
    "prompt_payload_invalid",
    `payload is not JSON (${11 + SECRET.length} bytes)`,
  ]]);

  // A store locked by another writer, with no wait: the request goes unrecorded, the session on.
  await runHookProcess(w.commands.prompt, w.env, payload("first request"));
  const holder = new DatabaseSync(`${w.dataDir}/patterns.db`);
  holder.exec("BEGIN IMMEDIATE");
  try {
    r = await runHookProcess(
      w.commands.prompt,
      { ...w.env, PATTERN_TRACKER_STORE_WAIT_MS: "0" },
      payload(`fix it, ${SECRET}`),
    );
  } finally {
    holder.exec("ROLLBACK");
    holder.close();
  }
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  const failed = logRecords(w.dataDir).at(-1);
  assert.equal(failed?.event, "prompt_not_recorded");
  assert.match(JSON.stringify(failed?.error), /locked/);
  assert.equal(prompts(w.dataDir).length, 1, "only the first request");

  // Another hook event sent to it by mistake: nothing done, nothing logged.
  const before = logRecords(w.dataDir).length;
  r = await runHookProcess(
    w.commands.prompt,
    w.env,
    new TextEncoder().encode('{"hook_event_name":"Stop","session_id":"s"}'),
  );
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  assert.equal(logRecords(w.dataDir).length, before);
  assert.ok(!everyByte(w.dataDir).includes(SECRET_PART));
  Deno.removeSync(w.dataDir, { recursive: true });

  // A data directory that is a file, and a Deno that is gone: still exit 0, nothing printed.
  const file = Deno.makeTempFileSync({ prefix: "pt-not-a-dir-" });
  const broken = [
    hookCommands({
      deno: Deno.execPath(),
      root: ROOT,
      dataDir: file,
      configPath: `${file}.yaml`,
    }).prompt,
    hookCommands({
      deno: "/nonexistent/deno",
      root: ROOT,
      dataDir: w.dataDir,
      configPath: w.configPath,
    }).prompt,
  ];
  for (const command of broken) {
    r = await runHookProcess(
      command,
      { ...w.env, PATTERN_TRACKER_DATA_DIR: file },
      payload("fix it"),
    );
    assert.deepEqual([r.code, r.stdout], [0, ""], command);
  }
  Deno.removeSync(file);
});
