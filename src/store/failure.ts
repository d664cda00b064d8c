/**
 * What can go wrong with the store, as values: a typed {@linkcode StoreError} whose message says
 * what failed, why, and what to do, the classification of SQLite's errors into those kinds, and
 * moving a corrupt database aside (never deleting it) so that a fresh store can start.
 *
 * @module
 */

import type { LogRecord } from "../log.ts";

/** Kinds of store failure; every one of them sends a hook's record to the spill journal. */
export type StoreFailureKind =
  | "locked"
  | "corrupt"
  | "full"
  | "readonly"
  | "symlink"
  | "unavailable";

/**
 * A store failure a person can act on: `message` says what failed, why, and what to do. The CLI
 * prints it as its one line and exits with `exitCode` (see `cli/errors.ts`, `describeError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreError } from "./failure.ts";
 * const error = new StoreError("locked", "/d/patterns.db is locked by another process; try again");
 * assert.equal(error.kind, "locked");
 * assert.throws(() => {
 *   throw error;
 * }, /is locked by another process/);
 * ```
 */
export class StoreError extends Error {
  /** What the CLI exits with when this ends a command. */
  readonly exitCode = 1;
  constructor(readonly kind: StoreFailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
  }
}

/**
 * The kind of a failure thrown by `node:sqlite` or the file system (pure: reads the message and
 * class only; Deno's `node:sqlite` errors carry SQLite's message text and no code).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyStoreError } from "./failure.ts";
 * assert.equal(classifyStoreError(new Error("database is locked")), "locked");
 * assert.equal(classifyStoreError(new Error("file is not a database")), "corrupt");
 * ```
 */
export function classifyStoreError(error: unknown): StoreFailureKind {
  if (error instanceof StoreError) return error.kind;
  const message = String((error as Error)?.message ?? error);
  if (/database (?:table |schema )?is locked|SQLITE_BUSY/i.test(message)) return "locked";
  if (
    /file is not a database|database disk image is malformed|SQLITE_(?:CORRUPT|NOTADB)/i.test(
      message,
    )
  ) {
    return "corrupt";
  }
  if (/database or disk is full|No space left on device|disk quota|ENOSPC/i.test(message)) {
    return "full";
  }
  if (
    /readonly database|read-only file system|EROFS/i.test(message) ||
    error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
  ) {
    return "readonly";
  }
  return "unavailable";
}

/**
 * A {@linkcode StoreError} for a failure of the store at `path`, with the advice for its kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeStoreFailure } from "./failure.ts";
 * const error = describeStoreFailure(new Error("database is locked"), "/d/patterns.db", 250);
 * assert.equal(error.kind, "locked");
 * assert.match(error.message, /more than 250 ms/);
 * ```
 */
export function describeStoreFailure(error: unknown, path: string, waitedMs: number): StoreError {
  if (error instanceof StoreError) return error;
  const kind = classifyStoreError(error);
  const why = String((error as Error)?.message ?? error);
  const advice: Record<StoreFailureKind, string> = {
    locked:
      `another process held its write lock for more than ${waitedMs} ms (a backup, a sqlite3 shell, a long import); it is replayed once the lock is free`,
    corrupt:
      `the database is damaged; it is moved aside and a fresh store starts (salvage with: tracker.ts recover ${path}.corrupt-…)`,
    full: "the disk is full; free some space",
    readonly: "the data directory is not writable; make it writable again (or set data_dir)",
    symlink: "replace the symbolic link with the real file",
    unavailable: "see the message; run: tracker.ts status",
  };
  return new StoreError(kind, `store ${path}: ${why} (${advice[kind]})`, { cause: error });
}

/** The name of a moved-aside database: `patterns.db.corrupt-20261125T020927.034Z`. */
export function corruptName(dbPath: string, at: Date): string {
  return `${dbPath}.corrupt-${at.toISOString().replaceAll(/[-:]/g, "")}`;
}

/** Identity of a file (device and inode), to tell whether a path still names the file we opened. */
export interface FileIdentity {
  dev: number;
  ino: number | null;
}

/**
 * The identity of the file at `path` (not following a symlink), or null when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileIdentity } from "./failure.ts";
 * assert.equal(fileIdentity("/nonexistent"), null);
 * assert.notEqual(fileIdentity(Deno.makeTempFileSync()), null);
 * ```
 */
export function fileIdentity(path: string): FileIdentity | null {
  try {
    const info = Deno.lstatSync(path);
    return { dev: info.dev, ino: info.ino };
  } catch {
    return null;
  }
}

/** True when both identities name the same file. */
export function sameFile(a: FileIdentity | null, b: FileIdentity | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

/** Lock file serialising moves of the database (two processes may find it corrupt at once). */
export const RECOVERY_LOCK = "store-recovery.lock";

/**
 * Moves a corrupt database and its `-wal` and `-shm` aside (renamed, never deleted) so that the
 * next open starts a fresh store. Under an OS file lock, and only if `dbPath` still names the file
 * found corrupt (`seen`): another process may have moved it and started the fresh store already.
 * Returns the new name, or null when nothing was moved. Throws when the rename fails (a read-only
 * directory): the caller spills.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileIdentity, moveAsideCorrupt } from "./failure.ts";
 * const path = `${Deno.makeTempDirSync()}/patterns.db`;
 * Deno.writeTextFileSync(path, "not a database");
 * const seen = fileIdentity(path); // when it was opened
 * const aside = moveAsideCorrupt(path, seen, new Date("2026-11-25T02:09:27.034Z"));
 * assert.equal(aside, `${path}.corrupt-20261125T020927.034Z`);
 * assert.equal(Deno.readTextFileSync(aside!), "not a database"); // renamed, never deleted
 * assert.equal(fileIdentity(path), null);
 * ```
 */
export function moveAsideCorrupt(
  dbPath: string,
  seen: FileIdentity | null,
  at: Date = new Date(),
): string | null {
  const dir = dbPath.replace(/[\\/][^\\/]*$/, "");
  const lock = Deno.openSync(`${dir}/${RECOVERY_LOCK}`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    lock.lockSync(true);
    if (!sameFile(fileIdentity(dbPath), seen)) return null;
    const aside = corruptName(dbPath, at);
    Deno.renameSync(dbPath, aside);
    for (const suffix of ["-wal", "-shm"]) {
      try {
        Deno.renameSync(`${dbPath}${suffix}`, `${aside}${suffix}`);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return aside;
  } finally {
    lock.close(); // releases the lock
  }
}

/**
 * A logger of corrupt stores moved aside (for `openStore`'s `onMovedAside`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { movedAsideLogger } from "./failure.ts";
 * import type { LogRecord } from "../log.ts";
 * const logged: LogRecord[] = [];
 * movedAsideLogger((r) => logged.push(r))("/d/patterns.db.corrupt-x", "file is not a database");
 * assert.equal(logged[0]?.event, "store_moved_aside");
 * assert.equal(logged[0]?.salvage, "tracker.ts recover /d/patterns.db.corrupt-x");
 * ```
 */
export function movedAsideLogger(log: (r: LogRecord) => void) {
  return (aside: string, reason: string) =>
    log({
      level: "error",
      event: "store_moved_aside",
      moved_to: aside,
      reason,
      salvage: `tracker.ts recover ${aside}`,
    });
}
