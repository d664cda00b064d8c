/**
 * The embedded SQLite store (`node:sqlite`): the only place that touches the database. It keeps
 * patterns, file versions, lineage edges, executions, the outbox of Phase 4 events waiting for
 * delivery, dead letters, and a few status values.
 *
 * Concurrency: WAL, a busy timeout, and `BEGIN IMMEDIATE` for every read-then-write transaction, so
 * parallel hook processes serialise on the write lock instead of failing with SQLITE_BUSY.
 *
 * The store is built in layers, so that a hook loads only the queries it makes: the connection
 * and the tool calls (`store/connection.ts`, the pre hook), patterns, versions, edges and the
 * outbox as recording writes them (`store/recording.ts`, the post hook), and here the rest —
 * delivery, views, maintenance, recovery — with the schema's migrations and `openStore`.
 *
 * @module
 */

import type { SQLInputValue } from "node:sqlite";
import { isSnapshot, type StoredCode } from "./code_storage.ts";
import { openStoreAs, type OpenStoreOptions, type StoreKind } from "./open.ts";
import {
  type CodeRow,
  type LineageEdgeRow,
  PATTERN_WITH_CODE,
  type PatternRow,
  RecordingStore,
  toCodeRow,
  toPattern,
} from "./recording.ts";
import {
  type ExecutionRow,
  type FileVersion,
  numOrNull,
  type Row,
  strOrNull,
  toExecution,
  toVersion,
} from "./rows.ts";

export { StoreConnection } from "./connection.ts";
export {
  COMMAND_BUSY_TIMEOUT_MS,
  DB_FILE,
  MOVED_ASIDE_META,
  noteMovedAside,
  openStoreAs,
  type OpenStoreOptions,
  type StoreKind,
} from "./open.ts";
export {
  type CodeRow,
  type LineageEdgeRow,
  type NewPatternRow,
  type PatternParent,
  type PatternRow,
  RecordingStore,
  StoredCodeError,
} from "./recording.ts";
export type { ExecutionRow, FileVersion, JournalReplay } from "./rows.ts";
// The row mappers the views' queries use (src/views_queries.ts).
export { toCodeRow, toVersion };

