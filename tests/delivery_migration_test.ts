/**
 * The delivery migration from a v2 store: outbox rows that held request bodies become references to
 * their versions, the metrics in those bodies move onto the versions, delivery marks and dead
 * letters are kept, and nothing is lost — then the migrated outbox is delivered with the new
 * mapping, without sending again what an older release already delivered under its old keys.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { flushOutbox } from "../src/delivery/flush.ts";
import { DB_FILE, MIGRATIONS, openStore } from "../src/store/mod.ts";
import { startPhase4Server } from "./phase4_server.ts";
import { testConfig } from "./delivery_support.ts";

/** Index of the first migration after v2 (this one). */
const V2 = 2;

function oldBody(v: {
  type: string;
  id: string;
  parent: string | null;
  path: string;
  n: number;
  added: number;
  removed: number;
  ms: number | null;
}): string {
  return JSON.stringify({
    event_type: v.type,
    pattern_id: v.id,
    pattern_name: v.path.split("/").pop(),
    pattern_type: "code",
    pattern_version: `${v.n}.0.0`,
    tool_name: "Edit",
    file_path: v.path,
    language: "python",
    pattern_data: {
      code: `code of ${v.id}`,
      line_count: 1,
      byte_size: 10,
      file_version: v.n,
      session_id: "s",
      correlation_id: "c",
      tool_use_id: null,
      timestamp: "2026-01-01T00:00:00.000Z",
      lines_added: v.added,
      lines_removed: v.removed,
      duration_ms: v.ms,
    },
    parent_pattern_ids: v.parent ? [v.parent] : [],
    edge_type: v.parent ? "modified_from" : null,
    transformation_type: v.parent ? "refactor" : null,
    reason: "Edit",
    triggered_by: "claude-code-pattern-tracker",
  });
}

/** A v2 store: /p/a.py v1..v3 (v1 delivered, v2 sent but unacknowledged, v3 queued), /p/b.py v1 dead-lettered by an outage, and one row that names no file. */
function makeV2Store(dir: string): void {
  const db = new DatabaseSync(`${dir}/${DB_FILE}`);
  for (let v = 0; v < V2; v++) db.exec(MIGRATIONS[v] as string);
  db.exec(`PRAGMA user_version = ${V2}`);
  const t = "2026-01-01T00:00:00.000Z";
  for (
    const id of ["aaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa3", "bbbbbbbbbbbbbbb1"]
  ) {
    db.prepare("INSERT INTO patterns VALUES (?, 'python', 1, 10, ?, ?, NULL, 0)").run(
      id,
      `code of ${id}`,
      t,
    );
  }
  const version = db.prepare(
    `INSERT INTO file_versions (file_path, version, pattern_id, parent_pattern_id, event_type, tool_name, tool_use_id, correlation_id, reason, created_at)
     VALUES (?, ?, ?, ?, ?, 'Edit', ?, 'c', 'Edit', ?)`,
  );
  version.run("/p/a.py", 1, "aaaaaaaaaaaaaaa1", null, "pattern_created", "toolu_1", t);
  version.run(
    "/p/a.py",
    2,
    "aaaaaaaaaaaaaaa2",
    "aaaaaaaaaaaaaaa1",
    "pattern_modified",
    "toolu_2",
    t,
  );
  version.run(
    "/p/a.py",
    3,
    "aaaaaaaaaaaaaaa3",
    "aaaaaaaaaaaaaaa2",
    "pattern_modified",
    "toolu_3",
    t,
  );
  version.run("/p/b.py", 1, "bbbbbbbbbbbbbbb1", null, "pattern_created", null, t);
  db.exec(
    `INSERT INTO executions (tool_use_id, tool_name, correlation_id, duration_ms, success, lines_added, lines_removed, pattern_id)
           VALUES ('toolu_1', 'Write', 'c', 9, 1, 1, 0, 'aaaaaaaaaaaaaaa1')`,
  );
  db.prepare("INSERT INTO delivered VALUES ('aaaaaaaaaaaaaaa1', '1.0.0', ?)").run(t);
  const outbox = db.prepare(
    "INSERT INTO outbox (id, pattern_id, pattern_version, parent_pattern_ids, body, created_at, attempts, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  outbox.run(
    41,
    "aaaaaaaaaaaaaaa2",
    "2.0.0",
    '["aaaaaaaaaaaaaaa1"]',
    oldBody({
      type: "pattern_modified",
      id: "aaaaaaaaaaaaaaa2",
      parent: "aaaaaaaaaaaaaaa1",
      path: "/p/a.py",
      n: 2,
      added: 5,
      removed: 2,
      ms: 30,
    }),
    t,
    1,
    "no answer within 2000 ms",
  );
  outbox.run(
    42,
    "aaaaaaaaaaaaaaa3",
    "3.0.0",
    '["aaaaaaaaaaaaaaa2"]',
    oldBody({
      type: "pattern_modified",
      id: "aaaaaaaaaaaaaaa3",
      parent: "aaaaaaaaaaaaaaa2",
      path: "/p/a.py",
      n: 3,
      added: 7,
      removed: 1,
      ms: 40,
    }),
    t,
    0,
    null,
  );
  outbox.run(43, "ccccccccccccccc1", "1.0.0", "[]", '{"event_type":"pattern_created"}', t, 0, null);
  db.prepare(
    "INSERT INTO dead_letters VALUES (17, 'bbbbbbbbbbbbbbb1', '1.0.0', '[]', ?, ?, 400, ?, ?)",
  ).run(
    oldBody({
      type: "pattern_created",
      id: "bbbbbbbbbbbbbbb1",
      parent: null,
      path: "/p/b.py",
      n: 1,
      added: 3,
      removed: 0,
      ms: null,
    }),
    t,
    "HTTP 400: Operation failed: [Errno 111] Connect call failed ('127.0.0.1', 5432)",
    t,
  );
  db.prepare("UPDATE sqlite_sequence SET seq = 43 WHERE name = 'outbox'").run();
  db.close();
}

