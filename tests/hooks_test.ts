/**
 * The hooks as Claude Code runs them: the exact command lines `install` writes (least-privilege
 * flags, through `sh -c`), on real payloads, on malformed input, and 16 at once. Plus the CLI.
 */
import assert from "node:assert/strict";
import { patternId } from "../src/record/pattern.ts";
import { openStore } from "../src/store/mod.ts";
import {
  hookWorld,
  runCli,
  runHookProcess,
  SESSION_FIXTURES,
  vanishableDeno,
  waitUntil,
} from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const FIXTURES = [...SESSION_FIXTURES, "09-sessionend"];

function logRecords(dataDir: string): Record<string, unknown>[] {
  try {
    return Deno.readTextFileSync(`${dataDir}/pattern-tracker.log.jsonl`).trim().split("\n").filter(
      Boolean,
    ).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

Deno.test("every real payload: exit 0, empty stdout, and the store holds the session's lineage", async () => {
  const { dataDir, commands, env } = hookWorld();
  for (const name of FIXTURES) {
    const payload = Deno.readFileSync(`${ROOT}/src/cli/demo_session/${name}.json`);
    const r = await runHookProcess(
      name.includes("pre") ? commands.pre : commands.post,
      env,
      payload,
    );
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, "", name);
    assert.equal(r.stderr, "", name);
  }
  const store = openStore(dataDir);
  const history = store.fileHistory("/home/dev/project/app.py");
  const session = JSON.parse(
    Deno.readTextFileSync(`${ROOT}/src/cli/demo_session/02-post-write.json`),
  )
    .session_id as string;
  const executions = ["toolu_01", "toolu_02", "toolu_03", "toolu_04"].map((id) =>
    store.execution(session, id)
  );
  store.close();
  const contents = [
    "def add(a, b):\n    return a + b\n",
    "def add(a, b):\n    return a + b  # sum\n",
    "def add(a: int, b: int) -> int:\n    return a + b\n",
    "def add(a: float, b: float) -> float:\n    return a + b\n",
  ];
  const ids = await Promise.all(contents.map(patternId));
  assert.deepEqual(history.map((v) => v.patternId), ids);
  assert.deepEqual(history.map((v) => v.parentPatternId), [null, ids[0], ids[1], ids[2]]);
  for (const e of executions) {
    assert.ok(e?.startedAt && e.finishedAt, "pre recorded the intent, post the outcome");
    assert.equal(e.success, true);
  }
  assert.deepEqual(executions.map((e) => e?.durationMs), [11, 5, 3, 3]);
  assert.equal(logRecords(dataDir).filter((r) => r.level === "error").length, 0);
});

Deno.test("malformed input: exit 0, empty stdout, and a log line that names the problem", async () => {
  const { dataDir, commands, env } = hookWorld();
  const big = new TextEncoder().encode(JSON.stringify({
    hook_event_name: "PostToolUse",
    tool_name: "Write",
    tool_use_id: "toolu_big",
    tool_input: { file_path: "/p/big.txt", content: "x".repeat(20 * 1024 * 1024) },
    tool_response: {
      type: "create",
      content: "x".repeat(20 * 1024 * 1024),
      originalFile: null,
      structuredPatch: [],
    },
  }));
  const cases: [string, Uint8Array, RegExp | null][] = [
    ["empty", new Uint8Array(), /empty payload/],
    ["not JSON", new TextEncoder().encode("hello"), /not JSON/],
    ["binary", crypto.getRandomValues(new Uint8Array(4096)), /not JSON/],
    ["array", new TextEncoder().encode("[]"), /JSON object/],
    [
      "wrong shape",
      new TextEncoder().encode(
        JSON.stringify({
          hook_event_name: "PostToolUse",
          tool_name: "Edit",
          tool_use_id: "t",
          tool_input: [],
        }),
      ),
      /tool_input must be an object/,
    ],
    ["a 40 MB Write", big, null],
  ];
  for (const [label, input, logged] of cases) {
    const before = logRecords(dataDir).length;
    const r = await runHookProcess(commands.post, env, input);
    assert.equal(r.code, 0, label);
    assert.equal(r.stdout, "", label);
    const added = logRecords(dataDir).slice(before);
    if (logged) {
      assert.ok(
        added.some((l) => l.level === "error" && logged.test(String(l.error))),
        `${label}: ${JSON.stringify(added)}`,
      );
    } else {
      assert.equal(added.filter((l) => l.level === "error").length, 0, label);
    }
  }
  const store = openStore(dataDir);
  const big40 = store.fileHistory("/p/big.txt");
  store.close();
  assert.equal(big40.length, 1, "the large Write was recorded");
});

Deno.test("an unwritable data directory or a broken config never breaks Claude: exit 0, empty stdout", async () => {
  const { dataDir, commands, env } = hookWorld();
  Deno.writeTextFileSync(`${dataDir}/config.yaml`, "enabled: [unclosed\n");
  const payload = Deno.readFileSync(`${ROOT}/src/cli/demo_session/02-post-write.json`);
  const r1 = await runHookProcess(commands.post, env, payload);
  assert.equal(r1.code, 0);
  assert.equal(r1.stdout, "");
  assert.ok(
    logRecords(dataDir).some((l) =>
      l.event === "config_invalid" && /not valid YAML/.test(String(l.reason))
    ),
  );
  // Permissions deny writing elsewhere: point the data dir outside the granted one.
  const r2 = await runHookProcess(commands.post, {
    ...env,
    PATTERN_TRACKER_DATA_DIR: "/proc/forbidden",
  }, payload);
  assert.equal(r2.code, 0);
  assert.equal(r2.stdout, "");
});

Deno.test("16 hook processes at once lose nothing; the same payload 16 times records once", async () => {
  const { dataDir, commands, env } = hookWorld();
  const template = JSON.parse(
    Deno.readTextFileSync(`${ROOT}/src/cli/demo_session/02-post-write.json`),
  );
  const distinct = Array.from({ length: 16 }, (_, i) => {
    const content = `value_${i} = ${i}\n`;
    return {
      ...template,
      tool_use_id: `toolu_p${i}`,
      tool_input: { file_path: `/project/f${i}.py`, content },
      tool_response: { ...template.tool_response, filePath: `/project/f${i}.py`, content },
    };
  });
  const results = await Promise.all(
    distinct.map((p) =>
      runHookProcess(commands.post, env, new TextEncoder().encode(JSON.stringify(p)))
    ),
  );
  assert.ok(results.every((r) => r.code === 0 && r.stdout === ""));
  const same = new TextEncoder().encode(
    JSON.stringify({
      ...distinct[0],
      tool_use_id: "toolu_same",
      tool_input: { file_path: "/project/same.py", content: "s = 1\n" },
      tool_response: {
        ...template.tool_response,
        filePath: "/project/same.py",
        content: "s = 1\n",
      },
    }),
  );
  const dupes = await Promise.all(
    Array.from({ length: 16 }, () => runHookProcess(commands.post, env, same)),
  );
  assert.ok(dupes.every((r) => r.code === 0 && r.stdout === ""));
  const store = openStore(dataDir);
  const c = store.counts();
  store.close();
  assert.equal(c.versions, 17);
  assert.equal(c.executions, 17);
  assert.equal(c.outbox, 17);
  assert.equal(c.patterns, 17);
  assert.equal(
    logRecords(dataDir).filter((l) => l.level === "error").length,
    0,
    JSON.stringify(logRecords(dataDir)),
  );
});

/** The captured session recorded once through the hooks, for the CLI tests that read it. */
let recorded: Promise<ReturnType<typeof hookWorld>> | null = null;
function recordedSession(): Promise<ReturnType<typeof hookWorld>> {
  recorded ??= (async () => {
    const world = hookWorld();
    for (const name of FIXTURES) {
      await runHookProcess(
        name.includes("pre") ? world.commands.pre : world.commands.post,
        world.env,
        Deno.readFileSync(`${ROOT}/src/cli/demo_session/${name}.json`),
      );
    }
    return world;
  })();
  return recorded;
}

/** The file the captured session writes. */
const SESSION_FILE = "/home/dev/project/app.py";

Deno.test("CLI lineage of a full path as JSON: the session's four versions", async () => {
  const { env } = await recordedSession();
  const json = JSON.parse((await runCli(["lineage", SESSION_FILE, "--json"], env)).stdout);
  assert.equal(json.versions.length, 4);
  assert.deepEqual(json.versions.map((v: { version: number }) => v.version), [1, 2, 3, 4]);
});

Deno.test("CLI lineage of a file name finds the tracked file", async () => {
  const { env } = await recordedSession();
  const byName = await runCli(["lineage", "app.py"], env);
  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, /^\/home\/dev\/project\/app\.py {2}\(4 versions\)$/m);
});

