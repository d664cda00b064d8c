/**
 * The spill journal: where a hook puts its already-redacted record when the store cannot take it
 * (locked past `store_wait_ms`, corrupt and not movable, full, read-only, a symlink). One JSON line
 * per hook, appended under an OS file lock and fsync'd. The next process that can write the store
 * (a hook, the flusher, any command) replays the journal in order, each entry exactly once: the
 * store remembers applied entry IDs in the transaction that applies them.
 *
 * Places, tried in order:
 * 1. `<data dir>/spill-journal.jsonl`. A full disk is met by releasing `<data dir>/spill-reserve`
 *    (1 MiB of incompressible bytes kept for this) and appending again.
 * 2. `/tmp/pattern-tracker-<hash of the data dir>/spill-journal.jsonl` (see
 *    {@linkcode journalFallbackDir}), for a data directory that is read-only or whose disk stays
 *    full. Used only when it is a real directory owned by the data directory's owner, mode 0700.
 *
 * Replay: the journal is renamed to `spill-replaying-<time>-<random>.jsonl` under the same lock
 * (new spills start a new file), read, applied, and deleted after the transaction commits. A crash
 * between commit and delete leaves a file whose entries the store already knows: skipped next time.
 *
 * This module holds what every hook asks (where the journal lives, whether anything waits); the
 * file work of spilling and replaying is in `journal_files.ts`, loaded only when needed.
 *
 * @module
 */

import { StoreError } from "./store_failure.ts";

/** The journal being appended to. */
export const JOURNAL_FILE = "spill-journal.jsonl";
/** Prefix of journal files taken for replay. */
export const REPLAYING_PREFIX = "spill-replaying-";
/** Space kept free for the journal, released when the disk is full. */
export const RESERVE_FILE = "spill-reserve";
/** Size of {@linkcode RESERVE_FILE}. */
export const RESERVE_BYTES = 1024 * 1024;
/** Log beside the fallback journal, for a lost record when the data directory takes nothing. */
export const FALLBACK_LOG = "pattern-tracker.log.jsonl";
/** Version of the journal line format. */
export const JOURNAL_FORMAT = 1;

/** One journal line: a record that could not be written to the store, and why. */
export interface JournalEntry<R = unknown> {
  journal: typeof JOURNAL_FORMAT;
  /** UUID v4; the store remembers it once applied. */
  id: string;
  spilled_at: string;
  /** Why the store did not take it (the store error's message). */
  reason: string;
  /** The already-redacted record (see `record.ts`). */
  record: R;
}

/** An entry read back for replay, with the file it came from. */
export interface PendingEntry<R = unknown> {
  entry: JournalEntry<R>;
  file: string;
}

/**
 * The second place for the journal, outside the data directory:
 * `/tmp/pattern-tracker-<POSIX cksum of the data directory's path>`, one per data directory. The
 * shell computes the same name (`printf %s "$data" | cksum`), so a launcher script can put it in
 * the hooks' `--allow-read` and `--allow-write`, as `install` does.
 *
 * @example
 * ```ts
 * import { journalFallbackDir } from "./journal.ts";
 * journalFallbackDir("/home/dev/.claude/pattern-tracker"); // "/tmp/pattern-tracker-<digits>"
 * ```
 */
export function journalFallbackDir(dataDir: string): string {
  let end = dataDir.length;
  while (end > 1 && (dataDir[end - 1] === "/" || dataDir[end - 1] === "\\")) end--;
  return `/tmp/pattern-tracker-${posixCksum(new TextEncoder().encode(dataDir.slice(0, end)))}`;
}

/**
 * The checksum of POSIX `cksum`: CRC-32 (polynomial 0x04C11DB7, most significant bit first) of the
 * bytes and then of their length, complemented.
 *
 * @example
 * ```ts
 * import { posixCksum } from "./journal.ts";
 * posixCksum(new TextEncoder().encode("abc")); // 1219131554, as `printf abc | cksum` prints
 * ```
 */
export function posixCksum(bytes: Uint8Array): number {
  let crc = 0;
  const add = (byte: number) => {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
  };
  for (const byte of bytes) add(byte);
  for (let length = bytes.length; length > 0; length = Math.floor(length / 256)) add(length & 0xff);
  return ~crc >>> 0;
}

