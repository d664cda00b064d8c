/**
 * The embedded SQLite store (`node:sqlite`): the only module that touches the database. It keeps
 * patterns, file versions, lineage edges, executions, the outbox of Phase 4 events waiting for
 * delivery, dead letters, and a few status values.
 *
 * Concurrency: WAL, a busy timeout, and `BEGIN IMMEDIATE` for every read-then-write transaction, so
 * parallel hook processes serialise on the write lock instead of failing with SQLITE_BUSY.
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { type DataDirScan, scanDataDir, symlinksAmong } from "./data_dir.ts";
import {
  classifyStoreError,
  describeStoreFailure,
  type FileIdentity,
  fileIdentity,
  moveAsideCorrupt,
  sameFile,
  StoreError,
} from "./store_failure.ts";

/** File name of the database inside the data directory. */
export const DB_FILE = "patterns.db";

/** Ordered schema migrations; `PRAGMA user_version` records how many have run. Never edit one. */
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
  // 3 (recording): an execution is identified by (session, tool_use_id), not tool_use_id alone —
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

/** One version of a file: a pattern in that file's chain. */
export interface FileVersion {
  filePath: string;
  version: number;
  patternId: string;
  parentPatternId: string | null;
  eventType: string;
  transformationType: string | null;
  toolName: string;
  toolUseId: string | null;
  sessionId: string | null;
  correlationId: string;
  reason: string | null;
  createdAt: string;
}

/** A stored pattern. */
export interface PatternRow {
  patternId: string;
  language: string;
  lineCount: number;
  byteSize: number;
  code: string | null;
  firstSeenAt: string;
  /** Why `code` is null: "store_code_off", "too_large", or "unreadable" (lost to damage). */
  codeOmitted?: string | null;
  /** Secrets replaced in `code`. */
  redactedSecrets?: number;
}

/** A lineage edge: the child pattern was made from the parent. */
export interface LineageEdgeRow {
  child: string;
  parent: string;
  edgeType: string;
  transformationType: string | null;
  filePath: string | null;
  createdAt: string;
}

/** One tool call's execution record. */
export interface ExecutionRow {
  toolUseId: string;
  sessionId: string | null;
  toolName: string;
  filePath: string | null;
  correlationId: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  success: boolean | null;
  error: string | null;
  linesAdded: number | null;
  linesRemoved: number | null;
  beforePatternId: string | null;
  patternId: string | null;
}

/** An event waiting in the outbox. */
export interface OutboxRow {
  id: number;
  patternId: string;
  patternVersion: string;
  parentPatternIds: string[];
  body: string;
  createdAt: string;
  attempts: number;
  lastError: string | null;
}

/** A version with the metrics of the tool call that produced it. */
export interface VersionWithMetrics extends FileVersion {
  linesAdded: number | null;
  linesRemoved: number | null;
  durationMs: number | null;
  success: boolean | null;
  lineCount: number | null;
}

/** A spill-journal entry applied to the store (see `journal.ts`). */
export interface JournalReplay {
  entryId: string;
  spilledAt: string;
  reason: string;
  /** The journal file it came from. */
  place: string;
  replayedAt: string;
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
  outbox: number;
  oldestOutboxAt: string | null;
  deadLetters: number;
  delivered: number;
}

type Row = Record<string, unknown>;

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
export class Store {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The file opened: if the path names another file at close, ours was moved aside. */
  readonly #identity: FileIdentity | null;
  /** Path of the database file. */
  readonly path: string;

  constructor(db: DatabaseSync, path: string, identity: FileIdentity | null = fileIdentity(path)) {
    this.#db = db;
    this.path = path;
    this.#identity = identity;
  }