/**
 * Ordered schema migrations; `PRAGMA user_version` records how many have run. Never edit one.
 * Appending one? Raise `SCHEMA_VERSION` in `store/open.ts` with it (the hooks load these only
 * when a store is behind that version; `tests/store_open_test.ts` checks that the two agree).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the foundation.
  `CREATE TABLE patterns (
     pattern_id TEXT PRIMARY KEY,
     language TEXT NOT NULL,
     line_count INTEGER NOT NULL,
     byte_size INTEGER NOT NULL,
     code TEXT,
     first_seen_at TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE file_versions (
     id INTEGER PRIMARY KEY,
     file_path TEXT NOT NULL,
     version INTEGER NOT NULL,
     pattern_id TEXT NOT NULL REFERENCES patterns(pattern_id),
     parent_pattern_id TEXT,
     event_type TEXT NOT NULL,
     transformation_type TEXT,
     tool_name TEXT NOT NULL,
     tool_use_id TEXT,
     session_id TEXT,
     correlation_id TEXT NOT NULL,
     reason TEXT,
     created_at TEXT NOT NULL,
     UNIQUE (file_path, version)
   );
   CREATE INDEX file_versions_pattern ON file_versions(pattern_id);
   CREATE TABLE lineage_edges (
     child_pattern_id TEXT NOT NULL,
     parent_pattern_id TEXT NOT NULL,
     edge_type TEXT NOT NULL,
     transformation_type TEXT,
     file_path TEXT,
     created_at TEXT NOT NULL,
     PRIMARY KEY (child_pattern_id, parent_pattern_id)
   ) WITHOUT ROWID;
   CREATE INDEX lineage_edges_parent ON lineage_edges(parent_pattern_id);
   CREATE TABLE executions (
     tool_use_id TEXT PRIMARY KEY,
     session_id TEXT,
     tool_name TEXT NOT NULL,
     file_path TEXT,
     correlation_id TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     duration_ms INTEGER,
     success INTEGER,
     error TEXT,
     lines_added INTEGER,
     lines_removed INTEGER,
     before_pattern_id TEXT,
     pattern_id TEXT
   ) WITHOUT ROWID;
   CREATE INDEX executions_pattern ON executions(pattern_id);
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     parent_pattern_ids TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE TABLE dead_letters (
     outbox_id INTEGER PRIMARY KEY,
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     parent_pattern_ids TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL,
     status INTEGER,
     message TEXT NOT NULL,
     dead_at TEXT NOT NULL
   );
   CREATE TABLE delivered (
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     delivered_at TEXT NOT NULL,
     PRIMARY KEY (pattern_id, pattern_version)
   ) WITHOUT ROWID;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  // 2: privacy — why a pattern's code is absent, and how many secrets were redacted from it.
  `ALTER TABLE patterns ADD COLUMN code_omitted TEXT;
   ALTER TABLE patterns ADD COLUMN redacted_secrets INTEGER NOT NULL DEFAULT 0;`,
  // 3: delivery by reference, per server. Needs only the v2 schema. The outbox refers to a file
  // version (the request is assembled when it is sent, from immutable rows); the metrics of the
  // change move onto the version; delivery and dead letters are recorded per server URL (server ''
  // = before per-server tracking: the first flush adopts those marks). Old rows map to versions
  // through their body's file path and the version number in "<n>.0.0"; a row that maps to no
  // version is kept, whole, in legacy_events.
  `ALTER TABLE file_versions ADD COLUMN change_lines_added INTEGER;
   ALTER TABLE file_versions ADD COLUMN change_lines_removed INTEGER;
   ALTER TABLE file_versions ADD COLUMN change_duration_ms INTEGER;
   ALTER TABLE outbox RENAME TO outbox_v2;
   ALTER TABLE dead_letters RENAME TO dead_letters_v2;
   ALTER TABLE delivered RENAME TO delivered_v2;
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     version_id INTEGER NOT NULL UNIQUE,
     queued_at TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     in_doubt INTEGER NOT NULL DEFAULT 0,
     last_sent_at TEXT,
     legacy_version TEXT
   );
   CREATE TABLE dead_letters (
     server TEXT NOT NULL,
     version_id INTEGER NOT NULL,
     status INTEGER,
     message TEXT NOT NULL,
     verdict TEXT,
     dead_at TEXT NOT NULL,
     PRIMARY KEY (server, version_id)
   ) WITHOUT ROWID;
   CREATE TABLE delivered (
     seq INTEGER PRIMARY KEY,
     server TEXT NOT NULL,
     version_id INTEGER NOT NULL,
     delivered_at TEXT NOT NULL,
     UNIQUE (server, version_id)
   );
   CREATE INDEX delivered_version ON delivered(version_id);
   CREATE TABLE legacy_events (
     source TEXT NOT NULL,
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL,
     status INTEGER,
     message TEXT
   );
   UPDATE file_versions SET
     change_lines_added = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.pattern_data.lines_added') END),
     change_lines_removed = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.pattern_data.lines_removed') END),
     change_duration_ms = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.pattern_data.duration_ms') END)
   FROM (SELECT pattern_id, pattern_version, body FROM outbox_v2
         UNION ALL SELECT pattern_id, pattern_version, body FROM dead_letters_v2) o
   WHERE file_versions.file_path = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.file_path') END)
     AND file_versions.version = CAST(o.pattern_version AS INTEGER)
     AND file_versions.pattern_id = o.pattern_id;
   UPDATE file_versions SET change_lines_added = e.lines_added,
     change_lines_removed = e.lines_removed, change_duration_ms = e.duration_ms
   FROM executions e
   WHERE e.tool_use_id = file_versions.tool_use_id AND e.pattern_id = file_versions.pattern_id
     AND file_versions.change_lines_added IS NULL AND file_versions.change_duration_ms IS NULL;
   INSERT OR IGNORE INTO outbox (id, version_id, queued_at, attempts, last_error, in_doubt, legacy_version)
     SELECT o.id, v.id, o.created_at, o.attempts, o.last_error, 1, o.pattern_version
     FROM outbox_v2 o JOIN file_versions v
       ON v.file_path = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.file_path') END)
      AND v.version = CAST(o.pattern_version AS INTEGER) AND v.pattern_id = o.pattern_id
     ORDER BY o.id;
   INSERT INTO legacy_events (source, pattern_id, pattern_version, body, created_at, status, message)
     SELECT 'outbox', pattern_id, pattern_version, body, created_at, NULL, last_error FROM outbox_v2
     WHERE id NOT IN (SELECT id FROM outbox);
   INSERT OR IGNORE INTO dead_letters (server, version_id, status, message, dead_at)
     SELECT '', v.id, d.status, d.message, d.dead_at
     FROM dead_letters_v2 d JOIN file_versions v
       ON v.file_path = (CASE WHEN json_valid(d.body) THEN json_extract(d.body, '$.file_path') END)
      AND v.version = CAST(d.pattern_version AS INTEGER) AND v.pattern_id = d.pattern_id
     WHERE v.id NOT IN (SELECT version_id FROM outbox);
   INSERT INTO legacy_events (source, pattern_id, pattern_version, body, created_at, status, message)
     SELECT 'dead_letters', d.pattern_id, d.pattern_version, d.body, d.created_at, d.status, d.message
     FROM dead_letters_v2 d WHERE NOT EXISTS (
       SELECT 1 FROM file_versions v WHERE v.file_path = (CASE WHEN json_valid(d.body) THEN json_extract(d.body, '$.file_path') END)
         AND v.version = CAST(d.pattern_version AS INTEGER) AND v.pattern_id = d.pattern_id);
   INSERT OR IGNORE INTO delivered (server, version_id, delivered_at)
     SELECT '', v.id, d.delivered_at FROM delivered_v2 d JOIN file_versions v
       ON v.pattern_id = d.pattern_id AND v.version = CAST(d.pattern_version AS INTEGER)
     WHERE v.id NOT IN (SELECT version_id FROM outbox)
       AND v.id NOT IN (SELECT version_id FROM dead_letters)
     ORDER BY d.delivered_at, v.id;
   INSERT INTO sqlite_sequence (name, seq)
     SELECT 'outbox', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox');
   UPDATE sqlite_sequence SET seq = MAX(seq,
     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox_v2'), 0)) WHERE name = 'outbox';
   DROP TABLE outbox_v2;
   DROP TABLE dead_letters_v2;
   DROP TABLE delivered_v2;`,
  // 4: a pattern's code as a snapshot or a line patch against another pattern's stored
  // text (src/store/code_storage.ts), in a rowid table (a WITHOUT ROWID table spills any row over ~1 KB
  // to overflow pages, wasting most of a page per version). Rows written before keep their text in
  // `patterns.code`, read as snapshots; maintenance converts them later (src/store/code_maintenance.ts).
  `CREATE TABLE pattern_code (
     pattern_id TEXT NOT NULL UNIQUE,
     format TEXT NOT NULL,
     base TEXT,
     depth INTEGER NOT NULL,
     chain_bytes INTEGER NOT NULL,
     length INTEGER NOT NULL,
     data BLOB NOT NULL
   );
   CREATE INDEX pattern_code_base ON pattern_code(base) WHERE base IS NOT NULL;`,
  // 5: recording — an execution is identified by (session, tool_use_id), not tool_use_id alone —
  // gateways number tool calls toolu_01, call_0, … in every session — and `call_seq` keeps apart
  // two calls of one session that reuse an ID. `session_key` is the session ID, or '' when Claude
  // Code sent none (a primary key cannot hold NULL). Rebuilds `executions` with its v2 columns: a
  // migration that adds columns to `executions` must come after this one. Plus the spill journal's
  // replayed entries, so that a replay applies each entry exactly once.
  `CREATE TABLE executions_by_session (
     session_key TEXT NOT NULL,
     tool_use_id TEXT NOT NULL,
     call_seq INTEGER NOT NULL DEFAULT 0,
     session_id TEXT,
     tool_name TEXT NOT NULL,
     file_path TEXT,
     correlation_id TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     duration_ms INTEGER,
     success INTEGER,
     error TEXT,
     lines_added INTEGER,
     lines_removed INTEGER,
     before_pattern_id TEXT,
     pattern_id TEXT,
     PRIMARY KEY (session_key, tool_use_id, call_seq)
   ) WITHOUT ROWID;
   INSERT INTO executions_by_session (session_key, tool_use_id, call_seq, session_id, tool_name,
       file_path, correlation_id, started_at, finished_at, duration_ms, success, error, lines_added,
       lines_removed, before_pattern_id, pattern_id)
     SELECT COALESCE(session_id, ''), tool_use_id, 0, session_id, tool_name, file_path,
       correlation_id, started_at, finished_at, duration_ms, success, error, lines_added,
       lines_removed, before_pattern_id, pattern_id
     FROM executions;
   DROP TABLE executions;
   ALTER TABLE executions_by_session RENAME TO executions;
   CREATE INDEX executions_pattern ON executions(pattern_id);
   CREATE TABLE journal_replays (
     entry_id TEXT PRIMARY KEY,
     spilled_at TEXT NOT NULL,
     reason TEXT NOT NULL,
     place TEXT NOT NULL,
     replayed_at TEXT NOT NULL
   ) WITHOUT ROWID;`,
];

/** What the stored code weighs, for `status` and the benchmarks. */
export interface CodeStorageStats {
  /** Patterns that keep their code. */
  withCode: number;
  snapshots: number;
  patches: number;
  /** Of those, compressed. */
  compressed: number;
  /** Rows still in the pre-v3 `code` column. */
  legacy: number;
  /** Bytes of stored code (patches, snapshots, compressed or not). */
  bytes: number;
  /** Bytes the same code takes as whole texts (the sum of `byte_size`). */
  textBytes: number;
}

