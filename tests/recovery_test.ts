/**
 * `recover` with the per-server outbox: each server's delivered marks and dead letters come back
 * onto the recovered versions, the versions the current server has neither acknowledged nor
 * refused go back to the outbox in doubt, and code kept as line patches reads back whole.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { PatternTracker } from "../src/api.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { recoverInto } from "../src/store/recovery.ts";
import { MIGRATIONS, openStore, type Store } from "../src/store/mod.ts";

const S1 = "http://server-one:8053";
const S2 = "http://server-two:8053";
const AT = "2026-11-25T10:00:00.000Z";

/** A file large enough that its versions are kept as line patches. */
function bigFile(edit: number): string {
  return Array.from({ length: 400 }, (_, i) => `line_${i} = ${i === 200 ? edit : i}  # padding`)
    .join("\n") + "\n";
}

/**
 * A store with /p/a.py at three versions (patches) and /p/b.py at one; S1 acknowledged a.py's
 * first two and refused b.py's; a.py's third waits in the outbox. Returns the copy of its database
 * as a moved-aside file would be, and the pattern IDs with their texts.
 */
async function oldStore(): Promise<{ file: string; texts: Map<string, string> }> {
  const dir = Deno.makeTempDirSync({ prefix: "pt-recover-old-" });
  const config = { ...defaultConfig(dir), dataDir: dir, autoFlush: false };
  const tracker = new PatternTracker(config);
  await tracker.trackCreation(bigFile(0), { filePath: "/p/a.py" });
  await tracker.trackModification(bigFile(1), { filePath: "/p/a.py", parentCode: bigFile(0) });
  await tracker.trackModification(bigFile(2), { filePath: "/p/a.py", parentCode: bigFile(1) });
  await tracker.trackCreation("b = 1\n", { filePath: "/p/b.py" });
  tracker.close();
  const store = openStore(dir);
  const texts = new Map<string, string>();
  try {
    store.switchServer(S1, AT);
    const queued = store.queuedVersions(S1, 10);
    const id = (path: string, version: number) =>
      queued.find((q) => q.filePath === path && q.version === version)!.queueId;
    store.immediate(() => {
      store.markDelivered(S1, [id("/p/a.py", 1), id("/p/a.py", 2)], AT);
      store.moveToDeadLetter(
        S1,
        id("/p/b.py", 1),
        { status: 400, message: "refused", verdict: "rejected" },
        AT,
      );
    });
    assert.ok(
      store.allVersions().some((v) => store.codeRow(v.patternId)?.stored?.format === "patch"),
      "some code is kept as a patch",
    );
    for (const v of store.allVersions()) texts.set(v.patternId, store.pattern(v.patternId)!.code!);
  } finally {
    store.close(); // checkpoints the WAL into the file
  }
  const file = `${Deno.makeTempDirSync({ prefix: "pt-recover-aside-" })}/patterns.db.corrupt-x`;
  Deno.copyFileSync(`${dir}/patterns.db`, file);
  return { file, texts };
}

function freshStore(): Store {
  return openStore(Deno.makeTempDirSync({ prefix: "pt-recover-new-" }));
}

function idOf(store: Store, path: string, version: number): number {
  return store.versionId(path, version)!;
}

Deno.test("recover copies each server's marks; what the current server has not acknowledged goes back in doubt", async () => {
  const { file, texts } = await oldStore();
  const store = freshStore();
  try {
    const report = recoverInto(store, file, { server: S1, now: new Date(AT) });
    assert.deepEqual(report.unreadable, []);
    assert.equal(report.added.file_versions, 4);
    assert.equal(report.added.delivered, 2);
    assert.equal(report.added.dead_letters, 1);
    assert.equal(report.requeued, 1, "a.py's third version only");
    assert.equal(store.versionStanding(S1, idOf(store, "/p/a.py", 1)), "delivered");
    assert.equal(store.versionStanding(S1, idOf(store, "/p/a.py", 2)), "delivered");
    assert.equal(store.versionStanding(S1, idOf(store, "/p/b.py", 1)), "dead");
    assert.equal(store.versionStanding(S1, idOf(store, "/p/a.py", 3)), "queued");
    assert.deepEqual(store.outboxCounts(), { queued: 1, inDoubt: 1, oldestQueuedAt: AT });
    for (const [id, text] of texts) assert.equal(store.pattern(id)?.code, text, id);
    // Again: nothing added, nothing queued twice.
    const again = recoverInto(store, file, { server: S1, now: new Date(AT) });
    assert.deepEqual(again.added, {});
    assert.equal(again.requeued, 0);
    assert.equal(store.outboxCounts().queued, 1);
  } finally {
    store.close();
  }
});

