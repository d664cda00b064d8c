/**
 * Surviving a damaged store: the periodic `PRAGMA quick_check` (in the flusher and `status`, never
 * in a hook), the list of databases moved aside as corrupt, and `recover`, which copies every
 * readable row of a moved-aside database into the current store without duplicates and queues
 * again, in doubt, the recovered versions the current server has not acknowledged.
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { TrackerConfig } from "../config.ts";
import { languageFromPath } from "../record/language.ts";
import type { LogRecord } from "../log.ts";
import { journalWaiting, openAndReplay } from "../record/spill.ts";
import { movedAsideLogger } from "./failure.ts";
import { DB_FILE, MOVED_ASIDE_META, noteMovedAside } from "./open.ts";
import type { PatternRow } from "./pattern_rows.ts";
import type { ExecutionRow, FileVersion } from "./rows.ts";
import { openStore, Store } from "./store.ts";

/** Meta key of the last quick check's time (ms since the epoch). */
const QUICK_CHECK_META = "quick_check_at";
/**
 * File in the data directory whose mtime is the last quick check's time: the flusher looks at it
 * without opening the store (it starts after most hooks' bursts, and mostly has nothing to do).
 */
export const QUICK_CHECK_STAMP = "quick-check.stamp";
/** Meta key prefix of a recovered file's summary. */
export const RECOVERED_META = "recovered:";

/** What a health check found. */
export interface HealthReport {
  /** The store to go on with: the same one, or a fresh one after a move aside. */
  store: Store;
  /** Whether the check ran (it is skipped when one ran within the interval). */
  checked: boolean;
  /** SQLite's findings; empty when sound. */
  problems: string[];
  /** Where the damaged database went, when it was moved aside. */
  movedAside: string | null;
}

/**
 * Runs `PRAGMA quick_check` unless one ran within `everyMs` (0: always). Damage moves the database
 * aside (never deleted) and a fresh store is returned, so recording goes on; `status` then says how
 * to salvage it (`tracker.ts recover FILE`).
 *
 * @example
 * ```ts
 * import { checkStoreHealth } from "./recovery.ts";
 * // const { store, problems } = checkStoreHealth(store, config, { everyMs: 0 });
 * ```
 */
export function checkStoreHealth(
  store: Store,
  config: TrackerConfig,
  options: { everyMs: number; now?: () => Date; log?: (r: LogRecord) => void },
): HealthReport {
  const now = options.now ?? (() => new Date());
  const last = Number(store.meta(QUICK_CHECK_META) ?? 0);
  if (options.everyMs > 0 && now().getTime() - last < options.everyMs) {
    return { store, checked: false, problems: [], movedAside: null };
  }
  let problems: string[];
  try {
    problems = store.quickCheck();
  } catch (error) {
    problems = [String((error as Error)?.message ?? error)];
  }
  stampQuickCheck(config.dataDir);
  if (problems.length === 0) {
    try {
      store.setMeta(QUICK_CHECK_META, String(now().getTime()));
    } catch { /* a locked store: the check runs again next time */ }
    return { store, checked: true, problems, movedAside: null };
  }
  const at = now();
  const reason = `PRAGMA quick_check: ${problems.slice(0, 3).join("; ")}`;
  const aside = store.moveAsideAsCorrupt(at);
  if (aside !== null && options.log) movedAsideLogger(options.log)(aside, reason);
  const fresh = openStore(config.dataDir, { now });
  if (aside !== null) noteMovedAside(fresh, aside, reason, at);
  return { store: fresh, checked: true, problems, movedAside: aside };
}

/** How often the flusher runs `PRAGMA quick_check` (it reads the whole database). */
export const QUICK_CHECK_EVERY_MS = 10 * 60 * 1000;

/**
 * The flusher's upkeep before it delivers: replay the spill journal — patiently, since a hook that
 * spilled because the store was locked starts the flusher to do exactly this once the lock is gone
 * (up to `patienceMs`) — and a `PRAGMA quick_check` at most every `quickCheckEveryMs`. Logs what it
 * could not do; never throws.
 *
 * @example
 * ```ts
 * import { replayAndCheckStore } from "./recovery.ts";
 * // await replayAndCheckStore(config, { patienceMs: 60_000, quickCheckEveryMs: QUICK_CHECK_EVERY_MS, log });
 * ```
 */