/** The database file's size. */
export interface DatabaseSize {
  /** `patterns.db` plus its write-ahead log. */
  fileBytes: number;
  walBytes: number;
  /** Pages SQLite keeps free inside the file (reused by later writes; `shrink` returns them). */
  freeBytes: number;
}

/** Where the parent version of a queued version stands with a server. */
export type ParentState =
  /** No parent (a created version), or no local version holds it. */
  | "none"
  /** Queued too (it goes first). */
  | "queued"
  /** Acknowledged by this server. */
  | "delivered"
  /** Refused by this server (a dead letter): its children wait. */
  | "dead"
  /** Stored here, but neither queued, acknowledged nor refused (imported without --queue). */
  | "unknown";

/** A file version waiting in the outbox, with what ordering and verification need. */
export interface QueuedVersion {
  /** The outbox row. */
  queueId: number;
  /** The file version (`file_versions.id`). */
  versionId: number;
  filePath: string;
  version: number;
  patternId: string;
  parentPatternId: string | null;
  /** `file_versions.id` of the version before in the same file, when it holds the parent. */
  parentVersionId: number | null;
  parentState: ParentState;
  /** Local versions (any file) holding the parent's pattern: above 1, the server has several nodes of it. */
  parentPatternVersions: number;
  /** Newest version of the parent's pattern this server acknowledged (by order of acknowledgement). */
  newestDeliveredOfParent: number | null;
  /** The request may have reached the server: verify before sending again. */
  inDoubt: boolean;
  lastSentAt: string | null;
  /** The `pattern_version` an older release sent this version under (migrated rows only). */
  legacyVersion: string | null;
  queuedAt: string;
  attempts: number;
  lastError: string | null;
}

/** A dead letter: a version a server refused, with its answer. */
export interface DeadLetter {
  server: string;
  versionId: number;
  filePath: string;
  version: number;
  patternId: string;
  status: number | null;
  message: string;
  /** How the client read the refusal ("rejected"); null for dead letters of older releases. */
  verdict: string | null;
  deadAt: string;
}

/** Delivery counts of one server. */
export interface ServerDeliveryCounts {
  server: string;
  delivered: number;
  deadLetters: number;
}

/** A version with the metrics of the tool call that produced it. */
export interface VersionWithMetrics extends FileVersion {
  linesAdded: number | null;
  linesRemoved: number | null;
  durationMs: number | null;
  success: boolean | null;
  lineCount: number | null;
}

/** What the store knows of replayed spill-journal entries, for `status`. */
export interface ReplaySummary {
  replayed: number;
  lastReplayedAt: string | null;
  lastSpilledAt: string | null;
  lastReason: string | null;
}

/** Counts for `status`. */
export interface StoreCounts {
  patterns: number;
  versions: number;
  files: number;
  edges: number;
  executions: number;
  failedExecutions: number;
  /** Versions queued for delivery. */
  outbox: number;
  oldestOutboxAt: string | null;
  /** Dead letters, all servers. */
  deadLetters: number;
  /** Acknowledgements (a version acknowledged by two servers counts twice). */
  delivered: number;
}

/**
 * An open store. Create with {@linkcode openStore}; close when done.
 *
 * @example
 * ```ts
 * import { openStore } from "./store.ts";
 * const store = openStore("/tmp/pattern-tracker-example");
 * console.log(store.counts().patterns);
 * store.close();
 * ```
 */
export class Store extends RecordingStore {
  /**
   * SQLite's `PRAGMA quick_check`: the problems found (at most `limit`), empty when the database
   * is sound. It reads every page, so it runs in the flusher and `status`, never in a hook.
   */
  quickCheck(limit = 20): string[] {
    const rows = this.db.prepare(`PRAGMA quick_check(${Math.max(1, Math.floor(limit))})`).all();
    const problems = rows.map((r) => String(Object.values(r as Row)[0]));
    return problems.length === 1 && problems[0] === "ok" ? [] : problems;
  }

  /** True when the pattern ID is stored. */
  hasPattern(patternId: string): boolean {
    return this.row("SELECT 1 AS x FROM patterns WHERE pattern_id = ?", patternId) !== undefined;
  }

  /**
   * Inserts a version unless that file already has one with this number; returns its row ID when
   * inserted, else null.
   */
  insertVersionIfAbsent(v: FileVersion): number | null {
    const r = this.insertVersionRow(v, "ON CONFLICT (file_path, version) DO NOTHING");
    return Number(r.changes) > 0 ? Number(r.lastInsertRowid) : null;
  }

  /**
   * Moves a file's versions `by` numbers up (recovery puts a salvaged history before the versions
   * a fresh store recorded since). Through negative numbers, so no step collides.
   */
  shiftVersions(filePath: string, by: number): void {
    this.run("UPDATE file_versions SET version = -version WHERE file_path = ?", filePath);
    this.run("UPDATE file_versions SET version = -version + ? WHERE file_path = ?", by, filePath);
  }

  /**
   * Deletes one version of a file, with its outbox entry and delivery marks (recovery drops a
   * bridge that the salvaged history replaces; the replacement is queued in doubt).
   */
  deleteVersion(filePath: string, version: number): void {
    const id = this.versionId(filePath, version);
    if (id === undefined) return;
    for (const table of ["outbox", "delivered", "dead_letters"]) {
      this.run(`DELETE FROM ${table} WHERE version_id = ?`, id);
    }
    this.run("DELETE FROM file_versions WHERE id = ?", id);
  }

