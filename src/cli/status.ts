/**
 * `status`: what the store holds, what waits for delivery, and the last error.
 *
 * @module
 */

import type { TrackerConfig } from "../config/mod.ts";
import { FALLBACK_LOG, journalFallbackDir } from "../record/journal.ts";
import { waitingEntries } from "../record/journal_files.ts";
import { appendLog } from "../log.ts";
import { checkStoreHealth, type MovedAside, movedAsideStores } from "../store/health.ts";
import { planPrune, retentionCutoff } from "../store/retention.ts";
import { openAndReplay } from "../record/spill.ts";
import { StoreError } from "../store/failure.ts";
import {
  type CodeStorageStats,
  type DatabaseSize,
  openStore,
  type ServerDeliveryCounts,
  type Store,
  type StoreCounts,
} from "../store/mod.ts";
/** Delivery as `status` shows it: the outbox, and what each server acknowledged or refused. */
export interface DeliveryStatus {
  /** The server the outbox is delivered to (the configured `intelligence_url`, normalised). */
  server: string;
  queued: number;
  /** Queued versions that may already be on the server: it is asked before they are sent. */
  in_doubt: number;
  /** Per server this store has delivered to, the current one included. */
  servers: (ServerDeliveryCounts & { current: boolean })[];
  /** Events of an older release that map to no version (kept in `legacy_events`, never sent). */
  legacy_events: number;
  /** The adapted batch size and the server's measured cost per event, when measured. */
  pace: { size: number; ms_per_event: number | null } | null;
}

/** The spill journal's story, for `status`: what waits, what was replayed, what was lost. */
export interface JournalStatus {
  /** Entries waiting to be replayed (the store could not take them yet). */
  waiting: number;
  oldest_waiting_at: string | null;
  /** Why the newest waiting entry was spilled. */
  waiting_reason: string | null;
  /** Where waiting entries are. */
  places: string[];
  /** Entries replayed into the store so far, and the newest one's times and reason. */
  replayed: number;
  last_spilled_at: string | null;
  last_replayed_at: string | null;
  last_reason: string | null;
  /** Records that not even the journal could take (from the logs), and the newest one. */
  lost: number;
  last_lost_at: string | null;
  last_lost_reason: string | null;
}

/** The store's health, for `status`. */
export interface IntegrityStatus {
  /** `PRAGMA quick_check` as `status` just ran it. */
  quick_check: "ok" | "damaged" | "not run";
  problems: string[];
  /** Databases moved aside as corrupt, and how to salvage each. */
  moved_aside: MovedAside[];
}

/** Everything `status` reports. */
export interface StatusReport {
  data_dir: string;
  database: string;
  schema_version: number;
  config_path: string;
  config_problems: string[];
  enabled: boolean;
  intelligence_url: string;
  counts: StoreCounts;
  oldest_pending_age_seconds: number | null;
  last_success: string | null;
  last_error: string | null;
  breaker: string;
  delivery: DeliveryStatus;
  /** The hook bundle in the checkout (`install` makes it): fresh, stale or absent. */
  hooks_bundle: "fresh" | "stale" | "absent";
  /**
   * Why the store could not be written just now (locked, read-only, a symlink…): the figures are
   * read-only or absent, and the spill journal waits.
   */
  store_problem: string | null;
  journal: JournalStatus;
  integrity: IntegrityStatus;
  /** The database on disk and the code in it (null when the store could not be read). */
  storage: { database: DatabaseSize; code: CodeStorageStats } | null;
  /**
   * What `prune` would free now: with `retention_days`, or with 90 days when that keeps all (null
   * when the store could not be read).
   */
  prune: {
    older_than_days: number;
    from_retention_days: boolean;
    patterns: number;
    freed_code_bytes: number;
    undelivered_kept: number;
  } | null;
}

/** The age `status` shows prune's effect for when `retention_days` keeps everything. */
export const EXAMPLE_PRUNE_DAYS = 90;

/**
 * The storage fields of a status report: the database's size, the stored code, and what prune
 * would free (a dry run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { storageFields } from "./status.ts";
 * const fields = storageFields(store, 0, new Date());
 * assert.ok(fields.storage !== null && fields.storage.database.fileBytes > 0);
 * store.close();
 * ```
 */
