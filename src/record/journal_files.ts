/**
 * The spill journal's file work (see `journal.ts` for where it lives and why): appending a line
 * under an OS file lock with fsync, the disk-full reserve, taking files for replay under the same
 * lock, reading them back in order, and removing them once applied. Loaded only by a process that
 * spills or replays.
 *
 * @module
 */

import {
  checkFallbackDir,
  JOURNAL_FILE,
  JOURNAL_FORMAT,
  type JournalEntry,
  journalFallbackDir,
  journalNames,
  type JournalPlace,
  ownerOf,
  type PendingEntry,
  REPLAYING_PREFIX,
  RESERVE_BYTES,
  RESERVE_FILE,
} from "./journal.ts";
import { classifyStoreError, fileIdentity, sameFile, StoreError } from "../store/failure.ts";

/**
 * Formats an entry as one journal line (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatJournalLine } from "./journal_files.ts";
 * const line = formatJournalLine({ journal: 1, id: "i", spilled_at: "t", reason: "r", record: {} });
 * assert.equal(line, '{"journal":1,"id":"i","spilled_at":"t","reason":"r","record":{}}\n');
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
 * import assert from "node:assert/strict";
 * import { parseJournalText } from "./journal_files.ts";
 * const parsed = parseJournalText(
 *   '{"journal":1,"id":"a","spilled_at":"t","reason":"r","record":{}}\n{"jour',
 * );
 * assert.equal(parsed.entries.length, 1);
 * assert.equal(parsed.torn, 1);
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
 * import assert from "node:assert/strict";
 * import { spillEntry } from "./journal_files.ts";
 * const dir = Deno.makeTempDirSync();
 * const entry = {
 *   journal: 1 as const, id: crypto.randomUUID(), spilled_at: new Date().toISOString(), reason: "locked",
 *   record: {},
 * };
 * assert.equal(spillEntry(dir, entry).file, `${dir}/spill-journal.jsonl`);
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

/**
 * True when the disk-full reserve existed and was removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureReserve, releaseReserve } from "./journal_files.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(releaseReserve(dir), false); // there was none
 * ensureReserve(dir);
 * assert.equal(releaseReserve(dir), true);
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
 * import assert from "node:assert/strict";
 * import { ensureReserve } from "./journal_files.ts";
 * assert.equal(ensureReserve(Deno.makeTempDirSync()), true);
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
 * import assert from "node:assert/strict";
 * import { pendingJournalPlaces } from "./journal.ts";
 * import { collectJournal, spillEntry } from "./journal_files.ts";
 * import { listNames } from "../store/data_dir.ts";
 * const dir = Deno.makeTempDirSync();
 * spillEntry(dir, { journal: 1, id: "a", spilled_at: "t", reason: "locked", record: {} });
 * const collected = collectJournal(pendingJournalPlaces(dir, listNames(dir)));
 * assert.deepEqual(collected.entries.map((p) => p.entry.id), ["a"]);
 * assert.equal(collected.torn, 0);
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
 * import assert from "node:assert/strict";
 * import { removeJournalFiles } from "./journal_files.ts";
 * const file = `${Deno.makeTempDirSync()}/spill-replaying-x.jsonl`;
 * Deno.writeTextFileSync(file, "");
 * removeJournalFiles([file, "/nonexistent/spill-replaying-y.jsonl"]); // a missing file is no error
 * assert.throws(() => Deno.statSync(file), Deno.errors.NotFound);
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
 * import assert from "node:assert/strict";
 * import { waitingEntries } from "./journal_files.ts";
 * assert.equal(waitingEntries(Deno.makeTempDirSync()).entries.length, 0);
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