  /** Every version of a file, oldest first, with the metrics of the tool call behind each. */
  fileHistory(filePath: string): VersionWithMetrics[] {
    return this.rows(
      `SELECT v.*, e.lines_added, e.lines_removed, e.duration_ms, e.success, p.line_count
       FROM file_versions v
       LEFT JOIN executions e ON e.session_key = COALESCE(v.session_id, '')
         AND e.tool_use_id = v.tool_use_id AND e.pattern_id = v.pattern_id
       LEFT JOIN patterns p ON p.pattern_id = v.pattern_id
       WHERE v.file_path = ? ORDER BY v.version`,
      filePath,
    ).map((r) => ({
      ...toVersion(r),
      linesAdded: numOrNull(r.lines_added),
      linesRemoved: numOrNull(r.lines_removed),
      durationMs: numOrNull(r.duration_ms),
      success: r.success === null || r.success === undefined ? null : r.success === 1,
      lineCount: numOrNull(r.line_count),
    }));
  }

  /** Tracked file paths that end with `suffix` (for `lineage app.py`). */
  filesEndingWith(suffix: string): string[] {
    return this.rows(
      `SELECT DISTINCT file_path FROM file_versions WHERE file_path = ? OR file_path LIKE ? ESCAPE '\\'`,
      suffix,
      "%/" + suffix.replace(/[\\%_]/g, (c) => "\\" + c),
    ).map((r) => String(r.file_path));
  }

  /** Tracked files, newest change first; only those a session touched when `sessionId` is given. */
  trackedFiles(options: { sessionId?: string; limit?: number } = {}): string[] {
    const limit = options.limit ?? 1000;
    const rows = options.sessionId
      ? this.rows(
        "SELECT file_path FROM file_versions WHERE session_id = ? GROUP BY file_path ORDER BY MAX(id) DESC LIMIT ?",
        options.sessionId,
        limit,
      )
      : this.rows(
        "SELECT file_path FROM file_versions GROUP BY file_path ORDER BY MAX(id) DESC LIMIT ?",
        limit,
      );
    return rows.map((r) => String(r.file_path));
  }

  /** Executions, oldest first; only a session's when `sessionId` is given. */
  executions(options: { sessionId?: string; limit?: number } = {}): ExecutionRow[] {
    const limit = options.limit ?? 100_000;
    const rows = options.sessionId
      ? this.rows(
        "SELECT * FROM executions WHERE session_id = ? ORDER BY COALESCE(started_at, finished_at) LIMIT ?",
        options.sessionId,
        limit,
      )
      : this.rows(
        "SELECT * FROM executions ORDER BY COALESCE(started_at, finished_at) LIMIT ?",
        limit,
      );
    return rows.map(toExecution);
  }

  /** Every pattern with its code, in ID order (for export). Each text is rebuilt once. */
  allPatterns(): PatternRow[] {
    const rows = this.rows(`${PATTERN_WITH_CODE} ORDER BY p.pattern_id`);
    const texts = new Map<string, string>();
    const byId = new Map(rows.map((r) => [String(r.pattern_id), toCodeRow(r)]));
    const textOf = (row: CodeRow): string | null => {
      const known = texts.get(row.patternId);
      if (known !== undefined) return known;
      const stored = row.stored;
      let text: string | null;
      if (stored === null) text = null;
      else if (isSnapshot(stored.format) || stored.base === null) {
        text = this.fullText(row);
      } else {
        const base = byId.get(stored.base);
        // The recursion follows strictly decreasing depths (checked), so it ends within MAX_CHAIN.
        if (!base?.stored || base.stored.depth >= stored.depth) text = this.fullText(row);
        else text = this.patched(textOf(base) as string, [row]);
      }
      if (text !== null) texts.set(row.patternId, text);
      return text;
    };
    return rows.map((r) => {
      const row = byId.get(String(r.pattern_id)) as CodeRow;
      return { ...toPattern(r), code: textOf(row) };
    });
  }

  /** Every file version, in the order recorded (for export). */
  allVersions(): FileVersion[] {
    return this.rows("SELECT * FROM file_versions ORDER BY id").map(toVersion);
  }

  /** Every lineage edge (for export). */
  allEdges(): LineageEdgeRow[] {
    return this.rows("SELECT * FROM lineage_edges ORDER BY created_at").map((r) => ({
      child: String(r.child_pattern_id),
      parent: String(r.parent_pattern_id),
      edgeType: String(r.edge_type),
      transformationType: strOrNull(r.transformation_type),
      filePath: strOrNull(r.file_path),
      createdAt: String(r.created_at),
    }));
  }

  /** Versions (in any file) that hold a pattern. */
  versionsOfPattern(patternId: string): FileVersion[] {
    return this.rows("SELECT * FROM file_versions WHERE pattern_id = ? ORDER BY id", patternId).map(
      toVersion,
    );
  }

  /** Pattern IDs that start with `prefix` (so users can type a short ID). */
  patternIdsStartingWith(prefix: string): string[] {
    return this.rows(
      "SELECT pattern_id FROM patterns WHERE pattern_id >= ? AND pattern_id < ? LIMIT 10",
      prefix,
      prefix + "\uffff",
    ).map((r) => String(r.pattern_id));
  }

  /** Ancestry of a pattern: every edge reachable through parents, nearest first. */
  ancestry(
    patternId: string,
    maxDepth = 10_000,
  ): {
    child: string;
    parent: string;
    depth: number;
    edgeType: string;
    transformationType: string | null;
  }[] {
    return this.rows(
      `WITH RECURSIVE up(child, parent, depth, edge_type, transformation_type) AS (
         SELECT child_pattern_id, parent_pattern_id, 1, edge_type, transformation_type
           FROM lineage_edges WHERE child_pattern_id = ?
         UNION
         SELECT e.child_pattern_id, e.parent_pattern_id, up.depth + 1, e.edge_type, e.transformation_type
           FROM lineage_edges e JOIN up ON e.child_pattern_id = up.parent WHERE up.depth < ?
       ) SELECT child, parent, MIN(depth) AS depth, edge_type, transformation_type FROM up
         GROUP BY child, parent ORDER BY depth`,
      patternId,
      maxDepth,
    ).map((r) => ({
      child: String(r.child),
      parent: String(r.parent),
      depth: Number(r.depth),
      edgeType: String(r.edge_type),
      transformationType: strOrNull(r.transformation_type),
    }));
  }

  /** Every execution recorded under (session, `tool_use_id`), oldest first. */
  executionsOfCall(sessionId: string | null, toolUseId: string): ExecutionRow[] {
    return this.rows(
      "SELECT * FROM executions WHERE session_key = ? AND tool_use_id = ? ORDER BY call_seq",
      sessionId ?? "",
      toolUseId,
    ).map(toExecution);
  }

