/**
 * `status`: what the store holds, what waits for delivery, and the last error.
 *
 * @module
 */

import type { TrackerConfig } from "../config.ts";
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
 * import { storageFields } from "./status.ts";
 * // const fields = storageFields(store, config.retentionDays, new Date());
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

/**
 * Bytes for people: "512 B", "1.5 KB", "12.3 MB" (powers of 1024).
 *
 * @example
 * ```ts
 * import { formatBytes } from "./status.ts";
 * formatBytes(1536); // "1.5 KB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? "-" : "";
  let n = Math.abs(bytes);
  if (n < 1024) return `${sign}${n} B`;
  for (const unit of ["KB", "MB", "GB"]) {
    n /= 1024;
    if (n < 1024 || unit === "GB") return `${sign}${n < 10 ? n.toFixed(1) : Math.round(n)} ${unit}`;
  }
  return `${sign}${n} GB`;
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
 * import { openForStatus } from "./status.ts";
 * // const { store, problem, integrity } = openForStatus(config);
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
 * import { journalStatus } from "./status.ts";
 * // journalStatus(config, store).waiting
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
 * lostInLog('{"ts":"t","level":"error","event":"record_lost","reason":"disk full"}\n');
 * // { lost: 1, lastAt: "t", lastReason: "disk full" }
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
 * import { lastErrorInLog } from "./status.ts";
 * lastErrorInLog('{"ts":"t","level":"error","event":"payload_invalid","error":"bad"}\n'); // "t payload_invalid: bad"
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
 * import { lastErrorInLog, readLogTail } from "./status.ts";
 * lastErrorInLog(readLogTail("/tmp/pattern-tracker.log.jsonl"));
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
 * Renders a status report for people (pure).
 *
 * @example
 * ```ts
 * import { renderStatus } from "./status.ts";
 * // console.log(renderStatus(report));
 * ```
 */
export function renderStatus(r: StatusReport): string {
  const c = r.counts;
  const age = r.oldest_pending_age_seconds === null
    ? ""
    : `, oldest ${formatAge(r.oldest_pending_age_seconds)} old`;
  return [
    "Pattern Tracker status",
    `  data dir       ${r.data_dir}`,
    `  database       ${r.database} (schema v${r.schema_version})`,
    `  config         ${r.config_path}${
      r.config_problems.length ? `  (${r.config_problems.length} problem(s), defaults used)` : ""
    }`,
    ...r.config_problems.map((p) => `                 ! ${p}`),
    `  tracking       ${r.enabled ? "enabled" : "DISABLED (enabled: false)"}`,
    `  patterns       ${c.patterns} in ${c.files} file(s): ${c.versions} versions, ${c.edges} lineage edges`,
    `  executions     ${c.executions} (${c.failedExecutions} failed)`,
    `  outbox         ${c.outbox} waiting${
      r.delivery.in_doubt
        ? ` (${r.delivery.in_doubt} in doubt: the server is asked before they are sent again)`
        : ""
    }${age}`,
    `  dead letters   ${c.deadLetters}${
      c.deadLetters ? "  (refused for good; re-send with: tracker.ts flush --retry-dead)" : ""
    }`,
    ...renderServers(r.delivery, c.versions),
    ...(r.delivery.pace
      ? [
        `  batch size     ${r.delivery.pace.size}${
          r.delivery.pace.ms_per_event === null
            ? ""
            : ` (server measured at ${r.delivery.pace.ms_per_event} ms per event)`
        }`,
      ]
      : []),
    ...(r.delivery.legacy_events
      ? [
        `  legacy events  ${r.delivery.legacy_events} from an older release map to no version (kept in table legacy_events; not sent)`,
      ]
      : []),
    `  last success   ${r.last_success ?? "never"}`,
    `  last error     ${r.last_error ?? "none"}`,
    `  breaker        ${r.breaker}`,
    ...storageLines(r),
    ...storeLines(r),
    `  hook bundle    ${
      r.hooks_bundle === "fresh"
        ? "fresh (build/ matches the sources)"
        : r.hooks_bundle === "stale"
        ? "STALE: the sources changed since install; run: deno task tracker install"
        : "none (hooks run from the .ts sources, or as compiled binaries)"
    }`,
  ].join("\n");
}

