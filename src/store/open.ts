/**
 * Opening the store: the data directory's guard first (modes tightened, symbolic links refused),
 * then the database, created readable by the user only, configured and migrated; a corrupt one is
 * moved aside and a fresh store takes over. Every failure is a `StoreError` that says what failed,
 * why and what to do.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { type DataDirScan, scanDataDir, symlinksAmong } from "./data_dir.ts";
import {
  classifyStoreError,
  describeStoreFailure,
  type FileIdentity,
  fileIdentity,
  moveAsideCorrupt,
  StoreError,
} from "./failure.ts";
import type { StoreConnection } from "./connection.ts";

/** File name of the database inside the data directory. */
export const DB_FILE = "patterns.db";

/**
 * How long a command (the CLI, the flusher, the library) waits for another process's lock, in ms.
 * A hook waits `store_wait_ms` instead, then spills to the journal.
 */
export const COMMAND_BUSY_TIMEOUT_MS = 10_000;

/** Options of {@linkcode openStoreAs} (and `openStore`). */
export interface OpenStoreOptions {
  /**
   * How long a statement waits for another process's lock, in ms. The CLI and the flusher wait
   * 10 s; a hook waits `store_wait_ms` and then spills to the journal instead.
   */
  busyTimeoutMs?: number;
  /** The data directory's scan, when the caller made it already (null: the directory is absent). */
  scan?: DataDirScan | null;
  /** Open for reading only (`status` in a read-only data directory): nothing created or migrated. */
  readOnly?: boolean;
  /** Clock for the name of a moved-aside database. */
  now?: () => Date;
  /** Told when a corrupt database was moved aside (the caller logs it). */
  onMovedAside?: (aside: string, reason: string) => void;
}

/** Meta key prefix under which a fresh store remembers the corrupt one it replaced. */
export const MOVED_ASIDE_META = "moved_aside:";

/**
 * How many migrations the schema has: `MIGRATIONS.length` in `schema.ts` (a test checks that they
 * agree: append a migration there, raise this). A hook compares the store's version with it, so
 * that it loads the migrations (`schema.ts`) only when the schema is behind.
 */
export const SCHEMA_VERSION = 6;

/** How one class of store is made from an open database, and the schema it migrates to. */
export interface StoreKind<S extends StoreConnection> {
  make(db: DatabaseSync, path: string, identity: FileIdentity | null): S;
  /**
   * Every migration, in order (`MIGRATIONS` in `schema.ts`); null when they are not loaded (see
   * {@linkcode openStoreLazily}): a store behind {@linkcode SCHEMA_VERSION} is then not migrated
   * but reported with {@linkcode MigrationsNeeded}, before anything is written to it.
   */
  migrations: readonly string[] | null;
}

/**
 * An open whose migrations were not loaded met a store whose schema is behind. When the store was
 * found corrupt and moved aside on the way, the move is remembered here, so that the fresh store
 * (opened again with the migrations) still gets its note.
 */
export class MigrationsNeeded extends Error {
  movedAside: { aside: string; reason: string; at: Date } | null = null;
  constructor() {
    super("the store's schema is behind: open it with its migrations");
    this.name = "MigrationsNeeded";
  }
}

/** A class of store a hook opens: its migrations are loaded only when they are needed. */
export interface LazyStoreKind<S extends StoreConnection> {
  make(db: DatabaseSync, path: string, identity: FileIdentity | null): S;
  /** `MIGRATIONS` (`schema.ts`), loaded when needed. */
  loadMigrations(): Promise<readonly string[]>;
}

/**
 * {@linkcode openStoreAs} for a hook: the migrations (`schema.ts`) are
 * loaded only when the store's schema is behind {@linkcode SCHEMA_VERSION} — a new store, or the
 * first hook after an upgrade — and the store is then opened again with them, exactly as
 * `openStoreAs` opens it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStoreLazily } from "./open.ts";
 * import { StoreConnection } from "./connection.ts";
 * const store = await openStoreLazily({
 *   make: (db, path, identity) => new StoreConnection(db, path, identity),
 *   loadMigrations: async () => (await import("./schema.ts")).MIGRATIONS,
 * }, Deno.makeTempDirSync());
 * const { MIGRATIONS } = await import("./schema.ts");
 * assert.equal(store.schemaVersion(), MIGRATIONS.length); // a new store is migrated
 * store.close();
 * ```
 */
