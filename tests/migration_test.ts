import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DB_FILE, MIGRATIONS, openStore } from "../src/store.ts";

Deno.test("a schema v1 store migrates forward on open without losing data", () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-migrate-" });
  const db = new DatabaseSync(`${dir}/${DB_FILE}`);
  db.exec(MIGRATIONS[0] as string);
  db.exec("PRAGMA user_version = 1");
  db.exec(
    `INSERT INTO patterns VALUES ('aaaaaaaaaaaaaaaa', 'python', 1, 6, 'a = 1\n', '2026-01-01T00:00:00.000Z')`,
  );
  db.exec(
    `INSERT INTO file_versions (file_path, version, pattern_id, event_type, tool_name, correlation_id, created_at)
           VALUES ('/p/a.py', 1, 'aaaaaaaaaaaaaaaa', 'pattern_created', 'Write', 'c', '2026-01-01T00:00:00.000Z')`,
  );
  db.exec(`INSERT INTO outbox (pattern_id, pattern_version, parent_pattern_ids, body, created_at)
           VALUES ('aaaaaaaaaaaaaaaa', '1.0.0', '[]', '{"event_type":"pattern_created"}', '2026-01-01T00:00:00.000Z')`);
  db.close();

  const store = openStore(dir);
  try {
    assert.equal(store.schemaVersion(), MIGRATIONS.length);
    const pattern = store.pattern("aaaaaaaaaaaaaaaa");
    assert.equal(pattern?.code, "a = 1\n");
    assert.equal(pattern?.redactedSecrets, 0);
    assert.equal(pattern?.codeOmitted, null);
    assert.equal(store.fileHistory("/p/a.py").length, 1);
    assert.equal(store.pendingEvents(10)[0]?.body, '{"event_type":"pattern_created"}');
  } finally {
    store.close();
  }
  // Opening again runs nothing more.
  const again = openStore(dir);
  assert.equal(again.schemaVersion(), MIGRATIONS.length);
  again.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("parallel first opens of a new store migrate exactly once", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-migrate-" });
  const script = `import { openStore } from "${new URL("../src/store.ts", import.meta.url).href}";
    const s = openStore(Deno.args[0]); console.log(s.schemaVersion()); s.close();`;
  const runs = await Promise.all(
    Array.from({ length: 8 }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", script, dir],
        stdout: "piped",
        stderr: "piped",
      }).output()),
  );
  for (const r of runs) {
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    assert.equal(new TextDecoder().decode(r.stdout).trim(), String(MIGRATIONS.length));
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a schema v2 store migrates to v3: every execution kept, now identified by (session, tool_use_id)", () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-migrate-" });
  const db = new DatabaseSync(`${dir}/${DB_FILE}`);
  db.exec(MIGRATIONS[0] as string);
  db.exec(MIGRATIONS[1] as string);
  db.exec("PRAGMA user_version = 2");
  db.exec(`INSERT INTO executions (tool_use_id, session_id, tool_name, file_path, correlation_id,
             started_at, finished_at, duration_ms, success, lines_added, lines_removed, pattern_id)
           VALUES ('toolu_01', 'sess-1', 'Write', '/p/a.py', 'c1', '2026-01-01T00:00:00.000Z',
             '2026-01-01T00:00:01.000Z', 11, 1, 2, 0, 'aaaaaaaaaaaaaaaa'),
                  ('toolu_02', NULL, 'Edit', '/p/a.py', 'c2', NULL, '2026-01-01T00:00:02.000Z',
             5, 0, 0, 0, NULL)`);
  db.close();

  const store = openStore(dir);
  try {
    assert.equal(store.schemaVersion(), MIGRATIONS.length);
    const first = store.execution("sess-1", "toolu_01");
    assert.equal(first?.durationMs, 11);
    assert.equal(first?.correlationId, "c1");
    assert.equal(first?.success, true);
    assert.equal(store.execution("sess-2", "toolu_01"), undefined, "another session's call");
    const second = store.execution(null, "toolu_02");
    assert.equal(second?.sessionId, null, "no session stays no session");
    assert.equal(second?.success, false);
    assert.equal(store.executions().length, 2);
    // The same ID in another session is now another call, not a conflict.
    store.immediate(() =>
      store.insertIntent({
        toolUseId: "toolu_01",
        sessionId: "sess-2",
        toolName: "Write",
        filePath: "/p/b.py",
        correlationId: "c3",
        startedAt: "2026-01-02T00:00:00.000Z",
        beforePatternId: null,
      })
    );
    assert.equal(store.executions().length, 3);
    assert.equal(store.replaySummary().replayed, 0, "the journal's table exists");
  } finally {
    store.close();
  }
  Deno.removeSync(dir, { recursive: true });
});