  /** How many spilled entries were replayed, and the newest one's times and reason. */
  replaySummary(): ReplaySummary {
    const n = Number(this.row("SELECT COUNT(*) AS n FROM journal_replays")?.n ?? 0);
    const last = this.row(
      "SELECT spilled_at, reason, replayed_at FROM journal_replays ORDER BY replayed_at DESC, spilled_at DESC LIMIT 1",
    );
    return {
      replayed: n,
      lastReplayedAt: strOrNull(last?.replayed_at),
      lastSpilledAt: strOrNull(last?.spilled_at),
      lastReason: strOrNull(last?.reason),
    };
  }

  /** Executions of a session, oldest first. */
  executionsOfSession(sessionId: string): ExecutionRow[] {
    return this.rows(
      "SELECT * FROM executions WHERE session_id = ? ORDER BY COALESCE(started_at, finished_at)",
      sessionId,
    )
      .map(toExecution);
  }

  /** The row ID of a file's version, or undefined. */
  versionId(filePath: string, version: number): number | undefined {
    const r = this.row(
      "SELECT id FROM file_versions WHERE file_path = ? AND version = ?",
      filePath,
      version,
    );
    return r ? Number(r.id) : undefined;
  }

  /** A version by row ID, or undefined. */
  versionById(versionId: number): FileVersion | undefined {
    const r = this.row("SELECT * FROM file_versions WHERE id = ?", versionId);
    return r && toVersion(r);
  }

  /** Queued versions, oldest entry first, with their parent's standing with `server`. */
  queuedVersions(server: string, limit: number): QueuedVersion[] {
    return this.rows(
      `SELECT o.id AS queue_id, o.version_id, o.in_doubt, o.last_sent_at, o.legacy_version,
         o.queued_at, o.attempts, o.last_error,
         v.file_path, v.version, v.pattern_id, v.parent_pattern_id, p.id AS parent_version_id,
         CASE
           WHEN p.id IS NULL THEN 'none'
           WHEN EXISTS (SELECT 1 FROM outbox q WHERE q.version_id = p.id) THEN 'queued'
           WHEN EXISTS (SELECT 1 FROM delivered d WHERE d.server = ?1 AND d.version_id = p.id)
             THEN 'delivered'
           WHEN EXISTS (SELECT 1 FROM dead_letters x WHERE x.server = ?1 AND x.version_id = p.id)
             THEN 'dead'
           ELSE 'unknown'
         END AS parent_state,
         CASE WHEN v.parent_pattern_id IS NULL THEN 0
           ELSE (SELECT COUNT(*) FROM file_versions w WHERE w.pattern_id = v.parent_pattern_id)
         END AS parent_pattern_versions,
         CASE WHEN v.parent_pattern_id IS NULL THEN NULL ELSE (
           SELECT d.version_id FROM file_versions w
             JOIN delivered d ON d.server = ?1 AND d.version_id = w.id
           WHERE w.pattern_id = v.parent_pattern_id ORDER BY d.seq DESC LIMIT 1)
         END AS newest_delivered_of_parent
       FROM outbox o
       JOIN file_versions v ON v.id = o.version_id
       LEFT JOIN file_versions p ON v.parent_pattern_id IS NOT NULL AND p.file_path = v.file_path
         AND p.version = v.version - 1 AND p.pattern_id = v.parent_pattern_id
       ORDER BY o.id LIMIT ?2`,
      server,
      limit,
    ).map((r) => ({
      queueId: Number(r.queue_id),
      versionId: Number(r.version_id),
      filePath: String(r.file_path),
      version: Number(r.version),
      patternId: String(r.pattern_id),
      parentPatternId: strOrNull(r.parent_pattern_id),
      parentVersionId: numOrNull(r.parent_version_id),
      parentState: String(r.parent_state) as ParentState,
      parentPatternVersions: Number(r.parent_pattern_versions),
      newestDeliveredOfParent: numOrNull(r.newest_delivered_of_parent),
      inDoubt: r.in_doubt === 1,
      lastSentAt: strOrNull(r.last_sent_at),
      legacyVersion: strOrNull(r.legacy_version),
      queuedAt: String(r.queued_at),
      attempts: Number(r.attempts),
      lastError: strOrNull(r.last_error),
    }));
  }

  /**
   * True when some version holding the pattern is queued, or was acknowledged or refused by a
   * server (import queues a parent's version first only when none is).
   */
  patternInDelivery(patternId: string): boolean {
    return this.row(
      `SELECT 1 AS x FROM file_versions v WHERE v.pattern_id = ? AND (
         EXISTS (SELECT 1 FROM outbox o WHERE o.version_id = v.id)
         OR EXISTS (SELECT 1 FROM delivered d WHERE d.version_id = v.id)
         OR EXISTS (SELECT 1 FROM dead_letters x WHERE x.version_id = v.id)) LIMIT 1`,
      patternId,
    ) !== undefined;
  }

  /** Where one version stands with `server`: queued, acknowledged, refused, or none of these. */
  versionStanding(server: string, versionId: number): "queued" | "delivered" | "dead" | "none" {
    const r = this.row(
      `SELECT EXISTS (SELECT 1 FROM outbox WHERE version_id = ?2) AS queued,
         EXISTS (SELECT 1 FROM delivered WHERE server = ?1 AND version_id = ?2) AS delivered,
         EXISTS (SELECT 1 FROM dead_letters WHERE server = ?1 AND version_id = ?2) AS dead`,
      server,
      versionId,
    );
    return r?.queued ? "queued" : r?.delivered ? "delivered" : r?.dead ? "dead" : "none";
  }

  /** Remembers that `server` holds a version (recovery copies a salvaged mark); true when new. */
  insertDelivered(server: string, versionId: number, at: string): boolean {
    return this.run(
      "INSERT INTO delivered (server, version_id, delivered_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      server,
      versionId,
      at,
    ) > 0;
  }