export async function openStoreLazily<S extends StoreConnection>(
  kind: LazyStoreKind<S>,
  dataDir: string,
  options: OpenStoreOptions = {},
): Promise<S> {
  try {
    return openStoreAs({ make: kind.make, migrations: null }, dataDir, options);
  } catch (error) {
    if (!(error instanceof MigrationsNeeded)) throw error;
    const migrations = await kind.loadMigrations();
    // Scanned again: the first open may have created the database.
    const store = openStoreAs({ make: kind.make, migrations }, dataDir, {
      ...options,
      scan: undefined,
    });
    const moved = error.movedAside;
    if (moved) noteMovedAside(store, moved.aside, moved.reason, moved.at);
    return store;
  }
}

/**
 * Opens (and creates, readable by the user only) the store in `dataDir`, applying any pending
 * migration. The data directory is tightened to 0700 and the store's files to 0600 first, and a
 * database, WAL or shared-memory file that is a symbolic link is refused. A corrupt database
 * (garbage in its header, or damage met while opening) is moved aside — renamed
 * `patterns.db.corrupt-<time>` with its `-wal` and `-shm`, never deleted — and a fresh store
 * starts; the fresh store's meta says what was moved and why (`status` shows it). Every failure is
 * a {@linkcode StoreError} that says what failed, why and what to do.
 *
 * `kind` says which class of store to make (the hooks make only the part of the store they
 * query: `StoreConnection`, `RecordingStore`; everything else makes `Store`) and which migrations
 * bring the schema up to date (`MIGRATIONS` in `schema.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStoreAs } from "./open.ts";
 * import { StoreConnection } from "./connection.ts";
 * import { MIGRATIONS } from "./schema.ts";
 * const store = openStoreAs(
 *   { make: (db, path, identity) => new StoreConnection(db, path, identity), migrations: MIGRATIONS },
 *   Deno.makeTempDirSync(),
 * );
 * assert.equal(store.schemaVersion(), MIGRATIONS.length);
 * store.close();
 * ```
 */
export function openStoreAs<S extends StoreConnection>(
  kind: StoreKind<S>,
  dataDir: string,
  options: OpenStoreOptions = {},
): S {
  const path = `${dataDir}/${DB_FILE}`;
  const busyTimeoutMs = options.busyTimeoutMs ?? COMMAND_BUSY_TIMEOUT_MS;
  let scan: DataDirScan | null;
  try {
    scan = options.scan !== undefined ? options.scan : scanDataDir(dataDir);
  } catch (error) {
    throw describeStoreFailure(error, path, busyTimeoutMs);
  }
  if (scan) refuseSymlinks(scan, dataDir);
  // The scan says whether the database exists, and its lstat is the identity (no stat, and no
  // thrown NotFound: a thrown error costs a hook a third of a millisecond).
  const opening: Opening = {
    dataDir,
    path,
    exists: scan ? scan.entries.has(DB_FILE) : fileExists(path),
    identity: scan?.files.get(DB_FILE) ?? null,
  };
  try {
    return openDatabase(kind, opening, options, busyTimeoutMs);
  } catch (error) {
    // Kept out of the function above: a hook compiles only the code it runs.
    return reopenAfterFailure(kind, error, opening, options, busyTimeoutMs);
  }
}

/** What {@linkcode openDatabase} opens, and the identity of the file it opened. */
interface Opening {
  dataDir: string;
  path: string;
  exists: boolean;
  identity: FileIdentity | null;
}

function refuseSymlinks(scan: DataDirScan, dataDir: string): void {
  const links = symlinksAmong(scan, [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]);
  if (links.length > 0) {
    throw new StoreError(
      "symlink",
      `store ${dataDir}/${
        links[0]
      }: is a symbolic link, and the store refuses to follow it (it could write outside ${dataDir}); replace it with the real file or remove it`,
    );
  }
}

