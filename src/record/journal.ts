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

import { StoreError } from "../store/failure.ts";

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
 * import assert from "node:assert/strict";
 * import { journalFallbackDir, posixCksum } from "./journal.ts";
 * const dataDir = "/home/dev/.claude/pattern-tracker";
 * assert.equal(journalFallbackDir(dataDir), `/tmp/pattern-tracker-${posixCksum(dataDir)}`);
 * ```
 */
export function journalFallbackDir(dataDir: string): string {
  let end = dataDir.length;
  while (end > 1 && (dataDir.charCodeAt(end - 1) === 47 || dataDir.charCodeAt(end - 1) === 92)) {
    end--; // trailing / or \
  }
  return `/tmp/pattern-tracker-${posixCksum(dataDir.slice(0, end))}`;
}

/**
 * The checksum of POSIX `cksum` of a text's UTF-8 bytes: CRC-32 (polynomial 0x04C11DB7, most
 * significant bit first) of the bytes and then of their length, complemented. Table-driven: a hook computes it on every run, and
 * a bit-by-bit loop costs a cold process a quarter of a millisecond.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { posixCksum } from "./journal.ts";
 * assert.equal(posixCksum("abc"), 1219131554); // as `printf abc | cksum` prints
 * ```
 */
export function posixCksum(text: string): number {
  // UTF-8 bytes; a plain ASCII path (the usual case) needs no encoder.
  let ascii = true;
  for (let i = 0; i < text.length && ascii; i++) ascii = text.charCodeAt(i) < 128;
  const bytes: { length: number; [i: number]: number } = ascii
    ? { length: text.length }
    : new TextEncoder().encode(text);
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = ascii ? text.charCodeAt(i) : bytes[i] as number;
    crc = (crc << 8) ^ (CKSUM_TABLE[(crc >>> 24) ^ byte] as number);
  }
  for (let length = bytes.length; length > 0; length = Math.floor(length / 256)) {
    crc = (crc << 8) ^ (CKSUM_TABLE[(crc >>> 24) ^ (length & 0xff)] as number);
  }
  return ~crc >>> 0;
}

/** CRC-32/POSIX of each byte value (polynomial 0x04C11DB7). */
// deno-fmt-ignore
const CKSUM_TABLE: readonly number[] = [
  0x00000000, 0x04c11db7, 0x09823b6e, 0x0d4326d9, 0x130476dc, 0x17c56b6b, 0x1a864db2, 0x1e475005,
  0x2608edb8, 0x22c9f00f, 0x2f8ad6d6, 0x2b4bcb61, 0x350c9b64, 0x31cd86d3, 0x3c8ea00a, 0x384fbdbd,
  0x4c11db70, 0x48d0c6c7, 0x4593e01e, 0x4152fda9, 0x5f15adac, 0x5bd4b01b, 0x569796c2, 0x52568b75,
  0x6a1936c8, 0x6ed82b7f, 0x639b0da6, 0x675a1011, 0x791d4014, 0x7ddc5da3, 0x709f7b7a, 0x745e66cd,
  0x9823b6e0, 0x9ce2ab57, 0x91a18d8e, 0x95609039, 0x8b27c03c, 0x8fe6dd8b, 0x82a5fb52, 0x8664e6e5,
  0xbe2b5b58, 0xbaea46ef, 0xb7a96036, 0xb3687d81, 0xad2f2d84, 0xa9ee3033, 0xa4ad16ea, 0xa06c0b5d,
  0xd4326d90, 0xd0f37027, 0xddb056fe, 0xd9714b49, 0xc7361b4c, 0xc3f706fb, 0xceb42022, 0xca753d95,
  0xf23a8028, 0xf6fb9d9f, 0xfbb8bb46, 0xff79a6f1, 0xe13ef6f4, 0xe5ffeb43, 0xe8bccd9a, 0xec7dd02d,
  0x34867077, 0x30476dc0, 0x3d044b19, 0x39c556ae, 0x278206ab, 0x23431b1c, 0x2e003dc5, 0x2ac12072,
  0x128e9dcf, 0x164f8078, 0x1b0ca6a1, 0x1fcdbb16, 0x018aeb13, 0x054bf6a4, 0x0808d07d, 0x0cc9cdca,
  0x7897ab07, 0x7c56b6b0, 0x71159069, 0x75d48dde, 0x6b93dddb, 0x6f52c06c, 0x6211e6b5, 0x66d0fb02,
  0x5e9f46bf, 0x5a5e5b08, 0x571d7dd1, 0x53dc6066, 0x4d9b3063, 0x495a2dd4, 0x44190b0d, 0x40d816ba,
  0xaca5c697, 0xa864db20, 0xa527fdf9, 0xa1e6e04e, 0xbfa1b04b, 0xbb60adfc, 0xb6238b25, 0xb2e29692,
  0x8aad2b2f, 0x8e6c3698, 0x832f1041, 0x87ee0df6, 0x99a95df3, 0x9d684044, 0x902b669d, 0x94ea7b2a,
  0xe0b41de7, 0xe4750050, 0xe9362689, 0xedf73b3e, 0xf3b06b3b, 0xf771768c, 0xfa325055, 0xfef34de2,
  0xc6bcf05f, 0xc27dede8, 0xcf3ecb31, 0xcbffd686, 0xd5b88683, 0xd1799b34, 0xdc3abded, 0xd8fba05a,
  0x690ce0ee, 0x6dcdfd59, 0x608edb80, 0x644fc637, 0x7a089632, 0x7ec98b85, 0x738aad5c, 0x774bb0eb,
  0x4f040d56, 0x4bc510e1, 0x46863638, 0x42472b8f, 0x5c007b8a, 0x58c1663d, 0x558240e4, 0x51435d53,
  0x251d3b9e, 0x21dc2629, 0x2c9f00f0, 0x285e1d47, 0x36194d42, 0x32d850f5, 0x3f9b762c, 0x3b5a6b9b,
  0x0315d626, 0x07d4cb91, 0x0a97ed48, 0x0e56f0ff, 0x1011a0fa, 0x14d0bd4d, 0x19939b94, 0x1d528623,
  0xf12f560e, 0xf5ee4bb9, 0xf8ad6d60, 0xfc6c70d7, 0xe22b20d2, 0xe6ea3d65, 0xeba91bbc, 0xef68060b,
  0xd727bbb6, 0xd3e6a601, 0xdea580d8, 0xda649d6f, 0xc423cd6a, 0xc0e2d0dd, 0xcda1f604, 0xc960ebb3,
  0xbd3e8d7e, 0xb9ff90c9, 0xb4bcb610, 0xb07daba7, 0xae3afba2, 0xaafbe615, 0xa7b8c0cc, 0xa379dd7b,
  0x9b3660c6, 0x9ff77d71, 0x92b45ba8, 0x9675461f, 0x8832161a, 0x8cf30bad, 0x81b02d74, 0x857130c3,
  0x5d8a9099, 0x594b8d2e, 0x5408abf7, 0x50c9b640, 0x4e8ee645, 0x4a4ffbf2, 0x470cdd2b, 0x43cdc09c,
  0x7b827d21, 0x7f436096, 0x7200464f, 0x76c15bf8, 0x68860bfd, 0x6c47164a, 0x61043093, 0x65c52d24,
  0x119b4be9, 0x155a565e, 0x18197087, 0x1cd86d30, 0x029f3d35, 0x065e2082, 0x0b1d065b, 0x0fdc1bec,
  0x3793a651, 0x3352bbe6, 0x3e119d3f, 0x3ad08088, 0x2497d08d, 0x2056cd3a, 0x2d15ebe3, 0x29d4f654,
  0xc5a92679, 0xc1683bce, 0xcc2b1d17, 0xc8ea00a0, 0xd6ad50a5, 0xd26c4d12, 0xdf2f6bcb, 0xdbee767c,
  0xe3a1cbc1, 0xe760d676, 0xea23f0af, 0xeee2ed18, 0xf0a5bd1d, 0xf464a0aa, 0xf9278673, 0xfde69bc4,
  0x89b8fd09, 0x8d79e0be, 0x803ac667, 0x84fbdbd0, 0x9abc8bd5, 0x9e7d9662, 0x933eb0bb, 0x97ffad0c,
  0xafb010b1, 0xab710d06, 0xa6322bdf, 0xa2f33668, 0xbcb4666d, 0xb8757bda, 0xb5365d03, 0xb1f740b4,
];