Deno.test("CLI lineage of a pattern ID prefix: the ancestry holds every earlier version", async () => {
  const { env } = await recordedSession();
  const json = JSON.parse((await runCli(["lineage", SESSION_FILE, "--json"], env)).stdout);
  const last = json.versions[3].pattern_id as string;
  const ancestry = await runCli(["lineage", last.slice(0, 8)], env);
  assert.equal(ancestry.code, 0, ancestry.stderr);
  for (const v of json.versions.slice(0, 3)) {
    assert.ok(ancestry.stdout.includes(v.pattern_id), "every ancestor is in the tree");
  }
  const ancestryJson = JSON.parse((await runCli(["lineage", last, "--json"], env)).stdout);
  assert.equal(ancestryJson.ancestry.length, 3);
});

Deno.test("CLI lineage of something never tracked: exit 1 and a line that says so", async () => {
  const { env } = await recordedSession();
  const unknown = await runCli(["lineage", "nothing.rs"], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no tracked file or pattern matches "nothing.rs"/);
});

Deno.test("CLI status --json counts the session's versions and outbox, in its data directory", async () => {
  const { env, dataDir } = await recordedSession();
  const status = JSON.parse((await runCli(["status", "--json"], env)).stdout);
  assert.equal(status.counts.versions, 4);
  assert.equal(status.counts.outbox, 4);
  assert.equal(status.data_dir, dataDir);
});