/** Opens, configures and migrates the database; the first query finds garbage in its header. */
function openDatabase<S extends StoreConnection>(
  kind: StoreKind<S>,
  o: Opening,
  options: OpenStoreOptions,
  busyTimeoutMs: number,
): S {
  if (!o.exists && !options.readOnly) createEmptyDatabase(o.dataDir, o.path);
  if (!o.exists || o.identity === null) o.identity = fileIdentity(o.path);
  const db = new DatabaseSync(o.path, { readOnly: options.readOnly === true });
  const store = kind.make(db, o.path, o.identity);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    // NORMAL does not fsync each commit in WAL mode (a power loss can lose the last commits, a
    // killed process cannot). No foreign-key checks on the hot path: the one writer inserts each
    // pattern before the versions that use it.
    if (!options.readOnly) db.exec("PRAGMA synchronous = NORMAL");
    // Reading the header is what finds garbage in it ("file is not a database").
    const version = store.schemaVersion();
    if (!options.readOnly) {
      const migrations = kind.migrations;
      if (migrations === null) {
        // Nothing to configure on a store that is up to date; else the caller loads them.
        if (version < SCHEMA_VERSION) throw new MigrationsNeeded();
        return store;
      }
      // A new store returns free pages in small steps (src/store/code_maintenance.ts); this must be set
      // before the first table exists. (VACUUM, the only other way, is refused by node:sqlite in
      // Deno without --allow-all: it attaches a temporary database.)
      if (version === 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      // WAL lets readers and the one writer work at once. The mode is stored in the file, so it
      // is set once, with the schema, not on every open (that costs a hook a third of a ms).
      if (version < migrations.length) db.exec("PRAGMA journal_mode = WAL");
      migrate(db, store, migrations);
    }
    return store;
  } catch (error) {
    store.close();
    throw error;
  }
}

/**
 * After a failed open: a corrupt database is moved aside and a fresh store opened (once); any
 * other failure is described.
 */
function reopenAfterFailure<S extends StoreConnection>(
  kind: StoreKind<S>,
  error: unknown,
  o: Opening,
  options: OpenStoreOptions,
  busyTimeoutMs: number,
): S {
  if (error instanceof MigrationsNeeded) throw error;
  if (classifyStoreError(error) !== "corrupt" || options.readOnly) {
    throw describeStoreFailure(error, o.path, busyTimeoutMs);
  }
  const reason = String((error as Error)?.message ?? error);
  const at = (options.now ?? (() => new Date()))();
  let aside: string | null;
  try {
    aside = moveAsideCorrupt(o.path, o.identity, at);
  } catch (moveError) {
    throw new StoreError(
      "corrupt",
      `store ${o.path}: ${reason}, and it could not be moved aside (${
        (moveError as Error).message
      }); make ${o.dataDir} writable, then run any tracker.ts command`,
      { cause: error },
    );
  }
  // null: another process moved it aside already; this opens the fresh store it made.
  if (aside !== null) options.onMovedAside?.(aside, reason);
  let store: S;
  try {
    store = openDatabase(
      kind,
      { dataDir: o.dataDir, path: o.path, exists: fileExists(o.path), identity: null },
      options,
      busyTimeoutMs,
    );
  } catch (again) {
    if (again instanceof MigrationsNeeded) {
      again.movedAside = aside === null ? null : { aside, reason, at };
      throw again;
    }
    throw describeStoreFailure(again, o.path, busyTimeoutMs);
  }
  if (aside !== null) noteMovedAside(store, aside, reason, at);
  return store;
}

/**
 * Notes in the fresh store which corrupt database it replaced, and why (best effort: `status`
 * also finds moved-aside files by their names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noteMovedAside } from "./open.ts";
 * import { openStore } from "./store.ts";
 * import { movedAsideStores } from "./health.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const aside = `${dataDir}/patterns.db.corrupt-20261125T020927.034Z`;
 * Deno.writeTextFileSync(aside, "not a database");
 * const freshStore = openStore(dataDir);
 * noteMovedAside(freshStore, aside, "file is not a database", new Date("2026-11-25T02:09:27.034Z"));
 * assert.deepEqual(movedAsideStores(dataDir, freshStore).map((m) => m.reason), [
 *   "file is not a database",
 * ]);
 * freshStore.close();
 * ```
 */
export function noteMovedAside(
  store: StoreConnection,
  aside: string,
  reason: string,
  at: Date,
): void {
  try {
    const name = aside.slice(aside.lastIndexOf("/") + 1);
    store.setMeta(`${MOVED_ASIDE_META}${name}`, JSON.stringify({ at: at.toISOString(), reason }));
  } catch { /* the note is a courtesy; the moved file itself is the record */ }
}

function createEmptyDatabase(dataDir: string, path: string): void {
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // Create the file readable by the user only before SQLite opens it (an empty file is an empty
    // database); SQLite gives the -wal and -shm files the same mode.
    Deno.writeFileSync(path, new Uint8Array(), { createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

function fileExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function migrate(
  db: DatabaseSync,
  store: StoreConnection,
  migrations: readonly string[],
): void {
  if (store.schemaVersion() >= migrations.length) return;
  store.immediate(() => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    for (let v = store.schemaVersion(); v < migrations.length; v++) {
      db.exec(migrations[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }
  });
}
