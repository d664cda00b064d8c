/**
 * The data directory's guard, run by every process before it opens the store: the directory is
 * tightened to 0700 and the store's files in it to 0600 (a directory that exists with 0777 does not
 * stay so), and a symbolic link where the database, its WAL, the log or a journal should be is
 * reported so that the caller refuses to follow it. One directory listing, one stat of the
 * directory and an lstat per store file present: a few tens of microseconds, no thrown errors on
 * the usual path.
 *
 * @module
 */

/** What a scan of the data directory found. */
export interface DataDirScan {
  /** The directory scanned. */
  dir: string;
  /** Names in the directory; `true` for the ones that are symbolic links. */
  entries: ReadonlyMap<string, boolean>;
  /** Owner of the directory (null where the platform has no owners). */
  uid: number | null;
  /**
   * Device, inode and size of each store file looked at (the database's identity, the WAL's size).
   */
  files: ReadonlyMap<string, { dev: number; ino: number | null; size: number }>;
}

/** Files whose mode is tightened to 0600 on every start (the ones that hold code). */
const TIGHTENED = ["patterns.db", "patterns.db-wal", "patterns.db-shm"];

/**
 * Lists the data directory, tightens its mode and the store files' modes, and returns what is there;
 * null when the directory does not exist. Other errors (permissions) are thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanDataDir } from "./data_dir.ts";
 * const scan = scanDataDir(Deno.makeTempDirSync());
 * assert.equal(scan?.entries.size, 0);
 * ```
 */
export function scanDataDir(
  dataDir: string,
  extraFiles: readonly string[] = [],
): DataDirScan | null {
  const entries = new Map<string, boolean>();
  try {
    for (const entry of Deno.readDirSync(dataDir)) entries.set(entry.name, entry.isSymlink);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  const info = Deno.statSync(dataDir);
  if (info.mode !== null && (info.mode & 0o077) !== 0) chmodQuietly(dataDir, 0o700);
  const files = new Map<string, { dev: number; ino: number | null; size: number }>();
  for (const name of [...TIGHTENED, ...extraFiles]) {
    if (entries.get(name) !== false) continue; // absent, or a symlink (never chmod through one)
    const file = tightenFile(`${dataDir}/${name}`);
    if (file) files.set(name, { dev: file.dev, ino: file.ino, size: file.size });
  }
  return { dir: dataDir, entries, uid: info.uid, files };
}

/**
 * A directory's names, `true` for symlinks (empty when it cannot be listed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listNames } from "./data_dir.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(listNames(dir).size, 0);
 * Deno.writeTextFileSync(`${dir}/patterns.db`, "");
 * assert.deepEqual([...listNames(dir).keys()], ["patterns.db"]);
 * ```
 */
export function listNames(dir: string): Map<string, boolean> {
  try {
    return new Map([...Deno.readDirSync(dir)].map((e) => [e.name, e.isSymlink]));
  } catch {
    return new Map();
  }
}

/**
 * The names in `names` that are symbolic links in the scan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { symlinksAmong } from "./data_dir.ts";
 * const scan = { dir: "/d", entries: new Map([["patterns.db", true]]), uid: 0, files: new Map() };
 * assert.deepEqual(symlinksAmong(scan, ["patterns.db"]), ["patterns.db"]);
 * ```
 */
export function symlinksAmong(scan: DataDirScan, names: readonly string[]): string[] {
  return names.filter((name) => scan.entries.get(name) === true);
}

/**
 * Sets a regular file's mode to 0600 when group or others have any access. Call it only for a name
 * the directory listing says is no symlink; never throws (a mode that cannot be changed is not worth failing a hook for). Returns
 * what `lstat` said (null when it could not look).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tightenFile } from "./data_dir.ts";
 * const path = `${Deno.makeTempDirSync()}/patterns.db`;
 * Deno.writeTextFileSync(path, "");
 * Deno.chmodSync(path, 0o644);
 * assert.equal((tightenFile(path)?.mode ?? 0) & 0o777, 0o644); // what lstat said before
 * assert.equal((Deno.statSync(path).mode ?? 0) & 0o777, 0o600); // owner only now
 * ```
 */
export function tightenFile(path: string): Deno.FileInfo | null {
  try {
    // stat, not lstat: the callers know from the listing that it is no symlink, and a hook has used
    // stat already (each kind of call costs a fresh process a first-use setup).
    const info = Deno.statSync(path);
    if (info.isSymlink) return null;
    if (info.isFile && info.mode !== null && (info.mode & 0o077) !== 0) chmodQuietly(path, 0o600);
    return info;
  } catch {
    return null; // absent or not ours to look at
  }
}

function chmodQuietly(path: string, mode: number): void {
  try {
    Deno.chmodSync(path, mode);
  } catch { /* a read-only directory, or another owner: reported elsewhere if it matters */ }
}