/**
 * Owner of the data directory (or of its parent when it does not exist yet), null if unknown.
 *
 * @example
 * ```ts
 * import { ownerOf } from "./journal.ts";
 * ownerOf("/tmp"); // 0 for root's /tmp
 * ```
 */
export function ownerOf(dataDir: string): number | null {
  for (const path of [dataDir, dataDir.replace(/[\\/][^\\/]*$/, "") || "/"]) {
    try {
      return Deno.statSync(path).uid;
    } catch { /* try the parent */ }
  }
  return null;
}

/**
 * Checks that an existing fallback directory is safe to trust: a real directory, not a symlink,
 * owned by the data directory's owner, closed to others (tightened when it is ours). Throws if not.
 *
 * @example
 * ```ts
 * import { checkFallbackDir } from "./journal.ts";
 * checkFallbackDir(Deno.makeTempDirSync(), null);
 * ```
 */
export function checkFallbackDir(dir: string, owner: number | null): void {
  const info = Deno.lstatSync(dir);
  if (!info.isDirectory || info.isSymlink) {
    throw new StoreError("symlink", `${dir} is not a directory of ours; not used as a journal`);
  }
  if (owner !== null && info.uid !== null && info.uid !== owner) {
    throw new StoreError(
      "readonly",
      `${dir} belongs to user ${info.uid}, not to the data directory's owner ${owner}; not used as a journal`,
    );
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) Deno.chmodSync(dir, 0o700);
}

/**
 * The fallback directory of a data directory when it exists and is safe to write to (ours, not a
 * symlink, closed to others), else null. For the last-resort log line of a lost record.
 *
 * @example
 * ```ts
 * import { usableFallbackDir } from "./journal.ts";
 * usableFallbackDir("/nonexistent/data"); // null, or the directory when a spill made it
 * ```
 */
export function usableFallbackDir(dataDir: string): string | null {
  const dir = journalFallbackDir(dataDir);
  try {
    checkFallbackDir(dir, ownerOf(dataDir));
    return dir;
  } catch {
    return null;
  }
}

/** A directory that holds (or may hold) journal files. */
export interface JournalPlace {
  dir: string;
  /** Journal file names in it. */
  files: string[];
}

/**
 * The journal files waiting in the data directory (from a listing the caller made, so a hook pays
 * nothing more) and in the fallback directory (one listing; the directory is created when absent,
 * so that the next look does not throw). Places without files are left out.
 *
 * @example
 * ```ts
 * import { pendingJournalPlaces } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * pendingJournalPlaces(dir, new Map()); // []
 * ```
 */
export function pendingJournalPlaces(
  dataDir: string,
  dataDirEntries: ReadonlyMap<string, boolean>,
): JournalPlace[] {
  const places: JournalPlace[] = [];
  const primary = journalNames([...dataDirEntries.keys()]);
  if (primary.length > 0) places.push({ dir: dataDir, files: primary });
  const fallbackDir = journalFallbackDir(dataDir);
  try {
    const names: string[] = [];
    for (const entry of Deno.readDirSync(fallbackDir)) names.push(entry.name);
    const fallback = journalNames(names);
    if (fallback.length > 0) {
      checkFallbackDir(fallbackDir, ownerOf(dataDir));
      places.push({ dir: fallbackDir, files: fallback });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      try {
        Deno.mkdirSync(fallbackDir, { mode: 0o700 });
      } catch { /* another process made it, or /tmp refuses: looked at again next time */ }
    }
    // Not permitted (hooks installed before the fallback was in their flags) or not ours: skipped.
  }
  return places;
}

/**
 * Journal file names among `names`, the replaying ones first (oldest name first), then the journal.
 *
 * @example
 * ```ts
 * import { journalNames } from "./journal.ts";
 * journalNames(["patterns.db", "spill-journal.jsonl"]); // ["spill-journal.jsonl"]
 * ```
 */
export function journalNames(names: readonly string[]): string[] {
  const replaying = names.filter((n) => n.startsWith(REPLAYING_PREFIX) && n.endsWith(".jsonl"))
    .sort();
  return names.includes(JOURNAL_FILE) ? [...replaying, JOURNAL_FILE] : replaying;
}
