import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { compactCode } from "../src/store/code_maintenance.ts";
import { patternId } from "../src/record/pattern.ts";
import { DB_FILE, MIGRATIONS, openStore } from "../src/store/mod.ts";

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
    // Its body names no file, so it maps to no version: kept whole, not lost.
    assert.equal(store.legacyEventCount(), 1);
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
  const script = `import { openStore } from "${
    new URL("../src/store/store.ts", import.meta.url).href
  }";
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

Deno.test("a schema v2 store with real history migrates in place: every text reads back, then compacts", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-migrate-" });
  const db = new DatabaseSync(`${dir}/${DB_FILE}`);
  db.exec(MIGRATIONS[0] as string);
  db.exec(MIGRATIONS[1] as string);
  db.exec("PRAGMA user_version = 2");
  // A module edited 120 times the way the v2 hooks stored it (the whole text per version, a queued
  // or delivered event each), a revert, and a second file sharing one version's content.
  const source = Deno.readTextFileSync(new URL("../src/store/store.ts", import.meta.url)).split(
    "\n",
  );
  const texts: string[] = [];
  let lines = source.slice(0, 400);
  for (let k = 0; k < 120; k++) {
    lines = [...lines];
    lines[(k * 53) % lines.length] = `// edit ${k}: ${lines[(k * 53) % lines.length]}`;
    if (k % 10 === 0) lines.splice(k, 0, `const added${k} = ${k};`);
    texts.push(lines.join("\n") + "\n");
  }
  texts.push(texts[50] as string); // a revert: the same pattern again
  const ids: string[] = [];
  const insertPattern = db.prepare(
    `INSERT INTO patterns (pattern_id, language, line_count, byte_size, code, first_seen_at, code_omitted, redacted_secrets)
     VALUES (?, 'typescript', ?, ?, ?, ?, NULL, 0) ON CONFLICT DO NOTHING`,
  );
  const insertVersion = db.prepare(
    `INSERT INTO file_versions (file_path, version, pattern_id, parent_pattern_id, event_type, tool_name, correlation_id, created_at)
     VALUES (?, ?, ?, ?, ?, 'Edit', 'c', ?)`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO outbox (pattern_id, pattern_version, parent_pattern_ids, body, created_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const hashes = await Promise.all(texts.map(patternId));
  db.exec("BEGIN");
  for (const [i, text] of texts.entries()) {
    const id = hashes[i] as string;
    const at = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
    const parent = ids.at(-1) ?? null;
    insertPattern.run(id, text.split("\n").length, new TextEncoder().encode(text).length, text, at);
    insertVersion.run(
      "/p/mod.ts",
      i + 1,
      id,
      parent,
      parent ? "pattern_modified" : "pattern_created",
      at,
    );
    // As the v2 hook queued it: version "<n>.0.0", the file path and the code in the body.
    insertEvent.run(
      id,
      `${i + 1}.0.0`,
      JSON.stringify(parent ? [parent] : []),
      JSON.stringify({ file_path: "/p/mod.ts", pattern_data: { code: text } }),
      at,
    );
    ids.push(id);
  }
  insertVersion.run(
    "/p/copy.ts",
    1,
    ids[30] as string,
    null,
    "pattern_created",
    "2026-01-02T00:00:00.000Z",
  );
  db.exec("COMMIT");
  const count = (table: string) =>
    Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
  const before = Object.fromEntries(
    ["patterns", "file_versions", "outbox"].map((t) => [t, count(t)]),
  );
  db.close();

  const store = openStore(dir);
  try {
    assert.equal(store.schemaVersion(), MIGRATIONS.length);
    const c = store.counts();
    assert.deepEqual(
      { patterns: c.patterns, file_versions: c.versions, outbox: c.outbox },
      before,
      "no row lost",
    );
    const readAll = () => {
      for (const [i, text] of texts.entries()) {
        const code = store.pattern(ids[i] as string)?.code;
        assert.equal(code, text, `version ${i + 1} reads back`);
      }
    };
    readAll();
    assert.equal(store.codeStorage().legacy, 120);
    // The first version after the upgrade is a patch against the tip written by v2.
    const next = texts.at(-1)!.replace("edit 0", "edit zero");
    const nextId = await patternId(next);
    store.insertPattern({
      patternId: nextId,
      language: "typescript",
      lineCount: 0,
      byteSize: new TextEncoder().encode(next).length,
      code: next,
      firstSeenAt: "2026-02-01T00:00:00.000Z",
      parent: { patternId: ids.at(-1)!, content: texts.at(-1)! },
    });
    assert.equal(store.codeRow(nextId)?.stored?.format, "patch");
    assert.equal(store.codeRow(nextId)?.stored?.base, ids.at(-1));
    // Maintenance moves the old texts into patches and compressed snapshots.
    const bytes = store.codeStorage().bytes;
    const report = compactCode(store);
    assert.ok(report.done && report.rows > 100);
    const after = store.codeStorage();
    assert.ok(after.patches > 90, `${after.patches} patches`);
    assert.ok(after.bytes < bytes / 10, `${bytes} → ${after.bytes} bytes`);
    // Still legacy: the texts the newest versions read through (the tips and the new patch's base).
    assert.ok(after.legacy <= 2, `${after.legacy} legacy rows left`);
    readAll();
    assert.equal(store.pattern(nextId)?.code, next);
    // A store created before v3 has no incremental vacuum: only a full VACUUM returns its free
    // pages, which node:sqlite refuses in Deno without --allow-all (`deno task test` runs without).
    assert.equal(store.shrinksIncrementally(), false);
    const shrink = store.shrink();
    if (shrink.method === "unavailable") assert.match(shrink.reason ?? "", /attached databases/);
    else {
      assert.equal(shrink.method, "vacuum");
      assert.equal(store.shrinksIncrementally(), true, "a VACUUM switches the store over");
    }
    readAll();
  } finally {
    store.close();
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a schema v2 store migrates to v5: every execution kept, now identified by (session, tool_use_id)", () => {
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
