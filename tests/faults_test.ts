/**
 * Faults injected under the real hook processes (the command lines `install` writes, through
 * `sh -c`): a store locked by another process for 15 s, garbage in the database's header, damage in
 * its data pages, a read-only and a full data directory, a journal nothing can take, symlinks where
 * the log, the database or the journal should be, loose modes, and tool_use IDs that repeat across
 * sessions. Each time: exit 0, empty stdout, nothing lost that a journal could hold, and `status`
 * says what happened.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { journalFallbackDir } from "../src/record/journal.ts";
import { patternId } from "../src/record/pattern.ts";
import { openStore } from "../src/store/mod.ts";
import { hookCommands } from "../src/cli/install.ts";
import { denoDirEnv, hookWorld, runCli, runHookProcess, waitUntil } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const fixture = (name: string) => Deno.readFileSync(`${ROOT}/src/cli/demo_session/${name}.json`);
const encode = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

/** A PostToolUse of a Write creating `file` (the captured payload's shape). */
function postWrite(session: string, id: string, file: string, content: string): Uint8Array {
  return encode({
    session_id: session,
    transcript_path: "/tmp/t.jsonl",
    cwd: "/project",
    hook_event_name: "PostToolUse",
    tool_name: "Write",
    tool_use_id: id,
    tool_input: { file_path: file, content },
    tool_response: {
      type: "create",
      filePath: file,
      content,
      structuredPatch: [],
      originalFile: null,
    },
    duration_ms: 7,
  });
}

/** A PreToolUse of the same Write. */
function preWrite(session: string, id: string, file: string, content: string): Uint8Array {
  return encode({
    session_id: session,
    cwd: "/project",
    hook_event_name: "PreToolUse",
    tool_name: "Write",
    tool_use_id: id,
    tool_input: { file_path: file, content },
  });
}

