/**
 * Every CLI failure is one line on stderr (what failed, why, what to do) with a non-zero exit code,
 * never a stack trace: bad options, malformed settings.json, a corrupt or unusable store, a
 * read-only directory, a permission Deno did not grant. Each case runs the real CLI process.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { CliError, describeError } from "../src/cli/errors.ts";
import { shellQuote } from "../src/cli/install.ts";
import { denoDirEnv, runCli, runHookProcess, vanishableDeno } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** A temporary HOME and data directory, and the CLI's environment for them. */
function world() {
  const base = Deno.makeTempDirSync({ prefix: "pt-cli-errors-" });
  const data = `${base}/data`;
  Deno.mkdirSync(data);
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: base,
    PATTERN_TRACKER_DATA_DIR: data,
    PATTERN_TRACKER_AUTO_FLUSH: "false",
    PATTERN_TRACKER_INTELLIGENCE_URL: "http://127.0.0.1:9",
    ...denoDirEnv(),
  };
  return { base, data, env };
}

/** A failure as the user must see it: the exit code, one `error:` line, no stack. */
function assertOneLine(
  r: { code: number; stdout: string; stderr: string },
  code: number,
  pattern: RegExp,
) {
  const lines = r.stderr.trim().split("\n");
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  assert.equal(lines.length, 1, `one line:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assertNoStack(r.stderr);
}

function assertNoStack(stderr: string) {
  assert.ok(!/Uncaught|^\s+at /m.test(stderr), `no stack trace:\n${stderr}`);
}

Deno.test("unknown options and arguments are usage errors (exit 2), found by parseArgs' error codes", async () => {
  const { env } = world();
  assertOneLine(
    await runCli(["status", "--frobnicate"], env),
    2,
    /Unknown option '--frobnicate' for status\. Run "tracker\.ts help"/,
  );
  assertOneLine(await runCli(["status", "extra"], env), 2, /Unexpected argument 'extra'/);
  assertOneLine(
    await runCli(["install", "--settings"], env),
    2,
    /--settings <value>' argument missing for install/,
  );
  assertOneLine(await runCli(["frobnicate"], env), 2, /unknown command "frobnicate"/);
});

Deno.test("malformed settings.json: install and uninstall refuse it in one line and change nothing", async () => {
  const { base, env } = world();
  const settings = `${base}/settings.json`;
  Deno.writeTextFileSync(settings, "{ not json");
  for (const command of ["install", "uninstall"]) {
    assertOneLine(
      await runCli([command, "--settings", settings], env),
      1,
      /settings\.json is not valid JSON .*Nothing was changed/,
    );
  }
  assert.equal(Deno.readTextFileSync(settings), "{ not json");
  assert.deepEqual([...Deno.readDirSync(base)].map((e) => e.name).sort(), [
    "data",
    "settings.json",
  ]);
});

Deno.test("a corrupt store: no stack trace from status, lineage or flush; a failure is one line", async () => {
  const { data, env } = world();
  Deno.writeTextFileSync(`${data}/patterns.db`, "not a database ".repeat(500));
  for (const args of [["status"], ["lineage", "app.py"], ["flush"]]) {
    const r = await runCli(args, env);
    assertNoStack(r.stderr);
    // Recovery may turn this into a success; a failure must still be one line.
    if (r.code !== 0) assertOneLine(r, r.code, /store|database/);
  }
});

Deno.test("a data directory that cannot be one (a file) and an empty store: one line each", async () => {
  const { base, env } = world();
  Deno.writeTextFileSync(`${base}/file`, "");
  assertOneLine(
    await runCli(["status"], { ...env, PATTERN_TRACKER_DATA_DIR: `${base}/file` }),
    1,
    /Not a directory.*Check the path/,
  );
  assertOneLine(
    await runCli(["lineage", "app.py"], env),
    1,
    /no tracked file or pattern matches "app\.py"/,
  );
});

Deno.test("a permission Deno did not grant: one line that says how to run the CLI", async () => {
  const { env } = world();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `${ROOT}/tracker.ts`, "status"],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertOneLine(
    {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    },
    1,
    /Deno did not grant status a permission it needs \(Requires .* access.*deno task tracker status/,
  );
});

/** Why a read-only mount cannot be made here (a private mount namespace needs CAP_SYS_ADMIN). */
const readOnlySkip = await (async () => {
  try {
    const dir = Deno.makeTempDirSync();
    const out = await new Deno.Command("unshare", {
      args: [
        "-m",
        "sh",
        "-c",
        `mount --bind ${dir} ${dir} && mount -o remount,ro,bind ${dir} ${dir} && ! touch ${dir}/x 2>/dev/null`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success ? null : "cannot mount read-only here (unshare -m needs CAP_SYS_ADMIN)";
  } catch (error) {
    return `unshare is not available (${(error as Error).message})`;
  }
})();
if (readOnlySkip) console.log(`read-only directory test skipped: ${readOnlySkip}`);

/** Runs the CLI with `dir` mounted read-only (root is not stopped by file modes). */
async function runCliReadOnly(dir: string, args: string[], env: Record<string, string>) {
  const cli = [Deno.execPath(), "run", "-A", `${ROOT}/tracker.ts`, ...args].map(shellQuote).join(
    " ",
  );
  const d = shellQuote(dir);
  return await runHookProcess(
    `unshare -m sh -c ${
      shellQuote(`mount --bind ${d} ${d} && mount -o remount,ro,bind ${d} ${d} && exec ${cli}`)
    }`,
    env,
    new Uint8Array(),
  );
}

Deno.test({
  name:
    "a read-only directory: install refuses in one line and leaves nothing; status prints no stack",
  ignore: readOnlySkip !== null,
  async fn() {
    const { base, data, env } = world();
    const claude = `${base}/claude`;
    Deno.mkdirSync(claude);
    Deno.writeTextFileSync(`${claude}/settings.json`, '{"model":"opus"}');
    const installEnv = { ...env, PATTERN_TRACKER_DENO: vanishableDeno() };
    const r = await runCliReadOnly(
      claude,
      ["install", "--no-bundle", "--settings", `${claude}/settings.json`],
      installEnv,
    );
    assertOneLine(
      r,
      1,
      /cannot write .*settings\.json\.bak-.*Read-only file system.*Nothing was changed/,
    );
    assert.deepEqual([...Deno.readDirSync(claude)].map((e) => e.name), ["settings.json"]);
    assert.equal(Deno.readTextFileSync(`${claude}/settings.json`), '{"model":"opus"}');

    // A store whose directory turned read-only.
    assert.equal((await runCli(["lineage", "x"], env)).code, 1); // creates the store
    const status = await runCliReadOnly(data, ["status"], env);
    assertNoStack(status.stderr);
    if (status.code !== 0) {
      assertOneLine(status, status.code, /data directory must exist and be writable|Read-only/);
    }
  },
});

Deno.test("an error nobody expected: its first line on stderr, its stack in the JSON-lines log", async () => {
  const { data, env } = world();
  const script = `${Deno.makeTempDirSync()}/boom.ts`;
  Deno.writeTextFileSync(
    script,
    `import { reportError } from ${JSON.stringify(`${ROOT}/src/cli/main.ts`)};
     Deno.exit(await reportError(new RangeError("boom\\nsecond line"), "status"));`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertOneLine(
    { code: out.code, stdout: "", stderr },
    1,
    new RegExp(
      `unexpected RangeError: boom\\. Its stack is in ${data}/pattern-tracker\\.log\\.jsonl`,
    ),
  );
  const logged = Deno.readTextFileSync(`${data}/pattern-tracker.log.jsonl`).trim().split("\n")
    .map((l) => JSON.parse(l)).find((l) => l.event === "cli_error");
  assert.equal(logged?.command, "status");
  assert.match(String(logged?.stack), /RangeError: boom\nsecond line\n\s+at /);
});

Deno.test("describeError: each kind of failure maps to its line and exit code", () => {
  const ambiguous = new CliError(
    '"app" matches 2 entries; be more specific:\n  /a/app.py\n  /b/app.py',
  );
  assert.equal(describeError(ambiguous).message, ambiguous.message, "a command's list stays whole");
  const garbage = `${Deno.makeTempDirSync()}/patterns.db`;
  Deno.writeTextFileSync(garbage, "not a database ".repeat(500));
  let sqliteError: unknown;
  try {
    new DatabaseSync(garbage).exec("PRAGMA user_version");
  } catch (error) {
    sqliteError = error;
  }
  assert.deepEqual(
    { ...describeError(sqliteError), message: undefined },
    { message: undefined, exitCode: 1, unexpected: false },
  );
  assert.match(
    describeError(sqliteError).message,
    /^the SQLite store failed: file is not a database/,
  );
  const typed = Object.assign(new Error("the store at /d is corrupt; moved aside"), {
    exitCode: 3,
  });
  assert.deepEqual(describeError(typed), {
    message: "the store at /d is corrupt; moved aside",
    exitCode: 3,
    unexpected: false,
  });
  assert.deepEqual(describeError(new TypeError("x is not a function\n    at y")), {
    message: "unexpected TypeError: x is not a function.",
    exitCode: 1,
    unexpected: true,
  });
});