export function storageFields(
  store: Store,
  retentionDays: number,
  now: Date,
): Pick<StatusReport, "storage" | "prune"> {
  const days = retentionDays > 0 ? retentionDays : EXAMPLE_PRUNE_DAYS;
  const plan = planPrune(store, retentionCutoff(days, now));
  return {
    storage: { database: store.databaseSize(), code: store.codeStorage() },
    prune: {
      older_than_days: days,
      from_retention_days: retentionDays > 0,
      patterns: plan.drop.length,
      freed_code_bytes: plan.freedBytes,
      undelivered_kept: plan.undelivered,
    },
  };
}

/** The store as `status` opened it, and what it found on the way. */
export interface StatusStore {
  /** Opened for writing, or for reading only when it could not be written. */
  store: Store;
  /** Why it could not be opened for writing. */
  problem: string | null;
  integrity: IntegrityStatus;
}

/**
 * Opens the store for `status`: replays the spill journal, runs `PRAGMA quick_check` (damage moves
 * the database aside and a fresh store takes over), and lists moved-aside databases. A store that
 * cannot be opened for writing (a read-only directory) is opened for reading. One that cannot be
 * opened at all leaves nothing to report: that failure is thrown, for the CLI's one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openForStatus } from "./status.ts";
 * const { store, problem } = openForStatus({ ...defaultConfig("/tmp"), dataDir: Deno.makeTempDirSync() });
 * assert.equal(problem, null);
 * assert.equal(store.counts().versions, 0);
 * store.close();
 * ```
 */
export function openForStatus(config: TrackerConfig): StatusStore {
  const log = (r: Parameters<typeof appendLog>[1]) => void appendLog(config.logFile, r);
  let store: Store;
  let problem: string | null = null;
  let quick: IntegrityStatus["quick_check"] = "not run";
  let problems: string[] = [];
  try {
    const opened = openAndReplay(config, { log });
    problem = opened.replayFailure?.message ?? null;
    const health = checkStoreHealth(opened.store, config, { everyMs: 0, log });
    store = health.store;
    quick = health.problems.length > 0 ? "damaged" : "ok";
    problems = health.problems;
  } catch (error) {
    problem = (error as Error).message;
    try {
      store = openStore(config.dataDir, { readOnly: true, scan: null });
    } catch {
      throw failureToReport(error);
    }
  }
  return {
    store,
    problem,
    integrity: {
      quick_check: quick,
      problems,
      moved_aside: movedAsideStores(config.dataDir, store),
    },
  };
}

/**
 * What the CLI reports for a store it could not open at all: the failure's cause when the store
 * has no advice of its own for it (a runtime error — a data directory that is a file, a permission
 * Deno did not grant — or an SQLite error of no known kind), which `errors.ts` words for the CLI;
 * else the failure, whose message says what to do.
 */
function failureToReport(error: unknown): unknown {
  if (!(error instanceof StoreError) || error.cause === undefined) return error;
  const runtime = Object.values(Deno.errors).some((kind) => error.cause instanceof kind);
  return runtime || error.kind === "unavailable" ? error.cause : error;
}

/**
 * The spill journal's story: waiting entries (not yet applied), what the store replayed, and the
 * records lost according to the logs (the data directory's and the fallback journal's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "../config/mod.ts";
 * import { journalStatus } from "./status.ts";
 * const config = { ...defaultConfig("/tmp"), dataDir: Deno.makeTempDirSync() };
 * assert.equal(journalStatus(config, null).waiting, 0);
 * ```
 */
