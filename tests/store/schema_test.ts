/** `src/store/schema.ts` and `open.ts`: the migrations, as a store is made from them. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { SCHEMA_VERSION } from "../../src/store/open.ts";
import { freshStore } from "./support.ts";

Deno.test("a new store is at the schema's version, and the hooks' SCHEMA_VERSION agrees", () => {
  const { store, done } = freshStore();
  assert.equal(store.schemaVersion(), MIGRATIONS.length);
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  done();
});

Deno.test("the migrations apply one after another to an empty database", () => {
  const db = new DatabaseSync(":memory:");
  for (const sql of MIGRATIONS) db.exec(sql);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    .map((r) => String(r.name));
  for (const t of ["patterns", "pattern_code", "file_versions", "outbox", "delivered"]) {
    assert.ok(tables.includes(t), `table ${t} after the migrations: ${tables.join(", ")}`);
  }
  db.close();
});
