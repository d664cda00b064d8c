/**
 * `blame` and `stats` as the user runs them (the real CLI process): the output for a file named by
 * its name, and every failure one line with its exit code — a wrong command line (2), a file or
 * session the store does not know (1), a file whose code is not kept (1); several matches listed.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { defaultConfig } from "../src/config.ts";
import { denoDirEnv, runCli } from "./support.ts";

async function world(storeCode = true) {
  const base = Deno.makeTempDirSync({ prefix: "pt-views-cli-" });
  const data = `${base}/data`;
  const config = { ...defaultConfig(data), dataDir: data, autoFlush: false, storeCode };
  const tracker = new PatternTracker(config);
  for (const dir of ["a", "b"]) {
    Deno.mkdirSync(`${base}/${dir}`);
    Deno.writeTextFileSync(`${base}/${dir}/app.py`, "x = 1\ny = 2\n");
    await tracker.trackCreation("x = 1\ny = 2\n", { filePath: `${base}/${dir}/app.py` });
  }
  await tracker.trackCreation("z = 3\n", { filePath: `${base}/a/only.py`, toolUseId: "toolu_z" });
  tracker.close();
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: base,
    ...denoDirEnv(),
    PATTERN_TRACKER_DATA_DIR: data,
    PATTERN_TRACKER_AUTO_FLUSH: "false",
    PATTERN_TRACKER_STORE_CODE: String(storeCode),
  };
  return { base, env, session: tracker.sessionId };
}

function assertOneLine(r: { code: number; stderr: string }, code: number, pattern: RegExp) {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
}

Deno.test("blame and stats from the command line: output, and each failure in one line", async () => {
  const { base, env, session } = await world();
  try {
    const ok = await runCli(["blame", "only.py"], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /1 line: 1 ai · not on disk: the last tracked version/);
    assert.match(ok.stdout, /^1 {2}ai {2}v1 {2}Write {2}toolu_z │ z = 3$/m);
    assertOneLine(await runCli(["blame"], env), 2, /blame takes one file/);
    assertOneLine(await runCli(["blame", "a", "b"], env), 2, /blame takes one file/);
    assertOneLine(await runCli(["blame", "x.py", "--all"], env), 2, /Unknown option '--all'/);
    assertOneLine(await runCli(["blame", "nope.py"], env), 1, /no tracked file matches "nope\.py"/);
    const several = await runCli(["blame", "app.py"], env);
    assert.equal(several.code, 1);
    assert.match(several.stderr, /^error: "app\.py" matches 2 tracked files; be more specific:\n/);
    assert.ok(several.stderr.includes(`${base}/a/app.py`));
    const stats = await runCli(["stats", "--session", session, "--json"], env);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(JSON.parse(stats.stdout).totals.lines_written, 5);
    assertOneLine(await runCli(["stats", "--session", "s", "--file", "f"], env), 2, /not both/);
    assertOneLine(await runCli(["stats", "--session", "nobody"], env), 1, /no session "nobody"/);
    assertOneLine(await runCli(["stats", "--file", "nope.py"], env), 1, /no tracked file/);
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});

Deno.test("blame of a file recorded with store_code: false says why it cannot, in one line", async () => {
  const { base, env } = await world(false);
  try {
    assertOneLine(
      await runCli(["blame", "only.py"], env),
      1,
      /the code of v1 of .*only\.py is not kept \(store_code was off when it was recorded\)/,
    );
    const stats = await runCli(["stats", "--json"], env);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(JSON.parse(stats.stdout).totals.files_without_code, 3);
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});