Deno.test("CLI selftest: the pattern ID of the design card's sample, by the design card's rule", async () => {
  const { env } = await recordedSession();
  // The rule: the first 16 hex of SHA-256 of the code's UTF-8 bytes (line endings read as LF).
  const sample = 'def hello():\n    print("world")';
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sample)),
  );
  const expected = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
  assert.equal(expected, "3d73da5b43ce076f", "the design card's documented example");
  const selftest = await runCli(["selftest"], {
    ...env,
    PATTERN_TRACKER_INTELLIGENCE_URL: "http://127.0.0.1:9",
  });
  assert.match(selftest.stdout, new RegExp(`Pattern ID: ${expected} \\(expected ${expected}\\)`));
  assert.match(selftest.stdout, /Same instance: True/);
  // Every check but the hook bundle's (which depends on build/, not on this store) passes.
  const failed = selftest.stdout.split("\n").filter((l) => l.startsWith("✗"));
  assert.deepEqual(failed.filter((l) => !l.startsWith("✗ Hook bundle")), [], selftest.stdout);
});

Deno.test("CLI help lists the commands; an unknown command is exit 2 with its name", async () => {
  const { env } = await recordedSession();
  assert.match((await runCli(["help"], env)).stdout, /Usage: tracker.ts/);
  const bad = await runCli(["frobnicate"], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
});

Deno.test("CLI install/uninstall: backup, idempotent, only ours removed, broken settings left untouched", async () => {
  const { dataDir, env } = hookWorld({ env: { PATTERN_TRACKER_DENO: vanishableDeno() } });
  const settings = `${dataDir}/settings.json`;
  Deno.writeTextFileSync(
    settings,
    JSON.stringify({
      model: "opus",
      hooks: { Stop: [{ hooks: [{ type: "command", command: "say done" }] }] },
    }),
  );
  const first = await runCli(["install", "--settings", settings], env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /backup: .*settings\.json\.bak-/);
  const installed = JSON.parse(Deno.readTextFileSync(settings));
  assert.equal(installed.model, "opus");
  assert.ok(
    installed.hooks.Stop && installed.hooks.PreToolUse && installed.hooks.PostToolUse &&
      installed.hooks.PostToolUseFailure,
  );
  // Bundled hooks by default; where the bundler cannot run, install says so and uses the scripts.
  const postCommand = () =>
    JSON.parse(Deno.readTextFileSync(settings)).hooks.PostToolUse[0].hooks[0].command as string;
  if (/hooks were not bundled/.test(first.stderr)) assert.match(postCommand(), /post_hook\.ts'$/);
  else assert.match(postCommand(), /\/build\/post_hook\.js'$/);
  const second = await runCli(["install", "--settings", settings], env);
  assert.match(second.stdout, /Already installed/);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(settings)), installed);
  // --no-bundle replaces our entries with the scripts (no duplicates), and back again.
  const scripts = await runCli(["install", "--no-bundle", "--settings", settings], env);
  assert.equal(scripts.code, 0, scripts.stderr);
  assert.match(postCommand(), /\/post_hook\.ts'$/);
  assert.equal(JSON.parse(Deno.readTextFileSync(settings)).hooks.PostToolUse[0].hooks.length, 1);
  assert.equal((await runCli(["install", "--settings", settings], env)).code, 0);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(settings)), installed);
  const removed = await runCli(["uninstall", "--settings", settings], env);
  assert.equal(removed.code, 0);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(settings)), {
    model: "opus",
    hooks: { Stop: [{ hooks: [{ type: "command", command: "say done" }] }] },
  });
  Deno.writeTextFileSync(settings, "{ not json");
  const broken = await runCli(["install", "--settings", settings], env);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /not valid JSON.*Nothing was changed/);
  assert.equal(Deno.readTextFileSync(settings), "{ not json");
});

