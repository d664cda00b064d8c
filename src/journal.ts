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
 * @module
 */

import { classifyStoreError, fileIdentity, sameFile, StoreError } from "./store_failure.ts";

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
 * The second place for the journal, outside the data directory: `/tmp/pattern-tracker-<16 hex>`,
 * the hex being a hash of the data directory's path (two 32-bit multiplicative hashes, FNV-1a and
 * a Murmur constant, on its UTF-16 code units: plain number arithmetic, cheap on a hook's path) so
 * that each data directory has its own. The hooks' `--allow-read` and `--allow-write` include it.
 *
 * @example
 * ```ts
 * import { journalFallbackDir } from "./journal.ts";
 * journalFallbackDir("/home/dev/.claude/pattern-tracker"); // "/tmp/pattern-tracker-…" (16 hex)
 * ```
 */
export function journalFallbackDir(dataDir: string): string {
  const path = dataDir.replace(/[\\/]+$/, "");
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return `/tmp/pattern-tracker-${hex(a)}${hex(b)}`;
}

/**
 * Formats an entry as one journal line (pure).
 *
 * @example
 * ```ts
 * import { formatJournalLine } from "./journal.ts";
 * formatJournalLine({ journal: 1, id: "i", spilled_at: "t", reason: "r", record: {} }).endsWith("\n"); // true
 * ```
 */
export function formatJournalLine(entry: JournalEntry): string {
  return JSON.stringify(entry) + "\n";
}

/**
 * Reads journal text (pure): the entries in order, and how many lines were torn (a writer killed
 * mid-line) or not ours.
 *
 * @example
 * ```ts
 * import { parseJournalText } from "./journal.ts";
 * parseJournalText('{"journal":1,"id":"a","spilled_at":"t","reason":"r","record":{}}\n{"jour').torn; // 1
 * ```
 */
export function parseJournalText<R = unknown>(
  text: string,
): { entries: JournalEntry<R>[]; torn: number } {
  const entries: JournalEntry<R>[] = [];
  let torn = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const e = JSON.parse(line) as JournalEntry<R>;
      if (
        e?.journal === JOURNAL_FORMAT && typeof e.id === "string" &&
        typeof e.spilled_at === "string" && typeof e.reason === "string" &&
        typeof e.record === "object" && e.record !== null
      ) entries.push(e);
      else torn++;
    } catch {
      torn++;
    }
  }
  return { entries, torn };
}

/** Where a spilled entry went. */
export interface SpillPlace {
  /** The journal file written. */
  file: string;
  /** True when the disk was full and the reserve was released to make room. */
  releasedReserve: boolean;
}

/**
 * Appends one entry to the first journal place that takes it (see the module). Throws, naming
 * every place's failure, when none does: the record is lost, and the caller says so where it can.
 *
 * @example
 * ```ts
 * import { spillEntry } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * spillEntry(dir, { journal: 1, id: crypto.randomUUID(), spilled_at: new Date().toISOString(), reason: "locked", record: {} }).file;
 * // `${dir}/spill-journal.jsonl`
 * ```
 */
export function spillEntry(dataDir: string, entry: JournalEntry): SpillPlace {
  const line = new TextEncoder().encode(formatJournalLine(entry));
  const failures: string[] = [];
  const primary = `${dataDir}/${JOURNAL_FILE}`;
  try {
    appendLine(primary, line);
    return { file: primary, releasedReserve: false };
  } catch (error) {
    failures.push(`${primary}: ${(error as Error).message}`);
    if (classifyStoreError(error) === "full" && releaseReserve(dataDir)) {
      try {
        appendLine(primary, line);
        return { file: primary, releasedReserve: true };
      } catch (again) {
        failures.push(`${primary} after releasing ${RESERVE_FILE}: ${(again as Error).message}`);
      }
    }
  }
  const fallbackDir = journalFallbackDir(dataDir);
  const fallback = `${fallbackDir}/${JOURNAL_FILE}`;
  try {
    ensureFallbackDir(fallbackDir, ownerOf(dataDir));
    appendLine(fallback, line);
    return { file: fallback, releasedReserve: false };
  } catch (error) {
    failures.push(`${fallback}: ${(error as Error).message}`);
  }
  throw new Error(`no journal could take the record (${failures.join("; ")})`);
}

/**
 * Appends bytes as one whole line under an exclusive lock, then fsyncs. Refuses a symlink; starts
 * on a new line if a killed writer left a torn one; follows a rotation (the file renamed for
 * replay while this process waited for the lock) by appending to the new journal.
 */
