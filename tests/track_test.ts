/**
 * The recording core (`track`): the library and import obey exactly the hooks' rules, a spilled
 * record holds redacted code only, the journal is replayed in order and exactly once (two replayers
 * at once, a crash between commit and cleanup, a torn line), and executions are identified by
 * (session, tool_use_id).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { PatternTracker } from "../src/api.ts";
import { defaultConfig, type TrackerConfig } from "../src/config/mod.ts";
import { exportRecords, importRecords } from "../src/views/export.ts";
import { flushOutbox } from "../src/delivery/flush.ts";
import { runHook } from "../src/record/hooks.ts";
import { JOURNAL_FILE } from "../src/record/journal.ts";
import { parseJournalText } from "../src/record/journal_files.ts";
import { patternId } from "../src/record/pattern.ts";
import { parseHookObject, type ToolChange } from "../src/record/payload.ts";
import { openStore } from "../src/store/mod.ts";
import { track } from "../src/record/track.ts";
import { startPhase4Server } from "./phase4_server.ts";
import { runCli } from "./support.ts";

function tempConfig(overrides: Partial<TrackerConfig> = {}): TrackerConfig {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-track-" });
  return { ...defaultConfig(dataDir), dataDir, autoFlush: false, ...overrides };
}

function change(
  o: { session?: string; id: string; file: string; after: string; before?: string | null },
): ToolChange {
  const parsed = parseHookObject({
    hook_event_name: "PostToolUse",
    session_id: o.session ?? "s",
    tool_name: o.before ? "Edit" : "Write",
    tool_use_id: o.id,
    tool_input: o.before
      ? { file_path: o.file, old_string: o.before, new_string: o.after }
      : { file_path: o.file, content: o.after },
    tool_response: o.before
      ? { filePath: o.file, originalFile: o.before, structuredPatch: [] }
      : { type: "create", filePath: o.file, content: o.after, originalFile: null },
  });
  assert.equal(parsed.kind, "change", JSON.stringify(parsed));
  return parsed as ToolChange;
}

/** A second connection holding the store's write lock (as another process would). */
function lockStore(dataDir: string): () => void {
  openStore(dataDir).close();
  const db = new DatabaseSync(`${dataDir}/patterns.db`);
  db.exec("BEGIN IMMEDIATE");
  return () => {
    db.exec("COMMIT");
    db.close();
  };
}

const SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";

Deno.test("the library obeys enabled: false and the path rules exactly as the hooks do", async () => {
  const config = tempConfig();
  const paths = ["/repo/app.py", "/repo/.env", "/repo/certs/server.pem", "/repo/secrets/db.py"];
  Deno.env.set("PATTERN_TRACKER_DATA_DIR", config.dataDir);
  Deno.env.set("PATTERN_TRACKER_CONFIG", `${config.dataDir}/none.yaml`);
  Deno.env.set("PATTERN_TRACKER_AUTO_FLUSH", "false");
  try {
    const hookOutcomes = [];
    for (const [i, path] of paths.entries()) {
      const payload = new TextEncoder().encode(JSON.stringify({
        hook_event_name: "PostToolUse",
        session_id: "hooks",
        tool_name: "Write",
        tool_use_id: `toolu_${i}`,
        tool_input: { file_path: path, content: `x = ${i}\n` },
        tool_response: { type: "create", content: `x = ${i}\n`, originalFile: null },
      }));
      hookOutcomes.push((await runHook("post", payload)).outcome);
    }
    const library = new PatternTracker({ ...tempConfig(), autoFlush: false });
    const libraryOutcomes = [];
    for (const [i, path] of paths.entries()) {
      libraryOutcomes.push((await library.trackCreation(`x = ${i}\n`, { filePath: path })).outcome);
    }
    library.close();
    assert.deepEqual(hookOutcomes, ["recorded", "excluded", "excluded", "excluded"]);
    assert.deepEqual(libraryOutcomes, hookOutcomes);
  } finally {
    for (
      const k of [
        "PATTERN_TRACKER_DATA_DIR",
        "PATTERN_TRACKER_CONFIG",
        "PATTERN_TRACKER_AUTO_FLUSH",
      ]
    ) {
      Deno.env.delete(k);
    }
  }
  const disabled = tempConfig({ enabled: false });
  const off = new PatternTracker(disabled);
  assert.equal(
    (await off.trackCreation("x = 1\n", { filePath: "/repo/app.py" })).outcome,
    "disabled",
  );
  assert.equal(
    (await off.trackExecution({
      toolUseId: "t",
      filePath: "/repo/app.py",
      toolName: "Edit",
      durationMs: 1,
      success: false,
      error: "no",
    }))?.outcome,
    "disabled",
  );
  off.close();
  assert.deepEqual([...Deno.readDirSync(disabled.dataDir)], [], "nothing written at all");
});