Deno.test("demo replays the bundled session through the hooks and prints four versions", async () => {
  const out = await runCli(["demo"], {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.makeTempDirSync(),
  });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /9 hook runs, all exit 0 with empty stdout/);
  assert.match(out.stdout, /\(4 versions\)/);
  assert.ok(
    out.stdout.includes("v4  6f70a39026fa4c07  modified from b414e3e8a1cc84d0"),
    out.stdout,
  );
});

Deno.test("hooks keep the WAL short: with auto-flush off they truncate it themselves, with it on the flusher's close empties it", async () => {
  for (const autoFlush of ["false", "true"]) {
    const { dataDir, commands, env } = hookWorld({
      env: {
        PATTERN_TRACKER_AUTO_FLUSH: autoFlush,
        PATTERN_TRACKER_INTELLIGENCE_URL: "http://127.0.0.1:9",
      },
    });
    const template = JSON.parse(
      Deno.readTextFileSync(`${ROOT}/src/cli/demo_session/02-post-write.json`),
    );
    const sizes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const content = `# file ${i}\n${"x = 'some code on a line of its own'\n".repeat(500)}`;
      const payload = {
        ...template,
        tool_use_id: `toolu_wal${i}`,
        tool_input: { file_path: `/project/w${i}.py`, content },
        tool_response: { ...template.tool_response, filePath: `/project/w${i}.py`, content },
      };
      const r = await runHookProcess(
        commands.post,
        env,
        new TextEncoder().encode(JSON.stringify(payload)),
      );
      assert.equal(r.code, 0);
      try {
        sizes.push(Deno.statSync(`${dataDir}/patterns.db-wal`).size);
      } catch {
        sizes.push(0);
      }
    }
    // Each hook adds about 80 KiB here: 30 of them made about 2.4 MiB without the upkeep.
    assert.ok(
      Math.max(...sizes) < 1.5 * 1024 * 1024,
      `auto_flush ${autoFlush}: ${sizes.join(", ")}`,
    );
    assert.ok(sizes.some((s, i) => i > 0 && s < (sizes[i - 1] ?? 0)), "it was emptied");
    await waitUntil(() => {
      try {
        const lock = Deno.openSync(`${dataDir}/flusher.lock`, { read: true, write: true });
        try {
          return lock.tryLockSync(true);
        } finally {
          lock.close();
        }
      } catch {
        return true;
      }
    }, 30_000);
    const store = openStore(dataDir);
    const versions = store.counts().versions;
    store.close();
    assert.equal(versions, 30, "nothing lost");
  }
});
