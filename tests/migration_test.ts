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