  #stmt(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#stmt(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#stmt(sql).all(...params) as Row[];
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#stmt(sql).run(...params).changes);
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before the first read, so
   * a read-then-write cannot be overtaken by another process. Rolls back if `fn` throws.
   */
  immediate<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* the transaction is already gone */ }
      throw error;
    }
  }

  /**
   * Runs `fn` inside a savepoint of the current transaction: if it throws, what it wrote is undone
   * and the error goes on, while the transaction around it stays usable.
   */
  savepoint<T>(fn: () => T): T {
    this.#db.exec("SAVEPOINT one_record");
    try {
      const result = fn();
      this.#db.exec("RELEASE one_record");
      return result;
    } catch (error) {
      try {
        this.#db.exec("ROLLBACK TO one_record");
        this.#db.exec("RELEASE one_record");
      } catch { /* the transaction itself is gone; the caller's rollback handles it */ }
      throw error;
    }
  }

  /** Schema version (number of migrations applied). */
  schemaVersion(): number {
    return Number(this.#get("PRAGMA user_version")?.user_version ?? 0);
  }

  /**
   * Checkpoints the WAL into the database and truncates it, if no other connection is using it
   * right now (never waits: another process busy means "next time"); returns whether it did.
   * Hooks call it when the WAL has grown: a process that opens the store alone rebuilds its index
   * of the WAL by reading every frame, so a hook's cost grows with the WAL, and the WAL of
   * processes that never close (hooks) is otherwise never reset.
   */
  truncateWal(busyTimeoutMs: number): boolean {
    this.#db.exec("PRAGMA busy_timeout = 0");
    try {
      const r = this.#db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as Row | undefined;
      return Number(r?.busy ?? 1) === 0;
    } catch {
      return false;
    } finally {
      this.#db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    }
  }

  /**
   * SQLite's `PRAGMA quick_check`: the problems found (at most `limit`), empty when the database
   * is sound. It reads every page, so it runs in the flusher and `status`, never in a hook.
   */
  quickCheck(limit = 20): string[] {
    const rows = this.#db.prepare(`PRAGMA quick_check(${Math.max(1, Math.floor(limit))})`).all();
    const problems = rows.map((r) => String(Object.values(r as Row)[0]));
    return problems.length === 1 && problems[0] === "ok" ? [] : problems;
  }

  // ---- patterns, versions, edges -------------------------------------------------------------

  /** Inserts a pattern unless its ID is already stored; returns true when inserted. */
  insertPattern(p: PatternRow): boolean {
    return this.#run(
      `INSERT INTO patterns (pattern_id, language, line_count, byte_size, code, first_seen_at, code_omitted, redacted_secrets)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pattern_id) DO NOTHING`,
      p.patternId,
      p.language,
      p.lineCount,
      p.byteSize,
      p.code,
      p.firstSeenAt,
      p.codeOmitted ?? null,
      p.redactedSecrets ?? 0,
    ) > 0;
  }

  /** A stored pattern, or undefined. */
  pattern(patternId: string): PatternRow | undefined {
    const r = this.#get("SELECT * FROM patterns WHERE pattern_id = ?", patternId);
    return r && toPattern(r);
  }

  /** True when the pattern ID is stored. */
  hasPattern(patternId: string): boolean {
    return this.#get("SELECT 1 AS x FROM patterns WHERE pattern_id = ?", patternId) !== undefined;
  }

  /** Newest version of a file, or undefined. */
  latestVersion(filePath: string): FileVersion | undefined {
    const r = this.#get(
      "SELECT * FROM file_versions WHERE file_path = ? ORDER BY version DESC LIMIT 1",
      filePath,
    );
    return r && toVersion(r);
  }

  /** Appends a version to its file's chain. The caller picks `version` inside a transaction. */
  insertVersion(v: FileVersion): void {
    this.#insertVersion(v, "");
  }

  /** Inserts a version unless that file already has one with this number; true when inserted. */
  insertVersionIfAbsent(v: FileVersion): boolean {
    return this.#insertVersion(v, "ON CONFLICT (file_path, version) DO NOTHING") > 0;
  }

  #insertVersion(v: FileVersion, onConflict: string): number {
    return this.#run(
      `INSERT INTO file_versions (file_path, version, pattern_id, parent_pattern_id, event_type,
         transformation_type, tool_name, tool_use_id, session_id, correlation_id, reason, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${onConflict}`,
      v.filePath,
      v.version,
      v.patternId,
      v.parentPatternId,
      v.eventType,
      v.transformationType,
      v.toolName,
      v.toolUseId,
      v.sessionId,
      v.correlationId,
      v.reason,
      v.createdAt,
    );
  }

  /**
   * Moves a file's versions `by` numbers up (recovery puts a salvaged history before the versions
   * a fresh store recorded since). Through negative numbers, so no step collides.
   */
  shiftVersions(filePath: string, by: number): void {
    this.#run("UPDATE file_versions SET version = -version WHERE file_path = ?", filePath);
    this.#run("UPDATE file_versions SET version = -version + ? WHERE file_path = ?", by, filePath);
  }

  /** Deletes one version of a file (recovery drops a baseline that repeats the salvaged last one). */
  deleteVersion(filePath: string, version: number): void {
    this.#run("DELETE FROM file_versions WHERE file_path = ? AND version = ?", filePath, version);
  }

  /** Records a lineage edge (idempotent); true when it was new. */
  insertEdge(e: LineageEdgeRow): boolean {
    return this.#run(
      `INSERT INTO lineage_edges (child_pattern_id, parent_pattern_id, edge_type, transformation_type, file_path, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      e.child,
      e.parent,
      e.edgeType,
      e.transformationType,
      e.filePath,
      e.createdAt,
    ) > 0;
  }

  /** Every version of a file, oldest first, with the metrics of the tool call behind each. */
  fileHistory(filePath: string): VersionWithMetrics[] {
    return this.#all(
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
    return this.#all(
      `SELECT DISTINCT file_path FROM file_versions WHERE file_path = ? OR file_path LIKE ? ESCAPE '\\'`,
      suffix,
      "%/" + suffix.replace(/[\\%_]/g, (c) => "\\" + c),
    ).map((r) => String(r.file_path));
  }

  /** Tracked files, newest change first; only those a session touched when `sessionId` is given. */
  trackedFiles(options: { sessionId?: string; limit?: number } = {}): string[] {
    const limit = options.limit ?? 1000;
    const rows = options.sessionId
      ? this.#all(
        "SELECT file_path FROM file_versions WHERE session_id = ? GROUP BY file_path ORDER BY MAX(id) DESC LIMIT ?",
        options.sessionId,
        limit,
      )
      : this.#all(
        "SELECT file_path FROM file_versions GROUP BY file_path ORDER BY MAX(id) DESC LIMIT ?",
        limit,
      );
    return rows.map((r) => String(r.file_path));
  }

  /** Executions, oldest first; only a session's when `sessionId` is given. */
  executions(options: { sessionId?: string; limit?: number } = {}): ExecutionRow[] {
    const limit = options.limit ?? 100_000;
    const rows = options.sessionId
      ? this.#all(
        "SELECT * FROM executions WHERE session_id = ? ORDER BY COALESCE(started_at, finished_at) LIMIT ?",
        options.sessionId,
        limit,
      )
      : this.#all(
        "SELECT * FROM executions ORDER BY COALESCE(started_at, finished_at) LIMIT ?",
        limit,
      );
    return rows.map(toExecution);
  }

  /** Every pattern, in ID order (for export). */
  allPatterns(): PatternRow[] {
    return this.#all("SELECT * FROM patterns ORDER BY pattern_id").map(toPattern);
  }

  /** Every file version, in the order recorded (for export). */
  allVersions(): FileVersion[] {
    return this.#all("SELECT * FROM file_versions ORDER BY id").map(toVersion);
  }

  /** Every lineage edge (for export). */
  allEdges(): LineageEdgeRow[] {
    return this.#all("SELECT * FROM lineage_edges ORDER BY created_at").map((r) => ({
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
    return this.#all("SELECT * FROM file_versions WHERE pattern_id = ? ORDER BY id", patternId).map(
      toVersion,
    );
  }

  /** Pattern IDs that start with `prefix` (so users can type a short ID). */
  patternIdsStartingWith(prefix: string): string[] {
    return this.#all(
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
    return this.#all(
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

  // ---- executions ----------------------------------------------------------------------------

  /**
   * The newest execution of a tool call, identified by (session, `tool_use_id`), or undefined.
   * The same ID in another session is another call.
   */
  execution(sessionId: string | null, toolUseId: string): ExecutionRow | undefined {
    const r = this.#latestCall(sessionId, toolUseId);
    return r && toExecution(r);
  }

  /** Every execution recorded under (session, `tool_use_id`), oldest first. */
  executionsOfCall(sessionId: string | null, toolUseId: string): ExecutionRow[] {
    return this.#all(
      "SELECT * FROM executions WHERE session_key = ? AND tool_use_id = ? ORDER BY call_seq",
      sessionId ?? "",
      toolUseId,
    ).map(toExecution);
  }

  #latestCall(sessionId: string | null, toolUseId: string): Row | undefined {
    return this.#get(
      "SELECT * FROM executions WHERE session_key = ? AND tool_use_id = ? ORDER BY call_seq DESC LIMIT 1",
      sessionId ?? "",
      toolUseId,
    );
  }

  /**
   * Records a PreToolUse intent. A second intent for a call not yet finished is ignored; after a
   * finished one, the same (session, ID) is a new call that reuses the ID.
   */
  insertIntent(e: {
    toolUseId: string;
    sessionId: string | null;
    toolName: string;
    filePath: string;
    correlationId: string;
    startedAt: string;
    beforePatternId: string | null;
  }): boolean {
    // One statement (a hook prepares each statement afresh): the next call number, unless a call
    // of this (session, ID) is still waiting for its outcome.
    const key = e.sessionId ?? "";
    return this.#run(
      `INSERT INTO executions (session_key, tool_use_id, call_seq, session_id, tool_name, file_path,
         correlation_id, started_at, before_pattern_id)
       SELECT ?1, ?2, COALESCE(MAX(call_seq) + 1, 0), ?3, ?4, ?5, ?6, ?7, ?8
         FROM executions WHERE session_key = ?1 AND tool_use_id = ?2
         HAVING COUNT(*) = 0 OR MAX(CASE WHEN finished_at IS NULL THEN 1 ELSE 0 END) = 0
       ON CONFLICT DO NOTHING`,
      key,
      e.toolUseId,
      e.sessionId,
      e.toolName,
      e.filePath,
      e.correlationId,
      e.startedAt,
      e.beforePatternId,
    ) > 0;
  }

  /**
   * Writes the outcome of a tool call: into its intent when one is waiting (keeping the intent's
   * start time and correlation ID), else as a new execution of that (session, ID). The caller
   * decides, in the same transaction, whether the outcome repeats one already recorded.
   */
  finishExecution(e: ExecutionRow): void {
    const latest = this.#latestCall(e.sessionId, e.toolUseId);
    const waiting = latest && latest.finished_at === null;
    const seq = latest ? Number(latest.call_seq) + (waiting ? 0 : 1) : 0;
    this.#run(
      `INSERT INTO executions (session_key, tool_use_id, call_seq, session_id, tool_name, file_path,
         correlation_id, started_at, finished_at, duration_ms, success, error, lines_added,
         lines_removed, before_pattern_id, pattern_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_key, tool_use_id, call_seq) DO UPDATE SET
         finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
         success = excluded.success, error = excluded.error, lines_added = excluded.lines_added,
         lines_removed = excluded.lines_removed, pattern_id = excluded.pattern_id,
         before_pattern_id = COALESCE(excluded.before_pattern_id, executions.before_pattern_id)`,
      e.sessionId ?? "",
      e.toolUseId,
      seq,
      e.sessionId,
      e.toolName,
      e.filePath,
      e.correlationId,
      e.startedAt,
      e.finishedAt,
      e.durationMs,
      e.success === null ? null : e.success ? 1 : 0,
      e.error,
      e.linesAdded,
      e.linesRemoved,
      e.beforePatternId,
      e.patternId,
    );
  }

  // ---- spill journal replays -------------------------------------------------------------------

  /** True when the spill-journal entry was already applied (by this or another process). */
  journalApplied(entryId: string): boolean {
    return this.#get("SELECT 1 AS x FROM journal_replays WHERE entry_id = ?", entryId) !==
      undefined;
  }

  /** Remembers a spill-journal entry as applied, in the transaction that applied it. */
  markJournalApplied(r: JournalReplay): void {
    this.#run(
      `INSERT INTO journal_replays (entry_id, spilled_at, reason, place, replayed_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      r.entryId,
      r.spilledAt,
      r.reason,
      r.place,
      r.replayedAt,
    );
  }

  /** How many spilled entries were replayed, and the newest one's times and reason. */
  replaySummary(): ReplaySummary {
    const n = Number(this.#get("SELECT COUNT(*) AS n FROM journal_replays")?.n ?? 0);
    const last = this.#get(
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
    return this.#all(
      "SELECT * FROM executions WHERE session_id = ? ORDER BY COALESCE(started_at, finished_at)",
      sessionId,
    )
      .map(toExecution);
  }

  // ---- outbox, dead letters, delivered --------------------------------------------------------

  /** Queues a Phase 4 event. `body` is the exact request JSON and is never changed afterwards. */
  enqueue(
    e: {
      patternId: string;
      patternVersion: string;
      parentPatternIds: string[];
      body: string;
      createdAt: string;
    },
  ): void {
    this.#run(
      "INSERT INTO outbox (pattern_id, pattern_version, parent_pattern_ids, body, created_at) VALUES (?, ?, ?, ?, ?)",
      e.patternId,
      e.patternVersion,
      JSON.stringify(e.parentPatternIds),
      e.body,
      e.createdAt,
    );
  }

  /** Oldest pending events first. */
  pendingEvents(limit: number): OutboxRow[] {
    return this.#all("SELECT * FROM outbox ORDER BY id LIMIT ?", limit).map(toOutbox);
  }

  /** Highest outbox row ID ever used (0 when none): tells a flusher whether anything new arrived. */
  maxOutboxId(): number {
    return Number(this.#get("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")?.seq ?? 0);
  }

  /** Pattern IDs of pending events after row `afterId` (outside a delivery window). */
  pendingPatternIdsAfter(afterId: number): Set<string> {
    return new Set(
      this.#all("SELECT DISTINCT pattern_id FROM outbox WHERE id > ?", afterId).map((r) =>
        String(r.pattern_id)
      ),
    );
  }

  /** Pattern IDs waiting in the dead-letter table. */
  deadPatternIds(): Set<string> {
    return new Set(
      this.#all("SELECT DISTINCT pattern_id FROM dead_letters").map((r) => String(r.pattern_id)),
    );
  }

  /** Marks events acknowledged by the server: removes them and remembers (pattern, version). */
  markDelivered(ids: readonly number[], at: string): void {
    for (const id of ids) {
      const r = this.#get("SELECT pattern_id, pattern_version FROM outbox WHERE id = ?", id);
      if (!r) continue;
      this.#run(
        "INSERT INTO delivered (pattern_id, pattern_version, delivered_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        String(r.pattern_id),
        String(r.pattern_version),
        at,
      );
      this.#run("DELETE FROM outbox WHERE id = ?", id);
    }
  }

  /** True when an event of this pattern waits in the outbox or the dead-letter table. */
  hasPendingEvent(patternId: string): boolean {
    return this.#get("SELECT 1 AS x FROM outbox WHERE pattern_id = ? LIMIT 1", patternId) !==
        undefined ||
      this.#get("SELECT 1 AS x FROM dead_letters WHERE pattern_id = ? LIMIT 1", patternId) !==
        undefined;
  }

  /** Remembers that the server acknowledged (pattern, version) (recovery); true when new. */
  insertDelivered(patternId: string, patternVersion: string, at: string): boolean {
    return this.#run(
      "INSERT INTO delivered (pattern_id, pattern_version, delivered_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      patternId,
      patternVersion,
      at,
    ) > 0;
  }

  /** True when the server acknowledged this exact (pattern, version). */
  isVersionDelivered(patternId: string, patternVersion: string): boolean {
    return this.#get(
      "SELECT 1 AS x FROM delivered WHERE pattern_id = ? AND pattern_version = ?",
      patternId,
      patternVersion,
    ) !== undefined;
  }

  /** True when an event with exactly this body waits in the outbox or the dead-letter table. */
  hasEventBody(body: string): boolean {
    return this.#get("SELECT 1 AS x FROM outbox WHERE body = ? LIMIT 1", body) !== undefined ||
      this.#get("SELECT 1 AS x FROM dead_letters WHERE body = ? LIMIT 1", body) !== undefined;
  }

  /** True when the server has acknowledged some event for this pattern. */
  isDelivered(patternId: string): boolean {
    return this.#get("SELECT 1 AS x FROM delivered WHERE pattern_id = ? LIMIT 1", patternId) !==
      undefined;
  }

  /** Counts a failed attempt on events that stay in the outbox. */
  markAttempt(ids: readonly number[], error: string): void {
    for (const id of ids) {
      this.#run(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
        error,
        id,
      );
    }
  }

  /** Moves an event the server refused for good into the dead-letter table. */
  moveToDeadLetter(id: number, status: number | null, message: string, at: string): void {
    this.#run(
      `INSERT INTO dead_letters (outbox_id, pattern_id, pattern_version, parent_pattern_ids, body, created_at, status, message, dead_at)
       SELECT id, pattern_id, pattern_version, parent_pattern_ids, body, created_at, ?, ?, ? FROM outbox WHERE id = ?
       ON CONFLICT DO NOTHING`,
      status,
      message,
      at,
      id,
    );
    this.#run("DELETE FROM outbox WHERE id = ?", id);
  }

  /** Dead letters, oldest first. */
  deadLetters(
    limit = 1000,
  ): (OutboxRow & { status: number | null; message: string; deadAt: string })[] {
    return this.#all("SELECT * FROM dead_letters ORDER BY outbox_id LIMIT ?", limit).map((r) => ({
      ...toOutbox({ ...r, id: r.outbox_id, attempts: 0, last_error: r.message }),
      status: numOrNull(r.status),
      message: String(r.message),
      deadAt: String(r.dead_at),
    }));
  }

  /** Puts every dead letter back into the outbox, with its original ID so causal order holds. */
  requeueDeadLetters(): number {
    this.#run(
      `INSERT INTO outbox (id, pattern_id, pattern_version, parent_pattern_ids, body, created_at)
       SELECT outbox_id, pattern_id, pattern_version, parent_pattern_ids, body, created_at FROM dead_letters
       WHERE true ON CONFLICT DO NOTHING`,
    );
    return this.#run("DELETE FROM dead_letters");
  }

  // ---- meta ----------------------------------------------------------------------------------

  /** Sets a status value (last error, last success, breaker state…). */
  setMeta(key: string, value: string): void {
    this.#run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /** A status value, or undefined. */
  meta(key: string): string | undefined {
    const r = this.#get("SELECT value FROM meta WHERE key = ?", key);
    return r ? String(r.value) : undefined;
  }

  /** Status values whose key starts with `prefix`, keyed by the rest of the key. */
  metaWithPrefix(prefix: string): Map<string, string> {
    return new Map(
      this.#all(
        "SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key",
        prefix,
        prefix + "\uffff",
      ).map((r) => [String(r.key).slice(prefix.length), String(r.value)]),
    );
  }

  /** Counts for `status`. */
  counts(): StoreCounts {
    const n = (sql: string) => Number(this.#get(sql)?.n ?? 0);
    return {
      patterns: n("SELECT COUNT(*) AS n FROM patterns"),
      versions: n("SELECT COUNT(*) AS n FROM file_versions"),
      files: n("SELECT COUNT(DISTINCT file_path) AS n FROM file_versions"),
      edges: n("SELECT COUNT(*) AS n FROM lineage_edges"),
      executions: n("SELECT COUNT(*) AS n FROM executions"),
      failedExecutions: n("SELECT COUNT(*) AS n FROM executions WHERE success = 0"),
      outbox: n("SELECT COUNT(*) AS n FROM outbox"),
      oldestOutboxAt: strOrNull(this.#get("SELECT MIN(created_at) AS t FROM outbox")?.t),
      deadLetters: n("SELECT COUNT(*) AS n FROM dead_letters"),
      delivered: n("SELECT COUNT(*) AS n FROM delivered"),
    };
  }

  /**
   * Moves this store's database aside as corrupt (see {@linkcode moveAsideCorrupt}) after damage
   * was found in it; returns the new name, or null when another process had moved it already.
   * Closes the connection first where that is safe.
   */
  moveAsideAsCorrupt(now: Date = new Date()): string | null {
    const aside = moveAsideCorrupt(this.path, this.#identity, now);
    this.close(); // after the move: the identity check keeps SQLite from touching the new files
    return aside;
  }

  /**
   * Closes the database — unless its file was moved aside meanwhile (found corrupt): SQLite's last
   * close deletes `<path>-wal` by name, which would now be the fresh store's WAL. Then the
   * connection is left to the process's exit.
   */
  close(): void {
    this.#statements.clear();
    if (!this.#db.isOpen) return;
    if (this.#identity !== null && !sameFile(fileIdentity(this.path), this.#identity)) return;
    this.#db.close();
  }
}

/** Options of {@linkcode openStore}. */
export interface OpenStoreOptions {
  /**
   * How long a statement waits for another process's lock, in ms. The CLI and the flusher wait
   * 10 s; a hook waits `store_wait_ms` and then spills to the journal instead.
   */
  busyTimeoutMs?: number;
  /** The data directory's scan, when the caller made it already (null: the directory is absent). */
  scan?: DataDirScan | null;
  /** Open for reading only (`status` in a read-only data directory): nothing created or migrated. */
  readOnly?: boolean;
  /** Clock for the name of a moved-aside database. */
  now?: () => Date;
  /** Told when a corrupt database was moved aside (the caller logs it). */
  onMovedAside?: (aside: string, reason: string) => void;
}

/** Meta key prefix under which a fresh store remembers the corrupt one it replaced. */
export const MOVED_ASIDE_META = "moved_aside:";

/**
 * Opens (and creates, readable by the user only) the store in `dataDir`, applying any pending
 * migration. The data directory is tightened to 0700 and the store's files to 0600 first, and a
 * database, WAL or shared-memory file that is a symbolic link is refused. A corrupt database
 * (garbage in its header, or damage met while opening) is moved aside — renamed
 * `patterns.db.corrupt-<time>` with its `-wal` and `-shm`, never deleted — and a fresh store
 * starts; the fresh store's meta says what was moved and why (`status` shows it). Every failure is
 * a {@linkcode StoreError} that says what failed, why and what to do.
 *
 * @example
 * ```ts
 * import { openStore } from "./store.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * store.schemaVersion(); // MIGRATIONS.length
 * store.close();
 * ```
 */
export function openStore(dataDir: string, options: OpenStoreOptions = {}): Store {
  const path = `${dataDir}/${DB_FILE}`;
  const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  let scan: DataDirScan | null;
  try {
    scan = options.scan !== undefined ? options.scan : scanDataDir(dataDir);
  } catch (error) {
    throw describeStoreFailure(error, path, busyTimeoutMs);
  }
  if (scan) refuseSymlinks(scan, dataDir);
  // The scan says whether the database exists, and its lstat is the identity (no stat, and no
  // thrown NotFound: a thrown error costs a hook a third of a millisecond).
  const opening: Opening = {
    dataDir,
    path,
    exists: scan ? scan.entries.has(DB_FILE) : fileExists(path),
    identity: scan?.files.get(DB_FILE) ?? null,
  };
  try {
    return openDatabase(opening, options, busyTimeoutMs);
  } catch (error) {
    // Kept out of the function above: a hook compiles only the code it runs.
    return reopenAfterFailure(error, opening, options, busyTimeoutMs);
  }
}

/** What {@linkcode openDatabase} opens, and the identity of the file it opened. */
interface Opening {
  dataDir: string;
  path: string;
  exists: boolean;
  identity: FileIdentity | null;
}

function refuseSymlinks(scan: DataDirScan, dataDir: string): void {
  const links = symlinksAmong(scan, [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]);
  if (links.length > 0) {
    throw new StoreError(
      "symlink",
      `store ${dataDir}/${
        links[0]
      }: is a symbolic link, and the store refuses to follow it (it could write outside ${dataDir}); replace it with the real file or remove it`,
    );
  }
}

/** Opens, configures and migrates the database; the first query finds garbage in its header. */
function openDatabase(o: Opening, options: OpenStoreOptions, busyTimeoutMs: number): Store {
  if (!o.exists && !options.readOnly) createEmptyDatabase(o.dataDir, o.path);
  if (!o.exists || o.identity === null) o.identity = fileIdentity(o.path);
  const db = new DatabaseSync(o.path, { readOnly: options.readOnly === true });
  const store = new Store(db, o.path, o.identity);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    // NORMAL does not fsync each commit in WAL mode (a power loss can lose the last commits, a
    // killed process cannot). No foreign-key checks on the hot path: the one writer inserts each
    // pattern before the versions that use it.
    if (!options.readOnly) db.exec("PRAGMA synchronous = NORMAL");
    // Reading the header is what finds garbage in it ("file is not a database").
    const version = store.schemaVersion();
    if (!options.readOnly) {
      // WAL lets readers and the one writer work at once. The mode is stored in the file, so it
      // is set once, with the schema, not on every open (that costs a hook a third of a ms).
      if (version < MIGRATIONS.length) db.exec("PRAGMA journal_mode = WAL");
      migrate(db, store);
    }
    return store;
  } catch (error) {
    store.close();
    throw error;
  }
}

/**
 * After a failed open: a corrupt database is moved aside and a fresh store opened (once); any
 * other failure is described.
 */
function reopenAfterFailure(
  error: unknown,
  o: Opening,
  options: OpenStoreOptions,
  busyTimeoutMs: number,
): Store {
  if (classifyStoreError(error) !== "corrupt" || options.readOnly) {
    throw describeStoreFailure(error, o.path, busyTimeoutMs);
  }
  const reason = String((error as Error)?.message ?? error);
  const at = (options.now ?? (() => new Date()))();
  let aside: string | null;
  try {
    aside = moveAsideCorrupt(o.path, o.identity, at);
  } catch (moveError) {
    throw new StoreError(
      "corrupt",
      `store ${o.path}: ${reason}, and it could not be moved aside (${
        (moveError as Error).message
      }); make ${o.dataDir} writable, then run any tracker.ts command`,
      { cause: error },
    );
  }
  // null: another process moved it aside already; this opens the fresh store it made.
  if (aside !== null) options.onMovedAside?.(aside, reason);
  let store: Store;
  try {
    store = openDatabase(
      { dataDir: o.dataDir, path: o.path, exists: fileExists(o.path), identity: null },
      options,
      busyTimeoutMs,
    );
  } catch (again) {
    throw describeStoreFailure(again, o.path, busyTimeoutMs);
  }
  if (aside !== null) noteMovedAside(store, aside, reason, at);
  return store;
}

/**
 * Notes in the fresh store which corrupt database it replaced, and why (best effort: `status`
 * also finds moved-aside files by their names).
 *
 * @example
 * ```ts
 * import { noteMovedAside } from "./store.ts";
 * // noteMovedAside(freshStore, "/d/patterns.db.corrupt-20261125T020927.034Z", "file is not a database", new Date());
 * ```
 */
export function noteMovedAside(store: Store, aside: string, reason: string, at: Date): void {
  try {
    const name = aside.slice(aside.lastIndexOf("/") + 1);
    store.setMeta(`${MOVED_ASIDE_META}${name}`, JSON.stringify({ at: at.toISOString(), reason }));
  } catch { /* the note is a courtesy; the moved file itself is the record */ }
}

function createEmptyDatabase(dataDir: string, path: string): void {
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // Create the file readable by the user only before SQLite opens it (an empty file is an empty
    // database); SQLite gives the -wal and -shm files the same mode.
    Deno.writeFileSync(path, new Uint8Array(), { createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

function fileExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function migrate(db: DatabaseSync, store: Store): void {
  if (store.schemaVersion() >= MIGRATIONS.length) return;
  store.immediate(() => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    for (let v = store.schemaVersion(); v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }
  });
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function toVersion(r: Row): FileVersion {
  return {
    filePath: String(r.file_path),
    version: Number(r.version),
    patternId: String(r.pattern_id),
    parentPatternId: strOrNull(r.parent_pattern_id),
    eventType: String(r.event_type),
    transformationType: strOrNull(r.transformation_type),
    toolName: String(r.tool_name),
    toolUseId: strOrNull(r.tool_use_id),
    sessionId: strOrNull(r.session_id),
    correlationId: String(r.correlation_id),
    reason: strOrNull(r.reason),
    createdAt: String(r.created_at),
  };
}

function toPattern(r: Row): PatternRow {
  return {
    patternId: String(r.pattern_id),
    language: String(r.language),
    lineCount: Number(r.line_count),
    byteSize: Number(r.byte_size),
    code: strOrNull(r.code),
    firstSeenAt: String(r.first_seen_at),
    codeOmitted: strOrNull(r.code_omitted),
    redactedSecrets: Number(r.redacted_secrets ?? 0),
  };
}

function toExecution(r: Row): ExecutionRow {
  return {
    toolUseId: String(r.tool_use_id),
    sessionId: strOrNull(r.session_id),
    toolName: String(r.tool_name),
    filePath: strOrNull(r.file_path),
    correlationId: String(r.correlation_id),
    startedAt: strOrNull(r.started_at),
    finishedAt: strOrNull(r.finished_at),
    durationMs: numOrNull(r.duration_ms),
    success: r.success === null || r.success === undefined ? null : r.success === 1,
    error: strOrNull(r.error),
    linesAdded: numOrNull(r.lines_added),
    linesRemoved: numOrNull(r.lines_removed),
    beforePatternId: strOrNull(r.before_pattern_id),
    patternId: strOrNull(r.pattern_id),
  };
}

function toOutbox(r: Row): OutboxRow {
  return {
    id: Number(r.id),
    patternId: String(r.pattern_id),
    patternVersion: String(r.pattern_version),
    parentPatternIds: JSON.parse(String(r.parent_pattern_ids)) as string[],
    body: String(r.body),
    createdAt: String(r.created_at),
    attempts: Number(r.attempts ?? 0),
    lastError: strOrNull(r.last_error),
  };
}