/** A source store with a secret in its code and a .env file (recorded with the rules off). */
async function sourceExport(): Promise<{ lines: string[]; dir: string }> {
  const source = tempConfig({ redactSecrets: false, excludePaths: [] });
  const t = new PatternTracker(source);
  await t.trackCreation("def f():\n    return 1\n", { filePath: "/repo/app.py" });
  await t.trackModification(`def f():\n    token = "${SECRET}"\n    return 2\n`, {
    filePath: "/repo/app.py",
  });
  await t.trackCreation("API_KEY=abc123def456\n", { filePath: "/repo/.env" });
  t.close();
  const store = openStore(source.dataDir);
  const lines = [...exportRecords(store)].map((r) => JSON.stringify(r));
  store.close();
  return { lines, dir: source.dataDir };
}

Deno.test("import obeys the hooks' rules: path rules, redaction, store_code, enabled", async () => {
  const { lines } = await sourceExport();
  const target = tempConfig();
  const store = openStore(target.dataDir);
  try {
    const report = await importRecords(store, lines, target);
    assert.equal(report.versions, 2, "the .env version is left out");
    assert.ok(report.excluded >= 1);
    assert.deepEqual(store.trackedFiles(), ["/repo/app.py"]);
    const history = store.fileHistory("/repo/app.py");
    const code = store.pattern(history[1]!.patternId)?.code ?? "";
    assert.ok(!code.includes(SECRET), "redacted on import");
    assert.match(code, /\[REDACTED:/);
    assert.equal(store.pattern(history[1]!.patternId)?.redactedSecrets, 1);
    assert.equal(
      history[1]!.patternId,
      await patternId(`def f():\n    token = "${SECRET}"\n    return 2\n`),
    );
  } finally {
    store.close();
  }
  const noCode = tempConfig({ storeCode: false });
  const bare = openStore(noCode.dataDir);
  try {
    await importRecords(bare, lines, noCode);
    for (const v of bare.allVersions()) {
      const p = bare.pattern(v.patternId);
      assert.equal(p?.code, null);
      assert.equal(p?.codeOmitted, "store_code_off");
    }
  } finally {
    bare.close();
  }
  const off = tempConfig({ enabled: false });
  const offStore = openStore(off.dataDir);
  await assert.rejects(
    () => importRecords(offStore, lines, off),
    /enabled: false.*nothing was imported/,
  );
  assert.equal(offStore.counts().versions, 0);
  offStore.close();
});

Deno.test("import refuses a forged pattern ID and a version whose parent it lacks, with the reason, importing nothing", async () => {
  const { lines } = await sourceExport();
  const forged = lines.map((l) => {
    const r = JSON.parse(l);
    if (r.type === "pattern" && r.code === "def f():\n    return 1\n") {
      r.code = "def f():\n    return 666\n";
    }
    return JSON.stringify(r);
  });
  const target = tempConfig();
  const store = openStore(target.dataDir);
  try {
    await assert.rejects(
      () => importRecords(store, forged, target),
      /does not match its code \(its SHA-256 gives [0-9a-f]{16}\).*nothing was imported/,
    );
    assert.equal(store.counts().patterns, 0);
    const orphan = lines.filter((l) => {
      const r = JSON.parse(l);
      return !(r.type === "version" && r.version === 1 && r.filePath === "/repo/app.py") &&
        !(r.type === "pattern" && r.code === "def f():\n    return 1\n");
    });
    await assert.rejects(
      () => importRecords(store, orphan, target),
      /comes from pattern [0-9a-f]{16}, which is neither in the export nor in this store.*nothing was imported/,
    );
    assert.equal(store.counts().versions, 0);
  } finally {
    store.close();
  }
});

Deno.test("import --queue bridges parents whose events were never queued: the strict server takes every event, none waits", async () => {
  const source = tempConfig();
  const t = new PatternTracker(source);
  await t.trackCreation("a = 1\n", { filePath: "/repo/a.py" });
  await t.trackModification("a = 2\n", { filePath: "/repo/a.py" });
  t.close();
  const exportOf = (dir: string) => {
    const s = openStore(dir);
    const out = [...exportRecords(s)].map((r) => JSON.stringify(r));
    s.close();
    return out;
  };
  const first = exportOf(source.dataDir);
  const later = new PatternTracker(source);
  await later.trackModification("a = 3\n", { filePath: "/repo/a.py" });
  later.close();
  const second = exportOf(source.dataDir);

  const server = await startPhase4Server();
  const target = tempConfig({ intelligenceUrl: server.url });
  const store = openStore(target.dataDir);
  try {
    await importRecords(store, first, target); // not queued: they came from a store that delivered
    assert.equal(store.counts().outbox, 0);
    const report = await importRecords(store, second, target, { queue: true });
    assert.equal(report.versions, 1);
    assert.equal(report.queued, 3, "v3, and first its parent v2 and grandparent v1");
    const flushed = await flushOutbox(store, target, { deps: { sleep: () => Promise.resolve() } });
    assert.equal(flushed.sent, 3, JSON.stringify(flushed));
    assert.equal(store.counts().outbox, 0, "nothing waits for an unknown parent");
    const ids = await Promise.all(["a = 1\n", "a = 2\n", "a = 3\n"].map(patternId));
    assert.deepEqual(server.events().map((e) => e.pattern_id), ids);
  } finally {
    store.close();
    await server.close();
  }
});

Deno.test("a spilled record holds redacted code only, the content before included", async () => {
  const config = tempConfig();
  const release = lockStore(config.dataDir);
  try {
    const before = `key = "${SECRET}"\n`;
    const result = await track(
      config,
      change({ id: "toolu_x", file: "/repo/k.py", before, after: `key = "${SECRET}"\nx = 1\n` }),
      { waitMs: 0 },
    );
    assert.equal(result.outcome, "spilled");
    assert.match(String(result.detail), /database is locked/);
  } finally {
    release();
  }
  const text = Deno.readTextFileSync(`${config.dataDir}/${JOURNAL_FILE}`);
  assert.ok(!text.includes(SECRET), "no secret on disk");
  const [entry] = parseJournalText<{ after: { code: string }; before: { code: string } }>(text)
    .entries;
  assert.match(entry!.record.after.code, /\[REDACTED:/);
  assert.match(entry!.record.before.code, /\[REDACTED:/);
  // Replayed by the next recording, before its own record; the IDs are the real content's.
  await track(config, change({ id: "toolu_y", file: "/repo/other.py", after: "o = 1\n" }));
  const store = openStore(config.dataDir);
  const history = store.fileHistory("/repo/k.py");
  store.close();
  assert.deepEqual(history.map((v) => v.toolName), ["baseline", "Edit"]);
  assert.equal(history[1]!.patternId, await patternId(`key = "${SECRET}"\nx = 1\n`));
});

Deno.test("the journal is replayed in order and exactly once: four replayers at once, a crash before cleanup, a torn line", async () => {
  const config = tempConfig();
  const release = lockStore(config.dataDir);
  const contents = Array.from({ length: 20 }, (_, i) => `v = ${i}\n`);
  try {
    let before: string | null = null;
    for (const [i, after] of contents.entries()) {
      const r = await track(
        config,
        change({ id: `toolu_${i}`, file: "/repo/seq.py", before, after }),
        { waitMs: 0 },
      );
      assert.equal(r.outcome, "spilled");
      before = after;
    }
  } finally {
    release();
  }
  const journal = `${config.dataDir}/${JOURNAL_FILE}`;
  const copy = Deno.readTextFileSync(journal);
  // A writer killed mid-line leaves half a line; the next append starts on a new line.
  Deno.writeTextFileSync(journal, '{"journal":1,"id":"torn","spilled_at":"2', { append: true });
  const releaseAgain = lockStore(config.dataDir);
  await track(config, change({ id: "toolu_last", file: "/repo/last.py", after: "l = 1\n" }), {
    waitMs: 0,
  });
  releaseAgain();
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: config.dataDir,
    PATTERN_TRACKER_DATA_DIR: config.dataDir,
    PATTERN_TRACKER_CONFIG: `${config.dataDir}/none.yaml`,
  };
  const runs = await Promise.all(
    Array.from({ length: 4 }, () => runCli(["status", "--json"], env)),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const check = () => {
    const store = openStore(config.dataDir);
    try {
      return {
        ids: store.fileHistory("/repo/seq.py").map((v) => v.patternId),
        last: store.fileHistory("/repo/last.py").length,
        replayed: store.replaySummary().replayed,
      };
    } finally {
      store.close();
    }
  };
  const expected = await Promise.all(contents.map(patternId));
  const once = check();
  assert.deepEqual(once.ids, expected, "in order, each once");
  assert.equal(once.last, 1);
  assert.equal(once.replayed, 21);
  const left = [...Deno.readDirSync(config.dataDir)].filter((e) =>
    e.name.startsWith("spill-") && e.name !== "spill-reserve"
  );
  assert.deepEqual(left, [], "every journal file removed");
  const log = Deno.readTextFileSync(`${config.dataDir}/${config.logFile}`);
  assert.match(log, /"event":"record_lost","reason":"1 torn line/);
  // A crash after the commit, before the file was removed: the same entries come back; none applies twice.
  Deno.writeTextFileSync(
    `${config.dataDir}/spill-replaying-20000101T000000.000Z-crashed.jsonl`,
    copy,
  );
  await track(config, change({ id: "toolu_after", file: "/repo/after.py", after: "a = 1\n" }));
  const again = check();
  assert.deepEqual(again.ids, expected);
  assert.equal(again.replayed, 21);
  const status = JSON.parse((await runCli(["status", "--json"], env)).stdout);
  assert.equal(status.journal.waiting, 0);
  assert.equal(status.journal.replayed, 21);
  assert.equal(status.journal.lost, 1);
});

Deno.test("an execution is (session, tool_use_id): the same ID in another session or turn is another call", async () => {
  const config = tempConfig();
  const r1 = await track(
    config,
    change({ session: "A", id: "toolu_01", file: "/repo/a.py", after: "a\n" }),
  );
  const r2 = await track(
    config,
    change({ session: "B", id: "toolu_01", file: "/repo/b.py", after: "b\n" }),
  );
  const r3 = await track(
    config,
    change({ session: "B", id: "toolu_01", file: "/repo/b.py", after: "b\n" }),
  );
  const r4 = await track(
    config,
    change({ session: "A", id: "toolu_01", file: "/repo/a.py", before: "a\n", after: "a2\n" }),
  );
  assert.deepEqual([r1.outcome, r2.outcome, r3.outcome, r4.outcome], [
    "recorded",
    "recorded",
    "duplicate",
    "recorded",
  ]);
  const failure = parseHookObject({
    hook_event_name: "PostToolUseFailure",
    session_id: "A",
    tool_name: "Edit",
    tool_use_id: "toolu_09",
    tool_input: { file_path: "/repo/a.py", old_string: "x", new_string: "y" },
    error: "String to replace not found",
  });
  assert.equal(failure.kind, "failure");
  if (failure.kind !== "failure") return;
  assert.equal((await track(config, failure)).outcome, "recorded");
  assert.equal((await track(config, failure)).outcome, "duplicate");
  const store = openStore(config.dataDir);
  try {
    assert.equal(store.executionsOfCall("A", "toolu_01").length, 2);
    assert.equal(store.executionsOfCall("B", "toolu_01").length, 1);
    assert.equal(store.executionsOfCall("A", "toolu_09").length, 1);
    assert.equal(store.fileHistory("/repo/a.py").length, 2);
  } finally {
    store.close();
  }
});
