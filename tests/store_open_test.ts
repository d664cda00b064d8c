/**
 * How the hooks open the store (`openStoreLazily`): the migrations, with the whole store's code,
 * are loaded only when the schema is behind; a new store, an old one and a corrupt one end exactly
 * where `openStore` leaves them.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DB_FILE, MIGRATIONS, MOVED_ASIDE_META, openStore } from "../src/store/mod.ts";
import { StoreConnection } from "../src/store/connection.ts";
import { openStoreLazily, SCHEMA_VERSION } from "../src/store/open.ts";
import { RecordingStore } from "../src/store/recording.ts";

/** A lazily opened recording layer, counting how often its migrations were loaded. */
function lazyRecording() {
  let loads = 0;
  return {
    loads: () => loads,
    kind: {
      make: (
        db: DatabaseSync,
        path: string,
        identity: null | { dev: number; ino: number | null },
      ) => new RecordingStore(db, path, identity),
      loadMigrations: () => {
        loads++;
        return Promise.resolve(MIGRATIONS);
      },
    },
  };
}

Deno.test("SCHEMA_VERSION is the number of MIGRATIONS (append a migration in store.ts, raise it in store/open.ts)", () => {
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
});

Deno.test("a hook's open loads the migrations for a new store only, and migrates it as openStore does", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-open-" });
  const lazy = lazyRecording();
  const first = await openStoreLazily(lazy.kind, dir);
  assert.equal(first.schemaVersion(), MIGRATIONS.length);
  assert.equal(lazy.loads(), 1);
  first.close();
  // The same PRAGMAs as a store openStore makes.
  const db = new DatabaseSync(`${dir}/${DB_FILE}`);
  assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
  assert.equal(db.prepare("PRAGMA auto_vacuum").get()?.auto_vacuum, 2);
  db.close();
  // Up to date: nothing loaded.
  const again = await openStoreLazily(lazy.kind, dir);
  assert.equal(lazy.loads(), 1);
  again.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a hook's open migrates a store behind the schema and keeps its rows", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-open-" });
  const db = new DatabaseSync(`${dir}/${DB_FILE}`);
  db.exec(MIGRATIONS[0] as string);
  db.exec(MIGRATIONS[1] as string);
  db.exec("PRAGMA user_version = 2");
  db.exec(
    `INSERT INTO patterns VALUES ('aaaaaaaaaaaaaaaa', 'python', 1, 6, 'a = 1\n', '2026-01-01T00:00:00.000Z', NULL, 0)`,
  );
  db.exec(
    `INSERT INTO file_versions (file_path, version, pattern_id, event_type, tool_name, correlation_id, created_at)
           VALUES ('/p/a.py', 1, 'aaaaaaaaaaaaaaaa', 'pattern_created', 'Write', 'c', '2026-01-01T00:00:00.000Z')`,
  );
  db.close();
  const lazy = lazyRecording();
  const store = await openStoreLazily(lazy.kind, dir);
  assert.equal(lazy.loads(), 1);
  assert.equal(store.schemaVersion(), MIGRATIONS.length);
  assert.equal(store.latestVersion("/p/a.py")?.patternId, "aaaaaaaaaaaaaaaa");
  assert.equal(store.pattern("aaaaaaaaaaaaaaaa")?.code, "a = 1\n");
  store.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a hook's open of a corrupt store: moved aside, the fresh store migrated and told why", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-open-" });
  Deno.writeTextFileSync(`${dir}/${DB_FILE}`, "this is not a database, just garbage ".repeat(200));
  const moved: string[] = [];
  const store = await openStoreLazily(
    {
      make: (db, path, identity) => new StoreConnection(db, path, identity),
      loadMigrations: () => Promise.resolve(MIGRATIONS),
    },
    dir,
    { onMovedAside: (aside) => moved.push(aside) },
  );
  assert.equal(store.schemaVersion(), MIGRATIONS.length);
  store.close();
  assert.equal(moved.length, 1, "moved aside once");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.ok(names.some((n) => n.startsWith(`${DB_FILE}.corrupt-`)), names.join(" "));
  // The note openStore leaves in a fresh store, so that status can say what was moved and why.
  const full = openStore(dir);
  const notes = full.metaWithPrefix(MOVED_ASIDE_META);
  full.close();
  assert.equal(notes.size, 1);
  assert.match([...notes.values()][0] ?? "", /file is not a database/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("parallel first hooks on a new store migrate it exactly once", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-open-" });
  const open = new URL("../src/store/open.ts", import.meta.url).href;
  const connection = new URL("../src/store/connection.ts", import.meta.url).href;
  const schema = new URL("../src/store/schema.ts", import.meta.url).href;
  const script = `import { openStoreLazily } from "${open}";
    import { StoreConnection } from "${connection}";
    const s = await openStoreLazily({
      make: (db, path, identity) => new StoreConnection(db, path, identity),
      loadMigrations: async () => (await import("${schema}")).MIGRATIONS,
    }, Deno.args[0]);
    console.log(s.schemaVersion()); s.close();`;
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