/** One line per server: versions acknowledged of those stored, and dead letters. */
function renderServers(d: DeliveryStatus, versions: number): string[] {
  const servers = d.servers.some((s) => s.current)
    ? d.servers
    : [{ server: d.server, delivered: 0, deadLetters: 0, current: true }, ...d.servers];
  return servers.map((s, i) =>
    `${
      i === 0 ? "  delivered      " : "                 "
    }${s.delivered} of ${versions} versions to ${
      s.server || "(a server before per-server records)"
    }${s.current ? " (current)" : ""}${s.deadLetters ? `, ${s.deadLetters} dead letter(s)` : ""}`
  );
}

function storageLines(r: StatusReport): string[] {
  if (r.storage === null || r.prune === null) return [];
  const { database: db, code } = r.storage;
  const p = r.prune;
  return [
    `  store size     ${formatBytes(db.fileBytes)} on disk (write-ahead log ${
      formatBytes(db.walBytes)
    }; ${formatBytes(db.freeBytes)} free inside${
      db.freeBytes > 0 ? ", reused by later writes; tracker.ts prune returns them" : ""
    })`,
    `  code           ${
      formatBytes(code.bytes)
    } for ${code.withCode} pattern(s) (${code.snapshots} snapshots, ${code.patches} patches, ${code.compressed} compressed${
      code.legacy ? `, ${code.legacy} not yet compacted` : ""
    }); ${formatBytes(code.textBytes)} as whole files`,
    `  prune          ${
      p.from_retention_days
        ? `retention_days ${p.older_than_days}`
        : `--older-than ${p.older_than_days}d`
    } would free ${formatBytes(p.freed_code_bytes)} (code of ${p.patterns} delivered pattern(s))${
      p.undelivered_kept ? `; ${p.undelivered_kept} old one(s) wait for delivery` : ""
    }${p.from_retention_days ? "" : "; retention_days keeps everything"}`,
  ];
}

/** The spill journal, integrity and moved-aside lines of `status`. */
function storeLines(r: StatusReport): string[] {
  const j = r.journal;
  const lines: string[] = [];
  if (r.store_problem) lines.push(`  store          NOT WRITABLE NOW: ${r.store_problem}`);
  lines.push(
    `  spill journal  ${j.waiting} waiting${
      j.waiting
        ? ` since ${j.oldest_waiting_at} (${j.waiting_reason}) in ${j.places.join(", ")}`
        : ""
    }; ${j.replayed} replayed${
      j.last_replayed_at
        ? ` (last spilled ${j.last_spilled_at}, replayed ${j.last_replayed_at})`
        : ""
    }; ${j.lost} lost`,
  );
  if (j.last_reason && j.replayed) lines.push(`                 last spill: ${j.last_reason}`);
  if (j.lost) lines.push(`                 ! last lost ${j.last_lost_at}: ${j.last_lost_reason}`);
  const i = r.integrity;
  lines.push(
    `  integrity      ${
      i.quick_check === "ok"
        ? "ok (PRAGMA quick_check)"
        : i.quick_check === "damaged"
        ? `DAMAGED (${i.problems.slice(0, 2).join("; ")}): moved aside, a fresh store took over`
        : "not checked (the store could not be opened)"
    }`,
  );
  for (const m of i.moved_aside) {
    lines.push(
      `  moved aside    ${m.path}${m.at ? ` at ${m.at}` : ""}${m.reason ? `: ${m.reason}` : ""}`,
      m.recoveredAt
        ? `                 recovered ${m.recoveredAt}`
        : `                 salvage its rows with: tracker.ts recover ${m.path}`,
    );
  }
  return lines;
}

/**
 * "42 s", "5 min", "3 h", "2 d".
 *
 * @example
 * ```ts
 * import { formatAge } from "./status.ts";
 * formatAge(300); // "5 min"
 * ```
 */
export function formatAge(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/**
 * Shortcut for the fields of {@linkcode StatusReport} that come from config.
 *
 * @example
 * ```ts
 * import { configFields } from "./status.ts";
 * import { defaultConfig } from "../config.ts";
 * configFields(defaultConfig("/home/dev")).enabled; // true
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