function logRecords(dataDir: string): Record<string, unknown>[] {
  try {
    return Deno.readTextFileSync(`${dataDir}/pattern-tracker.log.jsonl`).trim().split("\n")
      .filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** Versions of a file, read with node:sqlite directly (works while another process holds the lock). */
function versionsOf(dataDir: string, file: string): { version: number; pattern_id: string }[] {
  const db = new DatabaseSync(`${dataDir}/patterns.db`, { readOnly: true });
  try {
    return db.prepare(
      "SELECT version, pattern_id FROM file_versions WHERE file_path = ? ORDER BY version",
    ).all(file) as { version: number; pattern_id: string }[];
  } finally {
    db.close();
  }
}

/** Another process holding the store's write lock (`BEGIN IMMEDIATE`) for `ms`, like a sqlite3 shell. */
async function holdWriteLock(dbPath: string, ms: number): Promise<{ done: Promise<void> }> {
  const script = `import { DatabaseSync } from "node:sqlite";
    const db = new DatabaseSync(Deno.args[0]);
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("BEGIN IMMEDIATE");
    console.log("locked");
    await new Promise((r) => setTimeout(r, Number(Deno.args[1])));
    db.exec("COMMIT");
    db.close();`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script, dbPath, String(ms)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /locked/, "the holder took the lock");
  reader.releaseLock();
  return { done: child.output().then(() => {}) };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await f();
  return [value, performance.now() - started];
}

/** Waits until no background flusher holds the data directory's lock (it lingers after a burst). */
async function flushersGone(dataDir: string): Promise<void> {
  await waitUntil(() => {
    try {
      const file = Deno.openSync(`${dataDir}/flusher.lock`, { read: true, write: true });
      try {
        return file.tryLockSync(true);
      } finally {
        file.close();
      }
    } catch {
      return true;
    }
  }, 30_000);
}

Deno.test({
  name:
    "a store locked by another process for 15 s costs each hook well under a second; the edits appear once the lock is gone",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { dataDir, commands, env: base } = hookWorld();
    // Auto-flush on: the hook that spilled starts the flusher, which replays once the lock is gone.
    const env = {
      ...base,
      PATTERN_TRACKER_AUTO_FLUSH: "true",
      PATTERN_TRACKER_INTELLIGENCE_URL: "http://127.0.0.1:9",
    };
    for (const name of ["01-pre-write", "02-post-write"]) {
      const r = await runHookProcess(
        name.includes("pre") ? commands.pre : commands.post,
        base,
        fixture(name),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    // Unlocked, the same kind of run, for the comparison.
    const normal: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [r, ms] = await timed(() =>
        runHookProcess(commands.pre, env, preWrite("s", `toolu_n${i}`, `/project/n${i}.py`, "n\n"))
      );
      assert.equal(r.code, 0);
      normal.push(ms);
    }
    const lock = await holdWriteLock(`${dataDir}/patterns.db`, 15_000);
    const locked: number[] = [];
    for (const name of ["03-pre-edit", "04-post-edit"]) {
      const [r, ms] = await timed(() =>
        runHookProcess(name.includes("pre") ? commands.pre : commands.post, env, fixture(name))
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, "");
      locked.push(ms);
    }
    // The wait is 250 ms (store_wait_ms); the old busy timeout made each hook wait 10 s.
    for (const ms of locked) {
      assert.ok(ms < Math.max(...normal) + 750, `locked ${locked} vs unlocked ${normal} ms`);
      assert.ok(ms < 2000, `a locked hook took ${ms} ms`);
    }
    assert.equal(versionsOf(dataDir, "/home/dev/project/app.py").length, 1, "not in the store yet");
    const spilled = logRecords(dataDir).filter((l) => l.event === "record_spilled");
    assert.equal(spilled.length, 2);
    assert.ok(spilled.every((l) => l.kind === "locked"), JSON.stringify(spilled));
    const waiting = JSON.parse((await runCli(["status", "--json"], { ...env })).stdout);
    // status waits for the lock (10 s) and may replay; either way nothing is lost.
    assert.equal(waiting.journal.lost, 0);
    await lock.done;
    const edited = await patternId("def add(a, b):\n    return a + b  # sum\n");
    assert.ok(
      await waitUntil(
        () => versionsOf(dataDir, "/home/dev/project/app.py").some((v) => v.pattern_id === edited),
        30_000,
      ),
      `the flusher replayed the spilled edit once the lock was gone: ${
        JSON.stringify(logRecords(dataDir))
      } ${[...Deno.readDirSync(dataDir)].map((e) => e.name)}`,
    );
    await flushersGone(dataDir);
    const store = openStore(dataDir);
    const history = store.fileHistory("/home/dev/project/app.py");
    const execution = store.execution("af2cdfc9-1bcb-47b9-b28b-eaafcd5d7a37", "toolu_02");
    const replays = store.replaySummary();
    store.close();
    assert.equal(history.length, 2, "once, not twice");
    assert.equal(history[1]?.toolName, "Edit");
    assert.ok(execution?.startedAt && execution.finishedAt, "the spilled intent and outcome met");
    assert.equal(execution?.durationMs, 5);
    assert.equal(replays.replayed, 2);
    const status = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    assert.equal(status.journal.waiting, 0);
    assert.equal(status.journal.replayed, 2);
    assert.match(status.journal.last_reason, /database is locked/);
  },
});

Deno.test("garbage in the database header: moved aside, the next edits are recorded, status explains, recover salvages", async () => {
  const { dataDir, commands, env } = hookWorld();
  for (const name of ["01-pre-write", "02-post-write"]) {
    await runHookProcess(name.includes("pre") ? commands.pre : commands.post, env, fixture(name));
  }
  // A command closes the store: the WAL goes into the file, so the garbage is not masked by it.
  assert.equal((await runCli(["status"], env)).code, 0);
  const file = Deno.openSync(`${dataDir}/patterns.db`, { write: true });
  file.writeSync(new TextEncoder().encode("garbage, not a SQLite header at all.............."));
  file.close();
  for (const name of ["03-pre-edit", "04-post-edit"]) {
    const r = await runHookProcess(
      name.includes("pre") ? commands.pre : commands.post,
      env,
      fixture(name),
    );
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
  }
  const aside = [...Deno.readDirSync(dataDir)].map((e) => e.name).filter((n) =>
    /^patterns\.db\.corrupt-\d{8}T\d{6}\.\d{3}Z$/.test(n)
  );
  assert.equal(aside.length, 1, "moved aside once, never deleted");
  const status = await runCli(["status"], env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /moved aside .*patterns\.db\.corrupt-.*file is not a database/);
  assert.match(status.stdout, /salvage its rows with: tracker\.ts recover /);
  assert.ok(!status.stderr.includes("Uncaught"));
  assert.ok(logRecords(dataDir).some((l) => l.event === "store_moved_aside"));
  // The edit after the damage is in the fresh store; recover brings back the version before it.
  const recovered = await runCli(["recover", `${dataDir}/${aside[0]}`], env);
  assert.equal(recovered.code, 0, recovered.stdout + recovered.stderr);
  assert.match(recovered.stdout, /rewritten header/);
  const lineage = JSON.parse((await runCli(["lineage", "app.py", "--json"], env)).stdout);
  assert.deepEqual(lineage.versions.map((v: { tool_name: string }) => v.tool_name), [
    "Write",
    "Edit",
  ]);
  const again = await runCli(["recover", `${dataDir}/${aside[0]}`, "--json"], env);
  assert.deepEqual(JSON.parse(again.stdout).added, {}, "a second recover adds nothing");
  const after = await runCli(["status"], env);
  assert.match(after.stdout, /recovered 20/);
});

Deno.test("damage in a data page: status's quick_check finds it, moves the store aside, recording goes on, recover copies every readable row", async () => {
  const { dataDir, commands, env } = hookWorld();
  const filler = "x".repeat(1500);
  const payloads = Array.from(
    { length: 120 },
    (_, i) => postWrite("s", `toolu_f${i}`, `/project/f${i}.py`, `# MARKER_${i}_END\n${filler}\n`),
  );
  // Many patterns quickly: the library shares the core with the hooks.
  const { PatternTracker } = await import("../src/api.ts");
  const { defaultConfig } = await import("../src/config/mod.ts");
  const tracker = new PatternTracker({ ...defaultConfig(dataDir), dataDir, autoFlush: false });
  for (let i = 0; i < payloads.length; i++) {
    await tracker.trackCreation(`# MARKER_${i}_END\n${filler}\n`, {
      filePath: `/project/f${i}.py`,
    });
  }
  tracker.close();
  assert.equal((await runCli(["status"], env)).code, 0); // checkpoints the WAL into the file
  const bytes = Deno.readFileSync(`${dataDir}/patterns.db`);
  const at = new TextDecoder("latin1").decode(bytes).indexOf("MARKER_60_END");
  assert.ok(at > 0);
  const page = Math.floor(at / 4096);
  const file = Deno.openSync(`${dataDir}/patterns.db`, { write: true });
  file.seekSync(page * 4096, Deno.SeekMode.Start);
  file.writeSync(crypto.getRandomValues(new Uint8Array(4096)));
  file.close();
  // Hooks go on (whether or not their own pages are the damaged one).
  const r = await runHookProcess(
    commands.post,
    env,
    postWrite("s", "toolu_after", "/project/after.py", "after = 1\n"),
  );
  assert.equal(r.code, 0);
  const status = await runCli(["status"], env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /moved aside/);
  assert.match(status.stdout, /tracker\.ts recover /);
  const r2 = await runHookProcess(
    commands.post,
    env,
    postWrite("s", "toolu_later", "/project/later.py", "later = 1\n"),
  );
  assert.equal(r2.code, 0);
  const aside = [...Deno.readDirSync(dataDir)].map((e) => e.name).find((n) =>
    /^patterns\.db\.corrupt-[^-]+$/.test(n)
  );
  assert.ok(aside);
  const recovered = await runCli(["recover", `${dataDir}/${aside}`, "--json"], env);
  const report = JSON.parse(recovered.stdout);
  assert.ok(report.read.patterns >= 110, `readable patterns: ${report.read.patterns}`);
  const store = openStore(dataDir);
  const files = new Set(store.trackedFiles({ limit: 1000 }));
  store.close();
  for (
    const f of ["/project/after.py", "/project/later.py", "/project/f0.py", "/project/f119.py"]
  ) {
    assert.ok(files.has(f), `${f} is in the store after recovery`);
  }
  assert.ok(files.size >= 112, `${files.size} files`);
  const again = JSON.parse(
    (await runCli(["recover", `${dataDir}/${aside}`, "--json"], env)).stdout,
  );
  assert.equal(again.added.patterns ?? 0, 0, "no duplicates");
  assert.equal(again.added.file_versions ?? 0, 0, "no duplicates");
});

/** True when this process may make mount namespaces and mounts (root on Linux, usually). */
function canMount(): string | null {
  try {
    const probe = new Deno.Command("unshare", {
      args: ["-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
    })
      .outputSync();
    return probe.success
      ? null
      : `unshare -m / mount failed: ${new TextDecoder().decode(probe.stderr)}`;
  } catch (error) {
    return `unshare is not available: ${(error as Error).message}`;
  }
}
const NO_MOUNT = canMount();
const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** A command run with `dir` bind-mounted read-only, in a mount namespace of its own. */
const readOnly = (dir: string, command: string) =>
  `unshare -m sh -c ${q(`mount --bind -o ro ${q(dir)} ${q(dir)} && exec sh -c ${q(command)}`)}`;

Deno.test({
  name:
    "a read-only data directory: the hooks spill to the fallback journal, status says so, the next writable hook replays in order",
  ignore: NO_MOUNT !== null,
  async fn() {
    const { dataDir, commands, env } = hookWorld();
    const fallback = journalFallbackDir(dataDir);
    for (const name of ["01-pre-write", "02-post-write"]) {
      await runHookProcess(name.includes("pre") ? commands.pre : commands.post, env, fixture(name));
    }
    for (const name of ["03-pre-edit", "04-post-edit"]) {
      const r = await runHookProcess(
        readOnly(dataDir, name.includes("pre") ? commands.pre : commands.post),
        env,
        fixture(name),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, "");
    }
    const journal = [...Deno.readDirSync(fallback)].map((e) => e.name);
    assert.ok(
      journal.some((n) => n.startsWith("spill-")),
      `fallback journal in ${fallback}: ${journal}`,
    );
    const text = journal.map((n) => Deno.readTextFileSync(`${fallback}/${n}`)).join("");
    assert.match(text, /readonly/);
    const status = await runHookProcess(
      readOnly(dataDir, `${q(Deno.execPath())} run -A ${q(`${ROOT}/tracker.ts`)} status`),
      env,
      new Uint8Array(),
    );
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /store +NOT WRITABLE NOW: .*readonly/);
    assert.match(status.stdout, /spill journal +2 waiting/);
    assert.equal(versionsOf(dataDir, "/home/dev/project/app.py").length, 1);
    // Writable again: the next hook replays the journal first, then records its own edit.
    for (const name of ["05-pre-write", "06-post-write"]) {
      const r = await runHookProcess(
        name.includes("pre") ? commands.pre : commands.post,
        env,
        fixture(name),
      );
      assert.equal(r.code, 0);
    }
    const ids = await Promise.all([
      "def add(a, b):\n    return a + b\n",
      "def add(a, b):\n    return a + b  # sum\n",
      "def add(a: int, b: int) -> int:\n    return a + b\n",
    ].map(patternId));
    assert.deepEqual(versionsOf(dataDir, "/home/dev/project/app.py").map((v) => v.pattern_id), ids);
    const after = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    assert.equal(after.journal.waiting, 0);
    assert.equal(after.journal.replayed, 2);
    assert.equal(after.journal.lost, 0);
  },
});

Deno.test({
  name:
    "a full disk: the reserve is released for the journal, nothing is lost, status says why, and the edit is replayed once there is room",
  ignore: NO_MOUNT !== null,
  sanitizeResources: false,
  async fn() {
    const dataDir = Deno.makeTempDirSync({ prefix: "pt-full-" });
    const mounted = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", dataDir],
    }).outputSync();
    assert.ok(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      const cmds = hookCommands({
        deno: Deno.execPath(),
        root: ROOT,
        dataDir,
        configPath: `${dataDir}/config.yaml`,
      });
      const fullEnv = {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: dataDir,
        PATTERN_TRACKER_DATA_DIR: dataDir,
        PATTERN_TRACKER_CONFIG: `${dataDir}/config.yaml`,
        PATTERN_TRACKER_AUTO_FLUSH: "false",
        ...denoDirEnv(),
      };
      let r = await runHookProcess(
        cmds.post,
        fullEnv,
        postWrite("s", "toolu_a", "/project/a.py", "a = 1\n"),
      );
      assert.equal(r.code, 0);
      assert.ok(
        Deno.statSync(`${dataDir}/spill-reserve`).size >= 1024 * 1024,
        "the reserve is made",
      );
      const fill = Deno.openSync(`${dataDir}/filler`, { write: true, create: true });
      try {
        for (;;) fill.writeSync(new Uint8Array(65536));
      } catch (error) {
        assert.match((error as Error).message, /No space left/);
      } finally {
        fill.close();
      }
      const big = Array.from({ length: 4000 }, (_, i) => `line_${i} = ${i}  # code\n`).join("");
      r = await runHookProcess(
        cmds.post,
        fullEnv,
        postWrite("s", "toolu_big", "/project/big.py", big),
      );
      assert.equal(r.code, 0);
      assert.equal(r.stdout, "");
      const spill = logRecords(dataDir).find((l) => l.event === "record_spilled");
      assert.equal(spill?.kind, "full", JSON.stringify(logRecords(dataDir)));
      assert.equal(spill?.released, "spill-reserve");
      assert.match(Deno.readTextFileSync(`${dataDir}/spill-journal.jsonl`), /toolu_big/);
      Deno.removeSync(`${dataDir}/filler`);
      r = await runHookProcess(
        cmds.post,
        fullEnv,
        postWrite("s", "toolu_c", "/project/c.py", "c = 3\n"),
      );
      assert.equal(r.code, 0);
      assert.equal(
        versionsOf(dataDir, "/project/big.py").length,
        1,
        "replayed once there was room",
      );
      const status = JSON.parse((await runCli(["status", "--json"], fullEnv)).stdout);
      assert.equal(status.journal.replayed, 1);
      assert.match(status.journal.last_reason, /database or disk is full/);
      assert.equal(status.journal.lost, 0);
      assert.ok(
        Deno.statSync(`${dataDir}/spill-reserve`).size >= 1024 * 1024,
        "the reserve is back",
      );
    } finally {
      new Deno.Command("umount", { args: ["-l", dataDir] }).outputSync();
    }
  },
});