export function journalStatus(config: TrackerConfig, store: Store | null): JournalStatus {
  const waiting = waitingEntries(config.dataDir);
  const pending = waiting.entries.filter((e) => {
    try {
      return !store?.journalApplied(e.id);
    } catch {
      return true;
    }
  }).sort((a, b) => a.spilled_at.localeCompare(b.spilled_at));
  let replay = { replayed: 0, lastReplayedAt: null, lastSpilledAt: null, lastReason: null } as {
    replayed: number;
    lastReplayedAt: string | null;
    lastSpilledAt: string | null;
    lastReason: string | null;
  };
  try {
    if (store) replay = store.replaySummary();
  } catch { /* an older, read-only store without the table */ }
  const lost = [
    lostInLog(readLogTail(config.logFile)),
    lostInLog(readLogTail(`${journalFallbackDir(config.dataDir)}/${FALLBACK_LOG}`)),
  ];
  const newest =
    lost.filter((l) => l.lastAt !== null).sort((a, b) =>
      String(b.lastAt).localeCompare(String(a.lastAt))
    )[0];
  return {
    waiting: pending.length,
    oldest_waiting_at: pending[0]?.spilled_at ?? null,
    waiting_reason: pending[pending.length - 1]?.reason ?? null,
    places: waiting.places,
    replayed: replay.replayed,
    last_spilled_at: replay.lastSpilledAt,
    last_replayed_at: replay.lastReplayedAt,
    last_reason: replay.lastReason,
    lost: lost.reduce((n, l) => n + l.lost, 0),
    last_lost_at: newest?.lastAt ?? null,
    last_lost_reason: newest?.lastReason ?? null,
  };
}

/**
 * Records lost (not even the journal could take them) in a JSON-lines log text (pure): how many,
 * and the newest one's time and reason.
 *
 * @example
 * ```ts
 * import { lostInLog } from "./status.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   lostInLog('{"ts":"t","level":"error","event":"record_lost","reason":"disk full"}\n'),
 *   { lost: 1, lastAt: "t", lastReason: "disk full" },
 * );
 * ```
 */
export function lostInLog(
  text: string,
): { lost: number; lastAt: string | null; lastReason: string | null } {
  const out = { lost: 0, lastAt: null as string | null, lastReason: null as string | null };
  for (const line of text.split("\n")) {
    if (!line.includes('"event":"record_lost"')) continue;
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      out.lost++;
      out.lastAt = String(r.ts ?? "");
      out.lastReason = String(r.reason ?? "");
    } catch { /* a torn line */ }
  }
  return out;
}

/**
 * The newest error record in a JSON-lines log text (pure), as "time event: message".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastErrorInLog } from "./status.ts";
 * assert.deepEqual(lastErrorInLog('{"ts":"t","level":"error","event":"payload_invalid","error":"bad"}\n'), "t payload_invalid: bad");
 * ```
 */
export function lastErrorInLog(text: string): string | null {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (!line || !line.includes('"level":"error"')) continue;
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      const detail = r.error ?? r.reason ?? r.message ?? "";
      const text = typeof detail === "object" && detail !== null
        ? (detail as { message?: string }).message ?? JSON.stringify(detail)
        : String(detail);
      return `${r.ts} ${r.event}: ${text}`;
    } catch {
      continue;
    }
  }
  return null;
}

/**
 * Reads the tail of the log (the last 256 KiB is plenty for the last error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastErrorInLog, readLogTail } from "./status.ts";
 * assert.equal(readLogTail("/nonexistent/pattern-tracker.log.jsonl"), ""); // no log yet
 * assert.equal(lastErrorInLog(""), null);
 * ```
 */
export function readLogTail(path: string, bytes = 256 * 1024): string {
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      const size = file.statSync().size;
      const start = Math.max(0, size - bytes);
      file.seekSync(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - start);
      let read = 0;
      while (read < buf.length) {
        const n = file.readSync(buf.subarray(read));
        if (n === null) break;
        read += n;
      }
      return new TextDecoder().decode(buf.subarray(0, read));
    } finally {
      file.close();
    }
  } catch {
    return "";
  }
}

/**
 * Shortcut for the fields of {@linkcode StatusReport} that come from config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configFields } from "./status.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * assert.deepEqual(configFields(defaultConfig("/home/dev")).enabled, true);
 * ```
 */
export function configFields(
  config: TrackerConfig,
): Pick<StatusReport, "data_dir" | "enabled" | "intelligence_url"> {
  return {
    data_dir: config.dataDir,
    enabled: config.enabled,
    intelligence_url: config.intelligenceUrl,
  };
}