export async function replayAndCheckStore(
  config: TrackerConfig,
  options: {
    patienceMs: number;
    quickCheckEveryMs: number;
    log: (r: LogRecord) => void;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<void> {
  // Most flusher runs have nothing to replay and no check due: then the store is not opened here.
  if (
    !journalWaiting(config.dataDir) && !quickCheckDue(config.dataDir, options.quickCheckEveryMs)
  ) {
    return;
  }
  const deadline = Date.now() + options.patienceMs;
  const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (;;) {
    let opened;
    try {
      opened = openAndReplay(config, { log: options.log });
    } catch (error) {
      options.log({ level: "error", event: "store_unavailable", reason: (error as Error).message });
      return;
    }
    const waitAgain = opened.replayFailure?.kind === "locked" && Date.now() < deadline;
    if (!waitAgain) {
      if (opened.replayFailure) {
        options.log({
          level: "warn",
          event: "journal_not_replayed",
          reason: opened.replayFailure.message,
        });
      }
      try {
        const health = checkStoreHealth(opened.store, config, {
          everyMs: options.quickCheckEveryMs,
          log: options.log,
        });
        health.store.close();
      } catch (error) {
        opened.store.close();
        options.log({
          level: "error",
          event: "quick_check_failed",
          reason: (error as Error).message,
        });
      }
      return;
    }
    opened.store.close();
    await sleep(250);
  }
}

function quickCheckDue(dataDir: string, everyMs: number): boolean {
  try {
    const at = Deno.statSync(`${dataDir}/${QUICK_CHECK_STAMP}`).mtime?.getTime() ?? 0;
    return Date.now() - at >= everyMs;
  } catch {
    return true; // never checked
  }
}

function stampQuickCheck(dataDir: string): void {
  try {
    Deno.writeFileSync(`${dataDir}/${QUICK_CHECK_STAMP}`, new Uint8Array(), { mode: 0o600 });
  } catch { /* a read-only directory: checked again next time */ }
}

/** A database moved aside as corrupt, for `status`. */
export interface MovedAside {
  path: string;
  /** When and why (from the fresh store's note; null when the note was lost). */
  at: string | null;
  reason: string | null;
  /** When `recover` copied it into this store, or null. */
  recoveredAt: string | null;
}

/**
 * The moved-aside databases of a data directory, oldest first, with what the store noted of them.
 *
 * @example
 * ```ts
 * import { movedAsideStores } from "./recovery.ts";
 * // for (const m of movedAsideStores(dataDir, store)) console.log(m.path, m.reason);
 * ```
 */
export function movedAsideStores(dataDir: string, store: Store | null): MovedAside[] {
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(dataDir)].map((e) => e.name).filter((n) =>
      n.startsWith(`${DB_FILE}.corrupt-`) && !/-(?:wal|shm)$/.test(n)
    ).sort();
  } catch {
    return [];
  }
  const notes = store?.metaWithPrefix(MOVED_ASIDE_META) ?? new Map<string, string>();
  const recovered = store?.metaWithPrefix(RECOVERED_META) ?? new Map<string, string>();
  return names.map((name) => {
    const note = parseJson(notes.get(name));
    const done = parseJson(recovered.get(name));
    return {
      path: `${dataDir}/${name}`,
      at: typeof note?.at === "string" ? note.at : null,
      reason: typeof note?.reason === "string" ? note.reason : null,
      recoveredAt: typeof done?.at === "string" ? done.at : null,
    };
  });
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** What `recover` copied. */
export interface RecoveryReport {
  file: string;
  /** Rows read from each table (what was readable). */
  read: Record<string, number>;
  /** Rows added to the current store, per table. */
  added: Record<string, number>;
  /**
   * Recovered versions queued for delivery, in doubt (the flusher asks the server before sending):
   * those the current server had not acknowledged and not refused.
   */
  requeued: number;
  /** Files whose salvaged history conflicts with the current one (left as they are). */
  conflicts: string[];
  /** Tables, or parts of them, that could not be read. */
  unreadable: string[];
  /** What was done to read the file (a rewritten header). */
  repairs: string[];
}

type Row = Record<string, unknown>;

/**
 * The tables `recover` reads, each with the orders that walk its b-tree end to end (its key in the
 * current schema, then in older ones: a per-server outbox since schema v3, executions by session
 * since v5). `pattern_code` (v4) holds the code of most patterns; it is read through the store's
 * own decoding.
 */
const TABLES: readonly { name: string; orders: string[] }[] = [
  { name: "patterns", orders: ["pattern_id"] },
  { name: "file_versions", orders: ["id"] },
  { name: "lineage_edges", orders: ["child_pattern_id, parent_pattern_id"] },
  { name: "executions", orders: ["session_key, tool_use_id, call_seq", "tool_use_id"] },
  { name: "outbox", orders: ["id"] },
  { name: "dead_letters", orders: ["server, version_id", "outbox_id"] },
  { name: "delivered", orders: ["seq", "pattern_id, pattern_version"] },
  { name: "journal_replays", orders: ["entry_id"] },
];

/**
 * Copies every readable row of a database (a moved-aside one) into `store`, in one transaction,
 * without duplicates: patterns with their code, file versions (a file's salvaged history goes
 * before the versions recorded since; a baseline that only repeats the salvaged last version is
 * dropped), lineage edges, executions, each server's delivered marks and dead letters, and the
 * replayed journal entries. The recovered versions that `server` (the current one) neither
 * acknowledged nor refused are queued again, in doubt: the old store may have sent them, so the
 * flusher asks the server before sending. The file itself is never changed: it is read from a
 * copy. A damaged table is read from both ends around the damage.
 *
 * @example
 * ```ts
 * import { recoverInto } from "./recovery.ts";
 * // const report = recoverInto(store, "/d/patterns.db.corrupt-20261125T020927.034Z", { server: "http://localhost:8053" });
 * ```
 */
export function recoverInto(
  store: Store,
  file: string,
  options: { server: string; now?: Date },
): RecoveryReport {
  const now = options.now ?? new Date();
  const report: RecoveryReport = {
    file,
    read: {},
    added: {},
    requeued: 0,
    conflicts: [],
    unreadable: [],
    repairs: [],
  };
  const rows = readSalvage(file, report);
  const add = (table: string, n = 1) => report.added[table] = (report.added[table] ?? 0) + n;
  store.immediate(() => {
    for (const r of rows.patterns ?? []) {
      const p = toPattern(r);
      if (p && store.insertPattern(p)) add("patterns");
    }
    const salvaged = (rows.file_versions ?? []).map((r) => ({ id: r.id, v: toVersion(r) }));
    const restored = restoreVersions(store, salvaged.map((x) => x.v).filter(isDefined), report);
    for (const r of rows.lineage_edges ?? []) {
      if (typeof r.child_pattern_id !== "string" || typeof r.parent_pattern_id !== "string") {
        continue;
      }
      const added = store.insertEdge({
        child: r.child_pattern_id,
        parent: r.parent_pattern_id,
        edgeType: String(r.edge_type ?? "modified_from"),
        transformationType: strOrNull(r.transformation_type),
        filePath: strOrNull(r.file_path),
        createdAt: String(r.created_at ?? now.toISOString()),
      });
      if (added) add("lineage_edges");
    }
    for (const r of rows.executions ?? []) {
      const x = toExecution(r);
      if (!x) continue;
      const same = store.executionsOfCall(x.sessionId, x.toolUseId).some((e) =>
        e.patternId === x.patternId && e.finishedAt === x.finishedAt && e.startedAt === x.startedAt
      );
      if (!same) {
        store.finishExecution(x);
        add("executions");
      }
    }
    restoreDelivery(store, rows, salvaged, restored, options.server, now, report, add);
    for (const r of rows.journal_replays ?? []) {
      if (typeof r.entry_id !== "string" || store.journalApplied(r.entry_id)) continue;
      store.markJournalApplied({
        entryId: r.entry_id,
        spilledAt: String(r.spilled_at ?? ""),
        reason: String(r.reason ?? ""),
        place: String(r.place ?? ""),
        replayedAt: String(r.replayed_at ?? now.toISOString()),
      });
      add("journal_replays");
    }
    const name = file.slice(file.lastIndexOf("/") + 1);
    store.setMeta(
      `${RECOVERED_META}${name}`,
      JSON.stringify({ at: now.toISOString(), added: report.added, requeued: report.requeued }),
    );
  });
  return report;
}

/**
 * Each server's delivered marks and dead letters of the salvaged versions, copied onto the
 * versions as they are numbered here; then the versions recovery added that `server` neither
 * acknowledged nor refused, queued in doubt. A mark of an older schema names (pattern, version)
 * instead of a version row, and no server: it is matched to the salvaged version like migration 3
 * does, and given to the server this store delivers to (as that migration's first flush would),
 * or to `server` before this store's first flush.
 */
function restoreDelivery(
  store: Store,
  rows: Record<string, Row[]>,
  salvaged: readonly { id: unknown; v: FileVersion | null }[],
  restored: readonly FileVersion[],
  server: string,
  now: Date,
  report: RecoveryReport,
  add: (table: string) => void,
): void {
  const byOldId = new Map<number, FileVersion>();
  for (const { id, v } of salvaged) if (v && typeof id === "number") byOldId.set(id, v);
  const byNumber = (patternId: unknown, version: unknown, body: unknown) => {
    let filePath: unknown = undefined;
    try {
      filePath = typeof body === "string" ? JSON.parse(body)?.file_path : undefined;
    } catch { /* matched without the path */ }
    const n = Number.parseInt(String(version), 10);
    return salvaged.find(({ v }) =>
      v !== null && v.patternId === patternId && v.version === n &&
      (typeof filePath !== "string" || v.filePath === filePath)
    )?.v;
  };
  // The version's row here, when it holds the same pattern (a conflicting history was left out).
  const idHere = (v: FileVersion | null | undefined): number | null => {
    if (!v) return null;
    const id = store.versionId(v.filePath, v.version);
    return id !== undefined && store.versionById(id)?.patternId === v.patternId ? id : null;
  };
  // A mark of no server goes to the server this store delivers to, or, before its first flush,
  // to the configured one (which that flush would give the unattributed marks to).
  const oldServer = (r: Row) =>
    typeof r.server === "string" && r.server !== ""
      ? r.server
      : store.meta("delivery_server") ?? server;
  const salvagedVersion = (r: Row) =>
    typeof r.version_id === "number"
      ? byOldId.get(r.version_id)
      : byNumber(r.pattern_id, r.pattern_version, r.body);
  let unmatched = 0;
  for (const r of rows.delivered ?? []) {
    const id = idHere(salvagedVersion(r));
    if (id === null) {
      unmatched++;
      continue;
    }
    const at = String(r.delivered_at ?? now.toISOString());
    if (store.insertDelivered(oldServer(r), id, at)) add("delivered");
  }
  for (const r of rows.dead_letters ?? []) {
    const id = idHere(salvagedVersion(r));
    if (id === null) {
      unmatched++;
      continue;
    }
    const refusal = {
      status: numOrNull(r.status),
      message: String(r.message ?? "refused"),
      verdict: strOrNull(r.verdict),
    };
    if (store.insertDeadLetter(oldServer(r), id, refusal, String(r.dead_at ?? now.toISOString()))) {
      add("dead_letters");
    }
  }
  for (const r of rows.outbox ?? []) {
    if (idHere(salvagedVersion(r)) === null) unmatched++;
  }
  if (unmatched > 0) {
    report.unreadable.push(
      `${unmatched} delivery record(s) name versions that could not be read or were left out`,
    );
  }
  const at = now.toISOString();
  for (const v of restored) {
    const id = idHere(v);
    if (id === null || store.versionStanding(server, id) !== "none") continue;
    store.enqueueVersion(id, at, { inDoubt: true });
    report.requeued++;
  }
}

function isDefined<T>(x: T | null | undefined): x is T {
  return x !== null && x !== undefined;
}

/** Tool names of the versions recording adds to bridge to content it never saw. */
const BRIDGES = new Set(["baseline", "external"]);

/**
 * Each file's salvaged versions: inserted as they were when the number is free; when the current
 * store recorded the file since, the current versions move up after the salvaged ones (a leading
 * baseline that repeats the salvaged last pattern is dropped). Histories that interleave in time
 * are not merged: the file is reported as a conflict. Returns the versions it added.
 */
function restoreVersions(
  store: Store,
  versions: FileVersion[],
  report: RecoveryReport,
): FileVersion[] {
  const restored: FileVersion[] = [];
  const byFile = new Map<string, FileVersion[]>();
  for (const v of versions) {
    const list = byFile.get(v.filePath) ?? [];
    list.push(v);
    byFile.set(v.filePath, list);
  }
  for (const [file, salvaged] of byFile) {
    salvaged.sort((a, b) => a.version - b.version);
    let current = store.fileHistory(file);
    // A bridge the fresh store made (baseline, external) for content the salvaged history holds
    // with its real origin: the salvaged version replaces it.
    for (const v of salvaged) {
      const c = current.find((c) => c.version === v.version && c.patternId === v.patternId);
      if (c && BRIDGES.has(c.toolName) && !BRIDGES.has(v.toolName)) {
        store.deleteVersion(file, c.version);
      }
    }
    current = store.fileHistory(file);
    const missing = salvaged.filter((v) =>
      !current.some((c) => c.version === v.version && c.patternId === v.patternId)
    );
    if (missing.length === 0) continue;
    const taken = missing.some((v) => current.some((c) => c.version === v.version));
    if (taken) {
      const lastSalvaged = salvaged[salvaged.length - 1] as FileVersion;
      const firstCurrent = current[0];
      if (!firstCurrent || firstCurrent.createdAt < lastSalvaged.createdAt) {
        report.conflicts.push(file);
        continue;
      }
      let shift = lastSalvaged.version;
      if (
        firstCurrent.toolName === "baseline" && firstCurrent.patternId === lastSalvaged.patternId
      ) {
        store.deleteVersion(file, firstCurrent.version);
        shift -= 1;
      }
      store.shiftVersions(file, shift);
    }
    for (const v of missing) {
      if (!store.hasPattern(v.patternId)) {
        // The pattern's row sat on a damaged page: keep the version (the lineage) with a pattern
        // that says its content could not be read.
        store.insertPattern({
          patternId: v.patternId,
          language: languageFromPath(v.filePath.replace(/#.*$/, "")),
          lineCount: 0,
          byteSize: 0,
          code: null,
          firstSeenAt: v.createdAt,
          codeOmitted: "unreadable",
        });
        report.added.unreadable_patterns = (report.added.unreadable_patterns ?? 0) + 1;
      }
      if (store.insertVersionIfAbsent(v) !== null) {
        report.added.file_versions = (report.added.file_versions ?? 0) + 1;
        restored.push(v);
      }
    }
  }
  return restored;
}

/**
 * Puts each salvaged pattern's code in its row's `code`: since schema v4 most of it is a snapshot
 * or a line patch in `pattern_code`, read back through the store's own decoding (a chain that
 * runs through a damaged row cannot be read: that pattern's code is "unreadable").
 */
function readCode(db: DatabaseSync, path: string, patterns: Row[], report: RecoveryReport): void {
  const hasCodeTable = db.prepare(
    "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'pattern_code'",
  ).get() !== undefined;
  if (!hasCodeTable) return; // the text, if any, is in `code`
  const reader = new Store(db, path, null);
  let unreadable = 0;
  for (const r of patterns) {
    if (typeof r.pattern_id !== "string" || r.code_omitted) continue;
    try {
      const code = reader.code(r.pattern_id);
      if (typeof code === "string") r.code = code;
    } catch {
      r.code = null;
      r.code_omitted = "unreadable";
      unreadable++;
    }
  }
  if (unreadable > 0) report.unreadable.push(`the code of ${unreadable} pattern(s)`);
}

/** Reads every table of a copy of `file`, each as far as it can be read from both ends. */
function readSalvage(file: string, report: RecoveryReport): Record<string, Row[]> {
  const scratch = Deno.makeTempDirSync({ prefix: "pattern-tracker-recover-" });
  const copy = `${scratch}/${DB_FILE}`;
  const out: Record<string, Row[]> = {};
  try {
    Deno.copyFileSync(file, copy);
    let hasWal = false;
    try {
      Deno.copyFileSync(`${file}-wal`, `${copy}-wal`);
      hasWal = true;
    } catch { /* no WAL beside it */ }
    const db = openReadable(copy, hasWal, report);
    if (db === null) return out;
    try {
      for (const table of TABLES) {
        out[table.name] = readTable(db, table.name, table.orders, report);
        report.read[table.name] = out[table.name]!.length;
      }
      readCode(db, copy, out.patterns ?? [], report);
    } finally {
      db.close();
    }
  } catch (error) {
    report.unreadable.push(`${file}: ${(error as Error).message}`);
  } finally {
    Deno.removeSync(scratch, { recursive: true });
  }
  return out;
}

/**
 * Opens the scratch copy so that its schema can be read. Garbage in the 100-byte file header
 * ("file is not a database") hides every table although the pages behind it are whole: then the
 * header is rewritten in the copy with SQLite's fixed values and each page size the file's length
 * allows, until the schema reads.
 */
function openReadable(copy: string, hasWal: boolean, report: RecoveryReport): DatabaseSync | null {
  const attempt = (): DatabaseSync | null => {
    let db: DatabaseSync | null = null;
    try {
      db = new DatabaseSync(copy);
      db.prepare("SELECT count(*) FROM sqlite_master").get();
      return db;
    } catch {
      db?.close();
      return null;
    }
  };
  const first = attempt();
  if (first) return first;
  const size = Deno.statSync(copy).size;
  const file = Deno.openSync(copy, { read: true, write: true });
  try {
    const header = new Uint8Array(100);
    file.readSync(header);
    const stated = header[16]! * 256 + header[17]!;
    const candidates = [
      stated === 1 ? 65536 : stated,
      4096,
      1024,
      2048,
      8192,
      16384,
      32768,
      65536,
      512,
    ]
      .filter((n, i, all) => n >= 512 && (n & (n - 1)) === 0 && all.indexOf(n) === i)
      .filter((n) => size % n === 0);
    for (const pageSize of candidates) {
      file.seekSync(0, Deno.SeekMode.Start);
      file.writeSync(repairedHeader(header, pageSize, hasWal));
      const db = attempt();
      if (db) {
        report.repairs.push(
          `the file header was damaged; read through a rewritten header (page size ${pageSize}) in a scratch copy`,
        );
        return db;
      }
    }
  } finally {
    file.close();
  }
  report.unreadable.push(
    "the file is not readable as a database, even with its header rewritten (its schema page is damaged)",
  );
  return null;
}

/** SQLite's database header with its fixed fields restored (https://sqlite.org/fileformat.html). */
function repairedHeader(original: Uint8Array, pageSize: number, hasWal: boolean): Uint8Array {
  const h = original.slice(0, 100);
  const view = new DataView(h.buffer);
  h.set(new TextEncoder().encode("SQLite format 3\0"), 0);
  view.setUint16(16, pageSize === 65536 ? 1 : pageSize);
  h[18] = h[19] = hasWal ? 2 : 1; // file format: WAL or rollback journal
  h[20] = 0; // reserved bytes per page
  h[21] = 64; // payload fractions, fixed by the format
  h[22] = 32;
  h[23] = 32;
  view.setUint32(28, 0); // size in pages: 0 makes SQLite use the file's size
  view.setUint32(32, 0); // freelist: dropped (free pages hold no rows)
  view.setUint32(36, 0);
  view.setUint32(44, 4); // schema format
  view.setUint32(48, 0);
  view.setUint32(52, 0); // no auto-vacuum
  view.setUint32(56, 1); // UTF-8
  view.setUint32(64, 0);
  h.fill(0, 72, 92);
  return h;
}

/**
 * Reads a table by its key in pages (keyset pagination: `.all()` reports damage; `node:sqlite`'s
 * iterator ends quietly at it), forward until the damage, then backward from the end until the
 * damage or the rows already read: every row on both sides of a damaged page.
 */
function readTable(
  db: DatabaseSync,
  table: string,
  orders: readonly string[],
  report: RecoveryReport,
): Row[] {
  const keys = (orders[0] as string).split(",").map((c) => c.trim());
  const tuple = `(${keys.join(", ")})`;
  const marks = `(${keys.map(() => "?").join(", ")})`;
  const keyOf = (row: Row) => keys.map((k) => row[k] as SQLInputValue);
  const page = (direction: "ASC" | "DESC", after: SQLInputValue[] | null, limit: number) =>
    db.prepare(
      `SELECT * FROM ${table}${
        after === null ? "" : ` WHERE ${tuple} ${direction === "ASC" ? ">" : "<"} ${marks}`
      } ORDER BY ${keys.map((k) => `${k} ${direction}`).join(", ")} LIMIT ${limit}`,
    ).all(...(after ?? [])) as Row[];
  const forward: Row[] = [];
  let damaged = false;
  try {
    damaged = !walk("ASC", null, (row) => void forward.push(row));
  } catch (error) {
    const message = (error as Error).message;
    if (/no such table/.test(message)) return []; // an older schema: nothing to read
    if (/no such column/.test(message) && orders.length > 1) {
      return readTable(db, table, orders.slice(1), report); // an older schema's key
    }
    throw error;
  }
  if (!damaged) return forward;
  report.unreadable.push(`${table}: damaged after ${forward.length} row(s); read from the end too`);
  const seen = new Set(forward.map((r) => JSON.stringify(keyOf(r))));
  const backward: Row[] = [];
  walk("DESC", null, (row) => {
    if (seen.has(JSON.stringify(keyOf(row)))) return false;
    backward.push(row);
  });
  return [...forward, ...backward.reverse()];

  /** Visits rows in key order until the end (true) or damage (false); `visit` may stop it. */
  function walk(
    direction: "ASC" | "DESC",
    start: SQLInputValue[] | null,
    visit: (row: Row) => boolean | void,
  ): boolean {
    let after = start;
    let limit = 500;
    for (;;) {
      let rows: Row[];
      try {
        rows = page(direction, after, limit);
      } catch (error) {
        if (/no such (?:table|column)/.test((error as Error).message)) throw error;
        if (limit > 1) {
          limit = 1; // close in on the damage one row at a time
          continue;
        }
        return false;
      }
      for (const row of rows) {
        if (visit(row) === false) return true;
      }
      if (rows.length < limit) return true;
      after = keyOf(rows[rows.length - 1] as Row);
    }
  }
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function toPattern(r: Row): PatternRow | null {
  if (typeof r.pattern_id !== "string") return null;
  return {
    patternId: r.pattern_id,
    language: String(r.language ?? "unknown"),
    lineCount: Number(r.line_count ?? 0),
    byteSize: Number(r.byte_size ?? 0),
    code: strOrNull(r.code),
    firstSeenAt: String(r.first_seen_at ?? ""),
    codeOmitted: strOrNull(r.code_omitted),
    redactedSecrets: Number(r.redacted_secrets ?? 0),
  };
}

function toVersion(r: Row): FileVersion | null {
  if (typeof r.file_path !== "string" || typeof r.pattern_id !== "string") return null;
  return {
    filePath: r.file_path,
    version: Number(r.version),
    patternId: r.pattern_id,
    parentPatternId: strOrNull(r.parent_pattern_id),
    eventType: String(r.event_type ?? "pattern_created"),
    transformationType: strOrNull(r.transformation_type),
    toolName: String(r.tool_name ?? "unknown"),
    toolUseId: strOrNull(r.tool_use_id),
    sessionId: strOrNull(r.session_id),
    correlationId: String(r.correlation_id ?? crypto.randomUUID()),
    reason: strOrNull(r.reason),
    createdAt: String(r.created_at ?? ""),
    changeLinesAdded: numOrNull(r.change_lines_added),
    changeLinesRemoved: numOrNull(r.change_lines_removed),
    changeDurationMs: numOrNull(r.change_duration_ms),
  };
}

function toExecution(r: Row): ExecutionRow | null {
  if (typeof r.tool_use_id !== "string") return null;
  return {
    toolUseId: r.tool_use_id,
    sessionId: strOrNull(r.session_id),
    toolName: String(r.tool_name ?? "unknown"),
    filePath: strOrNull(r.file_path),
    correlationId: String(r.correlation_id ?? crypto.randomUUID()),
    startedAt: strOrNull(r.started_at),
    finishedAt: strOrNull(r.finished_at),
    durationMs: numOrNull(r.duration_ms),
    success: r.success === null || r.success === undefined ? null : Number(r.success) === 1,
    error: strOrNull(r.error),
    linesAdded: numOrNull(r.lines_added),
    linesRemoved: numOrNull(r.lines_removed),
    beforePatternId: strOrNull(r.before_pattern_id),
    patternId: strOrNull(r.pattern_id),
  };
}