function appendLine(path: string, line: Uint8Array): void {
  for (let attempt = 0; attempt < 5; attempt++) {
    refuseSymlink(path);
    const file = Deno.openSync(path, { read: true, append: true, create: true, mode: 0o600 });
    try {
      file.lockSync(true);
      const opened = file.statSync();
      if (!sameFile(fileIdentity(path), { dev: opened.dev, ino: opened.ino })) continue;
      let bytes = line;
      if (opened.size > 0) {
        const last = new Uint8Array(1);
        file.seekSync(opened.size - 1, Deno.SeekMode.Start);
        if (file.readSync(last) === 1 && last[0] !== 0x0a) {
          bytes = new Uint8Array(line.length + 1);
          bytes[0] = 0x0a;
          bytes.set(line, 1);
        }
      }
      for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
      file.syncSync();
      return;
    } finally {
      file.close(); // releases the lock
    }
  }
  throw new Error(`${path} kept being replaced while appending`);
}

/** Throws a StoreError when `path` is a symbolic link (never write through one). */
function refuseSymlink(path: string): void {
  let isLink = false;
  try {
    isLink = Deno.lstatSync(path).isSymlink;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (isLink) {
    throw new StoreError(
      "symlink",
      `${path} is a symbolic link; the journal refuses to follow it (replace it with a regular file or remove it)`,
    );
  }
}

/** Owner of the data directory (or of its parent when it does not exist yet), null if unknown. */
function ownerOf(dataDir: string): number | null {
  for (const path of [dataDir, dataDir.replace(/[\\/][^\\/]*$/, "") || "/"]) {
    try {
      return Deno.statSync(path).uid;
    } catch { /* try the parent */ }
  }
  return null;
}

/**
 * Creates the fallback directory (0700) or checks that the existing one is safe to trust: a real
 * directory, not a symlink, owned by the data directory's owner, closed to others. /tmp is shared:
 * another user could have made the path first.
 */
function ensureFallbackDir(dir: string, owner: number | null): void {
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  checkFallbackDir(dir, owner);
}

function checkFallbackDir(dir: string, owner: number | null): void {
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

/**
 * True when the disk-full reserve existed and was removed.
 *
 * @example
 * ```ts
 * import { releaseReserve } from "./journal.ts";
 * releaseReserve(Deno.makeTempDirSync()); // false: there was none
 * ```
 */
export function releaseReserve(dataDir: string): boolean {
  try {
    Deno.removeSync(`${dataDir}/${RESERVE_FILE}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the disk-full reserve exists (1 MiB of random bytes: zeros would take no space on a
 * compressing file system). Called off the hooks' path (the CLI, the flusher, after a replay).
 * Returns whether it is in place. Never throws.
 *
 * @example
 * ```ts
 * import { ensureReserve } from "./journal.ts";
 * ensureReserve(Deno.makeTempDirSync()); // true
 * ```
 */
export function ensureReserve(dataDir: string): boolean {
  const path = `${dataDir}/${RESERVE_FILE}`;
  try {
    const info = Deno.lstatSync(path);
    if (info.isFile && info.size >= RESERVE_BYTES) return true;
  } catch { /* absent: make it */ }
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    const bytes = new Uint8Array(RESERVE_BYTES);
    for (let off = 0; off < bytes.length; off += 65536) {
      crypto.getRandomValues(bytes.subarray(off, off + 65536));
    }
    Deno.writeFileSync(temporary, bytes, { mode: 0o600 });
    Deno.renameSync(temporary, path);
    return true;
  } catch {
    try {
      Deno.removeSync(temporary);
    } catch { /* never made */ }
    return false;
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

/** Journal file names among `names`, the replaying ones first (oldest name first), then the journal. */
function journalNames(names: readonly string[]): string[] {
  const replaying = names.filter((n) => n.startsWith(REPLAYING_PREFIX) && n.endsWith(".jsonl"))
    .sort();
  return names.includes(JOURNAL_FILE) ? [...replaying, JOURNAL_FILE] : replaying;
}

/** Entries read for replay, the files they came from, and lines that could not be read. */
export interface CollectedJournal<R = unknown> {
  entries: PendingEntry<R>[];
  /** Files to delete once their entries are applied. */
  files: string[];
  torn: number;
  /** Places that could not be read (a symlinked journal, a file that is not ours). */
  problems: string[];
}

/**
 * Takes every waiting journal file for replay: the live journal of each place is renamed to a
 * `spill-replaying-…` file under its lock (so a writer appends either before the rename, or to a
 * new journal), then all replaying files are read. Entries come back in the order they were
 * spilled. A file that another replayer deletes meanwhile was applied already and is skipped.
 *
 * @example
 * ```ts
 * import { collectJournal, pendingJournalPlaces } from "./journal.ts";
 * // const collected = collectJournal(pendingJournalPlaces(dir, scan.entries));
 * ```
 */
export function collectJournal<R = unknown>(
  places: readonly JournalPlace[],
  now: Date = new Date(),
): CollectedJournal<R> {
  const collected: CollectedJournal<R> = { entries: [], files: [], torn: 0, problems: [] };
  const order: { pending: PendingEntry<R>; rank: number }[] = [];
  for (const place of places) {
    const files = place.files.filter((f) => f !== JOURNAL_FILE).map((f) => `${place.dir}/${f}`);
    if (place.files.includes(JOURNAL_FILE)) {
      try {
        const taken = takeForReplay(`${place.dir}/${JOURNAL_FILE}`, now);
        if (taken) files.push(taken);
      } catch (error) {
        collected.problems.push((error as Error).message);
      }
    }
    for (const file of files) {
      let text: string;
      try {
        refuseSymlink(file);
        text = Deno.readTextFileSync(file);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) {
          collected.problems.push(`${file}: ${(error as Error).message}`);
        }
        continue;
      }
      const { entries, torn } = parseJournalText<R>(text);
      collected.torn += torn;
      collected.files.push(file);
      for (const entry of entries) {
        order.push({ pending: { entry, file }, rank: order.length });
      }
    }
  }
  // By spill time; within the same millisecond, in the order written.
  order.sort((a, b) =>
    a.pending.entry.spilled_at < b.pending.entry.spilled_at
      ? -1
      : a.pending.entry.spilled_at > b.pending.entry.spilled_at
      ? 1
      : a.rank - b.rank
  );
  collected.entries = order.map((o) => o.pending);
  return collected;
}

/** Renames the live journal for replay under its lock; returns the new path, or null if absent. */
function takeForReplay(path: string, now: Date): string | null {
  refuseSymlink(path);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    file.lockSync(true);
    const opened = file.statSync();
    // Renamed by another replayer while this one waited: that one has it.
    if (!sameFile(fileIdentity(path), { dev: opened.dev, ino: opened.ino })) return null;
    const stamp = now.toISOString().replaceAll(/[-:]/g, "");
    const taken = `${path.replace(/[^\\/]*$/, "")}${REPLAYING_PREFIX}${stamp}-${
      crypto.randomUUID().slice(0, 8)
    }.jsonl`;
    Deno.renameSync(path, taken);
    return taken;
  } finally {
    file.close();
  }
}

/**
 * Deletes replayed journal files (after the transaction that applied their entries committed).
 * Never throws: a file left behind is skipped entry by entry next time.
 *
 * @example
 * ```ts
 * import { removeJournalFiles } from "./journal.ts";
 * removeJournalFiles(["/nonexistent/spill-replaying-x.jsonl"]);
 * ```
 */
export function removeJournalFiles(files: readonly string[]): void {
  for (const file of files) {
    try {
      Deno.removeSync(file);
    } catch { /* gone already (another replayer), or not removable: harmless */ }
  }
}

/**
 * Entries still waiting in every journal place of a data directory, for `status` (reads the
 * files; takes nothing).
 *
 * @example
 * ```ts
 * import { waitingEntries } from "./journal.ts";
 * waitingEntries(Deno.makeTempDirSync()).entries.length; // 0
 * ```
 */
export function waitingEntries(dataDir: string): {
  entries: JournalEntry[];
  torn: number;
  places: string[];
} {
  const result = { entries: [] as JournalEntry[], torn: 0, places: [] as string[] };
  for (const dir of [dataDir, journalFallbackDir(dataDir)]) {
    let names: string[] = [];
    try {
      names = [...Deno.readDirSync(dir)].map((e) => e.name);
    } catch {
      continue;
    }
    for (const name of journalNames(names)) {
      try {
        const { entries, torn } = parseJournalText(Deno.readTextFileSync(`${dir}/${name}`));
        result.entries.push(...entries);
        result.torn += torn;
        if (!result.places.includes(dir)) result.places.push(dir);
      } catch { /* removed meanwhile */ }
    }
  }
  return result;
}