Deno.test({
  name:
    "when no journal can take a record (read-only data dir, fallback taken by a file), the hook still exits 0 with empty stdout and says it was lost",
  ignore: NO_MOUNT !== null,
  async fn() {
    const { dataDir, commands, env } = hookWorld();
    await runHookProcess(commands.post, env, fixture("02-post-write"));
    const fallback = journalFallbackDir(dataDir);
    Deno.removeSync(fallback, { recursive: true });
    Deno.writeTextFileSync(fallback, "not a directory");
    try {
      const r = await runHookProcess(
        readOnly(dataDir, commands.post),
        env,
        fixture("04-post-edit"),
      );
      assert.equal(r.code, 0);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /pattern-tracker: a record was lost: .*readonly/);
    } finally {
      Deno.removeSync(fallback);
    }
  },
});

Deno.test("the hooks refuse to follow a symlink for the log, the database or the journal", async () => {
  const { dataDir, commands, env } = hookWorld();
  await runHookProcess(commands.post, env, fixture("02-post-write"));
  const outside = Deno.makeTempDirSync({ prefix: "pt-outside-" });
  // The log: a malformed payload is logged; the line must not land outside the data directory.
  Deno.writeTextFileSync(`${outside}/victim.log`, "");
  const log = `${dataDir}/pattern-tracker.log.jsonl`;
  try {
    Deno.removeSync(log);
  } catch { /* none yet */ }
  Deno.symlinkSync(`${outside}/victim.log`, log);
  let r = await runHookProcess(commands.post, env, new TextEncoder().encode("not json"));
  assert.equal(r.code, 0);
  assert.equal(
    Deno.readTextFileSync(`${outside}/victim.log`),
    "",
    "nothing appended through the link",
  );
  Deno.removeSync(log);
  // The database: a link to a store elsewhere is refused; the edit goes to the journal.
  assert.equal((await runCli(["status"], env)).code, 0);
  Deno.renameSync(`${dataDir}/patterns.db`, `${outside}/patterns.db`);
  for (const f of ["patterns.db-wal", "patterns.db-shm"]) {
    try {
      Deno.removeSync(`${dataDir}/${f}`);
    } catch { /* checkpointed away */ }
  }
  Deno.symlinkSync(`${outside}/patterns.db`, `${dataDir}/patterns.db`);
  const before = Deno.readFileSync(`${outside}/patterns.db`);
  r = await runHookProcess(commands.post, env, fixture("04-post-edit"));
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "");
  assert.deepEqual(
    Deno.readFileSync(`${outside}/patterns.db`),
    before,
    "the linked store is untouched",
  );
  const spilled = logRecords(dataDir).find((l) => l.event === "record_spilled");
  assert.equal(spilled?.kind, "symlink");
  // The journal: a link is refused too; the record goes to the fallback journal instead.
  Deno.writeTextFileSync(`${outside}/victim.jsonl`, "");
  Deno.renameSync(`${dataDir}/spill-journal.jsonl`, `${outside}/kept.jsonl`);
  Deno.symlinkSync(`${outside}/victim.jsonl`, `${dataDir}/spill-journal.jsonl`);
  r = await runHookProcess(commands.post, env, fixture("06-post-write"));
  assert.equal(r.code, 0);
  assert.equal(Deno.readTextFileSync(`${outside}/victim.jsonl`), "");
  const fallback = journalFallbackDir(dataDir);
  assert.match(Deno.readTextFileSync(`${fallback}/spill-journal.jsonl`), /toolu_03/);
  const status = await runCli(["status"], env);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /NOT WRITABLE NOW: .*symbolic link/);
  Deno.removeSync(fallback, { recursive: true });
});