Deno.test("recover for another server: its marks are kept for S1, and every version goes back in doubt for S2", async () => {
  const { file } = await oldStore();
  const store = freshStore();
  try {
    const report = recoverInto(store, file, { server: S2, now: new Date(AT) });
    assert.equal(report.requeued, 4);
    assert.deepEqual(store.outboxCounts(), { queued: 4, inDoubt: 4, oldestQueuedAt: AT });
    assert.deepEqual(store.deliveryByServer(), [{ server: S1, delivered: 2, deadLetters: 1 }]);
  } finally {
    store.close();
  }
});

Deno.test("recover of a schema v2 store: its marks (by pattern and version, no server) go to the configured server; the rest in doubt", () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-recover-v2-" });
  const file = `${dir}/patterns.db.corrupt-v2`;
  const db = new DatabaseSync(file);
  db.exec(MIGRATIONS[0] as string);
  db.exec(MIGRATIONS[1] as string);
  db.exec("PRAGMA user_version = 2");
  const texts = ["x = 1\n", "x = 2\n", "x = 3\n"];
  const ids = ["aaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa3"];
  for (const [i, text] of texts.entries()) {
    db.prepare(
      `INSERT INTO patterns (pattern_id, language, line_count, byte_size, code, first_seen_at)
       VALUES (?, 'python', 1, ?, ?, ?)`,
    ).run(ids[i]!, text.length, text, AT);
    db.prepare(
      `INSERT INTO file_versions (file_path, version, pattern_id, parent_pattern_id, event_type,
         tool_name, correlation_id, created_at) VALUES ('/p/x.py', ?, ?, ?, ?, 'Edit', 'c', ?)`,
    ).run(i + 1, ids[i]!, i ? ids[i - 1]! : null, i ? "pattern_modified" : "pattern_created", AT);
  }
  // As v2 kept them: the first version delivered, the second dead, the third queued.
  db.prepare("INSERT INTO delivered VALUES (?, '1.0.0', ?)").run(ids[0]!, AT);
  const body = JSON.stringify({ file_path: "/p/x.py" });
  db.prepare(
    `INSERT INTO dead_letters (outbox_id, pattern_id, pattern_version, parent_pattern_ids, body,
       created_at, status, message, dead_at) VALUES (7, ?, '2.0.0', '[]', ?, ?, 422, 'bad', ?)`,
  ).run(ids[1]!, body, AT, AT);
  db.prepare(
    `INSERT INTO outbox (pattern_id, pattern_version, parent_pattern_ids, body, created_at)
     VALUES (?, '3.0.0', '[]', ?, ?)`,
  ).run(ids[2]!, body, AT);
  db.close();
  const store = freshStore();
  try {
    const report = recoverInto(store, file, { server: S1, now: new Date(AT) });
    assert.deepEqual(report.unreadable, []);
    assert.equal(store.pattern(ids[2]!)?.code, "x = 3\n");
    assert.equal(store.versionStanding(S1, idOf(store, "/p/x.py", 1)), "delivered");
    assert.equal(store.versionStanding(S1, idOf(store, "/p/x.py", 2)), "dead");
    assert.equal(store.versionStanding(S1, idOf(store, "/p/x.py", 3)), "queued");
    assert.equal(report.requeued, 1);
    assert.equal(store.outboxCounts().inDoubt, 1);
  } finally {
    store.close();
  }
});