/**
 * Owner of the data directory (or of its parent when it does not exist yet), null if unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ownerOf } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * const uid = Deno.statSync(dir).uid;
 * assert.equal(ownerOf(dir), uid);
 * assert.equal(ownerOf(`${dir}/not-yet-made`), uid); // its parent's owner
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
 * import assert from "node:assert/strict";
 * import { checkFallbackDir } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * const uid = Deno.statSync(dir).uid;
 * checkFallbackDir(dir, uid); // a directory of ours: no error
 * const file = `${dir}/file`;
 * Deno.writeTextFileSync(file, "");
 * assert.throws(() => checkFallbackDir(file, uid), /is not a directory of ours/);
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
 * import assert from "node:assert/strict";
 * import { usableFallbackDir } from "./journal.ts";
 * // No spill ever made this data directory's fallback directory.
 * assert.equal(usableFallbackDir(`${Deno.makeTempDirSync()}/data`), null);
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
 * import assert from "node:assert/strict";
 * import { pendingJournalPlaces } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.deepEqual(pendingJournalPlaces(dir, new Map()), []);
 * ```
 */
export function pendingJournalPlaces(
  dataDir: string,
  dataDirEntries: ReadonlyMap<string, boolean>,
): JournalPlace[] {
  const places: JournalPlace[] = [];
  if (hasJournalName(dataDirEntries.keys())) {
    places.push({ dir: dataDir, files: journalNames([...dataDirEntries.keys()]) });
  }
  const fallbackDir = journalFallbackDir(dataDir);
  try {
    const names: string[] = [];
    for (const entry of Deno.readDirSync(fallbackDir)) names.push(entry.name);
    const fallback = names.length === 0 ? names : journalNames(names);
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

/** True when one of `names` may be a journal file (a cheap look before sorting them out). */
function hasJournalName(names: Iterable<string>): boolean {
  for (const name of names) if (name.startsWith("spill-") && name.endsWith(".jsonl")) return true;
  return false;
}

/**
 * Journal file names among `names`, the replaying ones first (oldest name first), then the journal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { journalNames } from "./journal.ts";
 * assert.deepEqual(journalNames(["patterns.db", "spill-journal.jsonl"]), ["spill-journal.jsonl"]);
 * ```
 */
export function journalNames(names: readonly string[]): string[] {
  const replaying = names.filter((n) => n.startsWith(REPLAYING_PREFIX) && n.endsWith(".jsonl"))
    .sort();
  return names.includes(JOURNAL_FILE) ? [...replaying, JOURNAL_FILE] : replaying;
}