Deno.test("a v2 store migrates: the outbox refers to versions, metrics move onto them, marks and dead letters are kept, nothing is lost", () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-migrate-delivery-" });
  try {
    makeV2Store(dir);
    const store = openStore(dir);
    assert.equal(store.schemaVersion(), MIGRATIONS.length);
    const queued = store.queuedVersions("", 10);
    assert.deepEqual(
      queued.map((q) => [q.queueId, q.filePath, q.version, q.inDoubt, q.legacyVersion, q.attempts]),
      [[41, "/p/a.py", 2, true, "2.0.0", 1], [42, "/p/a.py", 3, true, "3.0.0", 0]],
    );
    const history = store.fileHistory("/p/a.py");
    assert.deepEqual(
      history.map((v) => [v.changeLinesAdded, v.changeLinesRemoved, v.changeDurationMs]),
      [[1, 0, 9], [5, 2, 30], [7, 1, 40]],
      "from the execution (v1) and from the old bodies (v2, v3)",
    );
    assert.equal(store.maxOutboxId(), 43, "the outbox keeps counting from where it was");
    assert.equal(store.legacyEventCount(), 1, "the row that names no file is kept whole");
    assert.deepEqual(store.deliveryByServer(), [{ server: "", delivered: 1, deadLetters: 1 }]);
    const [letter] = store.deadLetters();
    assert.deepEqual([letter?.filePath, letter?.status, letter?.verdict], ["/p/b.py", 400, null]);
    store.close();
    const again = openStore(dir);
    assert.equal(again.schemaVersion(), MIGRATIONS.length);
    again.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the migrated outbox is delivered with the new mapping; what the old release delivered under its keys is found, not sent again; its outage dead letter heals", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-migrate-delivery-" });
  const server = await startPhase4Server();
  try {
    makeV2Store(dir);
    // What the older release delivered: v1, and v2 whose answer it never got (old keys).
    const post = (body: string) =>
      fetch(`${server.url}/api/pattern-traceability/lineage/track`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }).then((r) => r.text());
    await post(
      oldBody({
        type: "pattern_created",
        id: "aaaaaaaaaaaaaaa1",
        parent: null,
        path: "/p/a.py",
        n: 1,
        added: 1,
        removed: 0,
        ms: 9,
      }),
    );
    await post(
      oldBody({
        type: "pattern_modified",
        id: "aaaaaaaaaaaaaaa2",
        parent: "aaaaaaaaaaaaaaa1",
        path: "/p/a.py",
        n: 2,
        added: 5,
        removed: 2,
        ms: 30,
      }),
    );
    const store = openStore(dir);
    const config = testConfig(dir, server.url);
    const report = await flushOutbox(store, config, { deps: { settlePauseMs: 10 } });
    assert.equal(report.requeued, 1, "the outage dead letter went back by itself");
    assert.equal(report.confirmed, 1, "v2 was found under its old key");
    assert.equal(report.sent, 2, "v3 and b.py v1");
    assert.equal(report.left, 0);
    assert.deepEqual(store.deliveryByServer(), [{
      server: server.url,
      delivered: 4,
      deadLetters: 0,
    }]);
    store.close();
    const nodes = server.nodes().map((n) => `${n.pattern_id}@${n.version.replace(/\+.*/, "+…")}`);
    assert.deepEqual(nodes, [
      "aaaaaaaaaaaaaaa1@1.0.0",
      "aaaaaaaaaaaaaaa2@2.0.0",
      "aaaaaaaaaaaaaaa3@3.0.0+…",
      "bbbbbbbbbbbbbbb1@1.0.0+…",
    ]);
    const v3 = server.events().find((e) => e.pattern_id === "aaaaaaaaaaaaaaa3") as unknown as {
      pattern_data: { lines_added: number; duration_ms: number };
    };
    assert.deepEqual([v3.pattern_data.lines_added, v3.pattern_data.duration_ms], [7, 40]);
    assert.deepEqual(
      server.edges().map((e) => `${e.source.version}>${e.target.version.replace(/\+.*/, "")}`),
      ["1.0.0>2.0.0", "2.0.0>3.0.0"],
    );
  } finally {
    await server.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