Deno.test("the data directory is tightened to 0700 and the store's files to 0600 on every start", async () => {
  const { dataDir, commands, env } = hookWorld();
  await runHookProcess(commands.post, env, fixture("02-post-write"));
  Deno.chmodSync(dataDir, 0o777);
  for (const f of ["patterns.db", "patterns.db-wal", "patterns.db-shm"]) {
    Deno.chmodSync(`${dataDir}/${f}`, 0o644);
  }
  const r = await runHookProcess(commands.post, env, fixture("04-post-edit"));
  assert.equal(r.code, 0);
  assert.equal(Deno.statSync(dataDir).mode! & 0o777, 0o700);
  for (const f of ["patterns.db", "patterns.db-wal", "patterns.db-shm"]) {
    assert.equal(Deno.statSync(`${dataDir}/${f}`).mode! & 0o777, 0o600, f);
  }
});

Deno.test("tool_use IDs that repeat across sessions (and within one) lose nothing; a repeated delivery records once", async () => {
  const { dataDir, commands, env } = hookWorld();
  const run = async (payload: Uint8Array, hook: "pre" | "post") => {
    const r = await runHookProcess(hook === "pre" ? commands.pre : commands.post, env, payload);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
  };
  // Two sessions whose gateway numbers tool calls toolu_01, toolu_02, … from the start.
  for (const session of ["session-A", "session-B"]) {
    for (const [id, content] of [["toolu_01", "v = 1\n"], ["toolu_02", "v = 2\n"]]) {
      const file = `/project/${session}.py`;
      const body = `${session} ${content}`;
      await run(preWrite(session, id!, file, body), "pre");
      await run(postWrite(session, id!, file, body), "post");
    }
  }
  // The same PostToolUse delivered again: once.
  await run(
    postWrite("session-B", "toolu_02", "/project/session-B.py", "session-B v = 2\n"),
    "post",
  );
  // A gateway that restarts its numbering each turn: call_0 twice in one session, other content.
  await run(postWrite("session-A", "call_0", "/project/turns.py", "turn = 1\n"), "post");
  await run(postWrite("session-A", "call_0", "/project/turns.py", "turn = 2\n"), "post");
  const store = openStore(dataDir);
  try {
    assert.equal(store.fileHistory("/project/session-A.py").length, 2);
    assert.equal(store.fileHistory("/project/session-B.py").length, 2);
    assert.equal(store.fileHistory("/project/turns.py").length, 2, "a change is never dropped");
    assert.equal(store.executionsOfCall("session-B", "toolu_02").length, 1, "recorded once");
    assert.equal(store.executionsOfCall("session-A", "call_0").length, 2);
    for (const s of ["session-A", "session-B"]) {
      const x = store.execution(s, "toolu_01");
      assert.ok(x?.startedAt && x.finishedAt, `${s}: the intent and its outcome are one execution`);
      assert.equal(x?.sessionId, s);
    }
    assert.equal(store.counts().outbox, 6);
  } finally {
    store.close();
  }
});