  /** Remembers that `server` refused a version (recovery copies a salvaged dead letter). */
  insertDeadLetter(
    server: string,
    versionId: number,
    refusal: { status: number | null; message: string; verdict: string | null },
    at: string,
  ): boolean {
    return this.run(
      `INSERT INTO dead_letters (server, version_id, status, message, verdict, dead_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      server,
      versionId,
      refusal.status,
      refusal.message,
      refusal.verdict,
      at,
    ) > 0;
  }

  /** Highest outbox row ID ever used (0 when none): tells a flusher whether anything new arrived. */
  maxOutboxId(): number {
    return Number(this.row("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")?.seq ?? 0);
  }

  /**
   * Marks queued versions as sent, before the request goes out: until an answer says otherwise
   * they are in doubt (a crash or a lost answer leaves them so, and the next flush asks the server).
   */
  markSent(queueIds: readonly number[], at: string): void {
    this.run(
      "UPDATE outbox SET in_doubt = 1, last_sent_at = ? WHERE id IN (SELECT value FROM json_each(?))",
      at,
      JSON.stringify(queueIds),
    );
  }

  /** Records that `server` holds these queued versions, and takes them off the queue. */
  markDelivered(server: string, queueIds: readonly number[], at: string): void {
    if (queueIds.length === 0) return;
    const ids = JSON.stringify(queueIds);
    // In the order given: the order of acknowledgement is the server's order of creation.
    this.run(
      `INSERT INTO delivered (server, version_id, delivered_at)
       SELECT ?, o.version_id, ? FROM json_each(?) j JOIN outbox o ON o.id = j.value
       ORDER BY j.key ON CONFLICT DO NOTHING`,
      server,
      at,
      ids,
    );
    this.run("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))", ids);
  }

  /**
   * Counts a failed attempt on versions that stay queued. `inDoubt`: whether the server may have
   * stored them anyway (no answer, or an answer that does not say).
   */
  markFailed(queueIds: readonly number[], error: string, inDoubt: boolean): void {
    this.run(
      `UPDATE outbox SET attempts = attempts + 1, last_error = ?, in_doubt = ?
       WHERE id IN (SELECT value FROM json_each(?))`,
      error,
      inDoubt ? 1 : 0,
      JSON.stringify(queueIds),
    );
  }

  /** The server was asked and does not hold these versions: they may be sent. */
  clearDoubt(queueIds: readonly number[]): void {
    this.run(
      "UPDATE outbox SET in_doubt = 0 WHERE id IN (SELECT value FROM json_each(?))",
      JSON.stringify(queueIds),
    );
  }

  /** Versions by row ID, in the order asked (missing ones left out). */
  versionsById(versionIds: readonly number[]): FileVersion[] {
    const byId = new Map(
      this.rows(
        "SELECT * FROM file_versions WHERE id IN (SELECT value FROM json_each(?))",
        JSON.stringify(versionIds),
      ).map((r) => [Number(r.id), toVersion(r)]),
    );
    return versionIds.map((id) => byId.get(id)).filter((v): v is FileVersion => v !== undefined);
  }

  /** Moves a queued version that `server` refused for good into the dead-letter table. */
  moveToDeadLetter(
    server: string,
    queueId: number,
    refusal: { status: number | null; message: string; verdict: string },
    at: string,
  ): void {
    this.run(
      `INSERT INTO dead_letters (server, version_id, status, message, verdict, dead_at)
       SELECT ?, version_id, ?, ?, ?, ? FROM outbox WHERE id = ?
       ON CONFLICT (server, version_id) DO UPDATE SET status = excluded.status,
         message = excluded.message, verdict = excluded.verdict, dead_at = excluded.dead_at`,
      server,
      refusal.status,
      refusal.message,
      refusal.verdict,
      at,
      queueId,
    );
    this.run("DELETE FROM outbox WHERE id = ?", queueId);
  }

  /** Dead letters of a server (all servers when omitted), oldest first. */
  deadLetters(server?: string, limit = 1000): DeadLetter[] {
    return this.rows(
      `SELECT x.*, v.file_path, v.version, v.pattern_id FROM dead_letters x
       JOIN file_versions v ON v.id = x.version_id
       WHERE ?1 IS NULL OR x.server = ?1 ORDER BY x.dead_at, x.version_id LIMIT ?2`,
      server ?? null,
      limit,
    ).map((r) => ({
      server: String(r.server),
      versionId: Number(r.version_id),
      filePath: String(r.file_path),
      version: Number(r.version),
      patternId: String(r.pattern_id),
      status: numOrNull(r.status),
      message: String(r.message),
      verdict: strOrNull(r.verdict),
      deadAt: String(r.dead_at),
    }));
  }

  /** Puts dead letters of `server` back into the outbox (those `which` picks); returns how many. */
  requeueDeadLetters(server: string, at: string, which: (d: DeadLetter) => boolean): number {
    let n = 0;
    for (const letter of this.deadLetters(server, 1_000_000)) {
      if (!which(letter)) continue;
      this.enqueueVersion(letter.versionId, at);
      this.run(
        "DELETE FROM dead_letters WHERE server = ? AND version_id = ?",
        server,
        letter.versionId,
      );
      n++;
    }
    return n;
  }

  /**
   * Makes `server` the one the outbox is delivered to. The first time any server is named (a new
   * store, or one whose delivery predates per-server records) it adopts the unattributed marks;
   * another server than the last one gets the whole history it has not acknowledged queued, every
   * entry in doubt (it may hold some of it already). Returns how many versions were queued.
   */
  switchServer(server: string, at: string): { queued: number; switched: boolean } {
    const current = this.meta("delivery_server");
    if (current === server) return { queued: 0, switched: false };
    this.setMeta("delivery_server", server);
    if (current === undefined) {
      this.run("UPDATE OR IGNORE delivered SET server = ? WHERE server = ''", server);
      this.run("UPDATE OR IGNORE dead_letters SET server = ? WHERE server = ''", server);
      return { queued: 0, switched: false };
    }
    this.run("UPDATE outbox SET in_doubt = 1");
    const queued = this.run(
      `INSERT INTO outbox (version_id, queued_at, in_doubt)
       SELECT v.id, ?1, 1 FROM file_versions v
       WHERE NOT EXISTS (SELECT 1 FROM delivered d WHERE d.server = ?2 AND d.version_id = v.id)
         AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.server = ?2 AND x.version_id = v.id)
       ORDER BY v.id
       ON CONFLICT (version_id) DO NOTHING`,
      at,
      server,
    );
    return { queued, switched: true };
  }

  /**
   * Queues, in doubt, every earlier version of a file that is not queued or refused (and forgets
   * that `server` acknowledged them): the server answered that a parent is missing, so it lost
   * them, or never had them. Returns how many were queued.
   */
  requeueAncestors(server: string, filePath: string, belowVersion: number, at: string): number {
    const ids = this.rows(
      `SELECT v.id FROM file_versions v
       WHERE v.file_path = ? AND v.version < ?
         AND NOT EXISTS (SELECT 1 FROM outbox q WHERE q.version_id = v.id)
         AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.server = ? AND x.version_id = v.id)
       ORDER BY v.version`,
      filePath,
      belowVersion,
      server,
    ).map((r) => Number(r.id));
    for (const id of ids) {
      this.run("DELETE FROM delivered WHERE server = ? AND version_id = ?", server, id);
      this.enqueueVersion(id, at, { inDoubt: true });
    }
    return ids.length;
  }

  /** Outbox depth for `status`: queued, of which in doubt, and the oldest entry's time. */
  outboxCounts(): { queued: number; inDoubt: number; oldestQueuedAt: string | null } {
    const r = this.row(
      "SELECT COUNT(*) AS n, COALESCE(SUM(in_doubt), 0) AS d, MIN(queued_at) AS t FROM outbox",
    );
    return {
      queued: Number(r?.n ?? 0),
      inDoubt: Number(r?.d ?? 0),
      oldestQueuedAt: strOrNull(r?.t),
    };
  }

  /** Per server: versions acknowledged and refused. */
  deliveryByServer(): ServerDeliveryCounts[] {
    return this.rows(
      `SELECT server, SUM(delivered) AS delivered, SUM(dead) AS dead FROM (
         SELECT server, COUNT(*) AS delivered, 0 AS dead FROM delivered GROUP BY server
         UNION ALL SELECT server, 0, COUNT(*) FROM dead_letters GROUP BY server
       ) GROUP BY server ORDER BY server`,
    ).map((r) => ({
      server: String(r.server),
      delivered: Number(r.delivered),
      deadLetters: Number(r.dead),
    }));
  }

  /** Events of an older release that map to no version (kept whole; never sent). */
  legacyEventCount(): number {
    return Number(this.row("SELECT COUNT(*) AS n FROM legacy_events")?.n ?? 0);
  }

  /**
   * A pattern's stored text: null when no code is kept, undefined when the pattern is not stored.
   * Throws {@linkcode StoredCodeError} when the stored code cannot be read back.
   */
  code(patternId: string): string | null | undefined {
    const row = this.codeRow(patternId);
    return row && this.fullText(row);
  }

  /** Rewrites how a pattern's code is kept (its text stays the same): compression, re-snapshots. */
  setStoredCode(patternId: string, stored: StoredCode): void {
    this.writeCode(patternId, stored, null);
  }

  /** Drops a pattern's code, keeping its hash, sizes and lineage; `reason` becomes `codeOmitted`. */
  dropCode(patternId: string, reason: string): void {
    this.writeCode(patternId, null, reason);
  }

  /** Patterns whose code is a patch against `patternId`'s stored text. */
  patchDependents(patternId: string): string[] {
    return this.rows("SELECT pattern_id FROM pattern_code WHERE base = ?", patternId).map((r) =>
      String(r.pattern_id)
    );
  }

  /**
   * Patterns the newest version of some file is read through: the newest versions themselves and
   * the bases of their patches, down to the snapshots. A hook may read these (to patch the next
   * version against, or to compare), so they stay uncompressed: loading node:zlib would cost the
   * hook 30–40 ms.
   */
  hotCodeIds(): Set<string> {
    return new Set(
      this.rows(
        `WITH RECURSIVE tips(id) AS (
           SELECT pattern_id FROM file_versions v
           WHERE version = (SELECT MAX(version) FROM file_versions w WHERE w.file_path = v.file_path)
         ), chain(id, base) AS (
           SELECT tips.id, c.base FROM tips LEFT JOIN pattern_code c ON c.pattern_id = tips.id
           UNION
           SELECT c.pattern_id, c.base FROM pattern_code c JOIN chain ON c.pattern_id = chain.base
         ) SELECT id FROM chain`,
      ).map((r) => String(r.id)),
    );
  }

  /**
   * Patterns whose stored code maintenance may make smaller — texts in the pre-v3 `code` column,
   * uncompressed snapshots of at least `minBytes`, patches of at least `minPatchBytes` — in the
   * order their first versions were recorded (a parent before its children; patterns of no
   * version last), after `after` (a `[order, patternId]` this returned).
   */
  compactionCandidates(
    after: readonly [number, string] | null,
    minBytes: number,
    minPatchBytes: number,
  ): [number, string][] {
    return this.rows(
      `SELECT k, pattern_id FROM (
         SELECT COALESCE((SELECT MIN(v.id) FROM file_versions v WHERE v.pattern_id = p.pattern_id), ${Number.MAX_SAFE_INTEGER}) AS k,
           p.pattern_id
         FROM patterns p LEFT JOIN pattern_code c ON c.pattern_id = p.pattern_id
         WHERE p.code IS NOT NULL OR (c.format = 'text' AND length(c.data) >= ?)
           OR (c.format = 'patch' AND length(c.data) >= ?)
       ) WHERE (k, pattern_id) > (?, ?) ORDER BY k, pattern_id`,
      minBytes,
      minPatchBytes,
      after?.[0] ?? -1,
      after?.[1] ?? "",
    ).map((r) => [Number(r.k), String(r.pattern_id)]);
  }

  /** The lineage parent of a pattern's first version (the base maintenance patches it against). */
  lineageParentOf(patternId: string): string | null {
    return strOrNull(
      this.row(
        `SELECT parent_pattern_id FROM file_versions WHERE pattern_id = ? AND parent_pattern_id IS NOT NULL
         ORDER BY id LIMIT 1`,
        patternId,
      )?.parent_pattern_id,
    );
  }

  /**
   * Patterns whose code retention may drop: code kept, first seen and every version recorded
   * before `beforeIso`, and not the newest version of any file (the current content of a file stays
   * readable, and it is what a hook patches the next version against). Whether they are delivered
   * is the caller's question ({@linkcode undeliveredPatternIds}).
   */
  codeRowsOlderThan(beforeIso: string): CodeRow[] {
    return this.rows(
      `${PATTERN_WITH_CODE}
       WHERE (p.code IS NOT NULL OR c.pattern_id IS NOT NULL) AND p.first_seen_at < ?1
         AND NOT EXISTS (SELECT 1 FROM file_versions v WHERE v.pattern_id = p.pattern_id AND
           (v.created_at >= ?1 OR v.version = (SELECT MAX(version) FROM file_versions w WHERE w.file_path = v.file_path)))
       ORDER BY COALESCE(c.depth, 0) DESC, p.pattern_id`,
      beforeIso,
    ).map(toCodeRow);
  }

  /**
   * Patterns the Phase 4 server has not acknowledged yet: queued, dead-lettered, or never
   * delivered at all. Retention keeps their code (a pending event is built from it).
   */
  undeliveredPatternIds(): Set<string> {
    return new Set(
      this.rows(
        `SELECT v.pattern_id FROM file_versions v
         WHERE v.id IN (SELECT version_id FROM outbox) OR v.id IN (SELECT version_id FROM dead_letters)
           OR v.id NOT IN (SELECT version_id FROM delivered)
         UNION SELECT p.pattern_id FROM patterns p
         WHERE NOT EXISTS (SELECT 1 FROM file_versions v WHERE v.pattern_id = p.pattern_id)`,
      ).map((r) => String(r.pattern_id)),
    );
  }

  /** What the stored code weighs. */
  codeStorage(): CodeStorageStats {
    const stored = this.row(
      `SELECT COUNT(*) AS n, COALESCE(SUM(c.format IN ('text', 'text+deflate')), 0) AS snapshots,
         COALESCE(SUM(c.format LIKE '%+deflate'), 0) AS compressed,
         COALESCE(SUM(length(c.data)), 0) AS bytes, COALESCE(SUM(p.byte_size), 0) AS text_bytes
       FROM pattern_code c JOIN patterns p ON p.pattern_id = c.pattern_id`,
    ) ?? {};
    const legacy = this.row(
      `SELECT COUNT(*) AS n, COALESCE(SUM(octet_length(code)), 0) AS bytes,
         COALESCE(SUM(byte_size), 0) AS text_bytes FROM patterns WHERE code IS NOT NULL`,
    ) ?? {};
    const n = (x: unknown) => Number(x ?? 0);
    return {
      withCode: n(stored.n) + n(legacy.n),
      snapshots: n(stored.snapshots) + n(legacy.n),
      patches: n(stored.n) - n(stored.snapshots),
      compressed: n(stored.compressed),
      legacy: n(legacy.n),
      bytes: n(stored.bytes) + n(legacy.bytes),
      textBytes: n(stored.text_bytes) + n(legacy.text_bytes),
    };
  }

  /** The database file's size, its write-ahead log, and the free pages inside it. */
  databaseSize(): DatabaseSize {
    const pragma = (name: string) =>
      Number(Object.values(this.row(`PRAGMA ${name}`) ?? {})[0] ?? 0);
    const pageSize = pragma("page_size");
    let walBytes = 0;
    try {
      walBytes = Deno.statSync(`${this.path}-wal`).size;
    } catch { /* no log */ }
    return {
      fileBytes: pragma("page_count") * pageSize + walBytes,
      walBytes,
      freeBytes: pragma("freelist_count") * pageSize,
    };
  }

  /**
   * Returns the free pages inside the database file to the file system, and says how: "incremental"
   * for stores created with incremental auto-vacuum (every store made since schema v3; a short
   * write, pages moved at the end), else a full "vacuum" (it rebuilds the file, holding the write
   * lock meanwhile: for the CLI, never a hook), which Deno's node:sqlite allows only under
   * --allow-all ("unavailable" otherwise, with the reason). A full VACUUM also switches the store to
   * incremental auto-vacuum, so the next time needs no --allow-all.
   */
  shrink(): { method: "incremental" | "vacuum" | "unavailable"; reason?: string } {
    if (this.releaseFreePages(0)) {
      this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return { method: "incremental" };
    }
    try {
      this.db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      this.db.exec("VACUUM");
    } catch (error) {
      return { method: "unavailable", reason: (error as Error).message };
    }
    // In WAL mode the rebuilt file first lands in the log: move it into the database file now.
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return { method: "vacuum" };
  }

  /** True when the store returns free pages in small steps (incremental auto-vacuum). */
  shrinksIncrementally(): boolean {
    return Number(this.row("PRAGMA auto_vacuum")?.auto_vacuum ?? 0) === 2;
  }

  /**
   * Returns up to `pages` free pages (0: all) to the file system when the store uses incremental
   * auto-vacuum; a short write. Returns whether the store can.
   */
  releaseFreePages(pages: number): boolean {
    if (!this.shrinksIncrementally()) return false;
    this.rows(`PRAGMA incremental_vacuum(${Math.max(0, Math.floor(pages))})`);
    return true;
  }

  /** Status values whose key starts with `prefix`, keyed by the rest of the key. */
  metaWithPrefix(prefix: string): Map<string, string> {
    return new Map(
      this.rows(
        "SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key",
        prefix,
        prefix + "\uffff",
      ).map((r) => [String(r.key).slice(prefix.length), String(r.value)]),
    );
  }

  /** Counts for `status`. */
  counts(): StoreCounts {
    const n = (sql: string) => Number(this.row(sql)?.n ?? 0);
    return {
      patterns: n("SELECT COUNT(*) AS n FROM patterns"),
      versions: n("SELECT COUNT(*) AS n FROM file_versions"),
      files: n("SELECT COUNT(DISTINCT file_path) AS n FROM file_versions"),
      edges: n("SELECT COUNT(*) AS n FROM lineage_edges"),
      executions: n("SELECT COUNT(*) AS n FROM executions"),
      failedExecutions: n("SELECT COUNT(*) AS n FROM executions WHERE success = 0"),
      outbox: n("SELECT COUNT(*) AS n FROM outbox"),
      oldestOutboxAt: strOrNull(this.row("SELECT MIN(queued_at) AS t FROM outbox")?.t),
      deadLetters: n("SELECT COUNT(*) AS n FROM dead_letters"),
      delivered: n("SELECT COUNT(*) AS n FROM delivered"),
    };
  }

  // ---- read-only queries of the views (src/views_queries.ts; never on the hooks' path) --------

  /**
   * Rows of one read-only query, for the view modules (blame, stats), which keep their SQL out of
   * this module so that the hooks never load it. Only a `SELECT` is accepted (SQLite cannot write
   * from one).
   */
  selectRows(sql: string, ...params: SQLInputValue[]): Record<string, unknown>[] {
    if (!/^\s*SELECT\b/i.test(sql)) {
      throw new Error(`selectRows runs SELECT statements only, not: ${sql.slice(0, 40)}`);
    }
    return this.rows(sql, ...params);
  }
}

/** The whole store: every query, every migration. */
const STORE: StoreKind<Store> = {
  make: (db, path, identity) => new Store(db, path, identity),
  migrations: MIGRATIONS,
};

/**
 * Opens (and creates, readable by the user only) the whole store in `dataDir`, applying any pending
 * migration: see {@linkcode openStoreAs} for the guard, the modes and a corrupt database.
 *
 * @example
 * ```ts
 * import { MIGRATIONS, openStore } from "./store.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * store.schemaVersion() === MIGRATIONS.length; // true
 * store.close();
 * ```
 */
export function openStore(dataDir: string, options: OpenStoreOptions = {}): Store {
  return openStoreAs(STORE, dataDir, options);
}
