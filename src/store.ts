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
  /** Why `code` is null: "store_code_off" or "too_large". */
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
  /** Path of the database file. */
  readonly path: string;

  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.path = path;
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

  /** Schema version (number of migrations applied). */
  schemaVersion(): number {
    return Number(this.#get("PRAGMA user_version")?.user_version ?? 0);
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
       LEFT JOIN executions e ON e.tool_use_id = v.tool_use_id AND e.pattern_id = v.pattern_id
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

  /** An execution record, or undefined. */
  execution(toolUseId: string): ExecutionRow | undefined {
    const r = this.#get("SELECT * FROM executions WHERE tool_use_id = ?", toolUseId);
    return r && toExecution(r);
  }

  /** Records a PreToolUse intent; a second intent for the same tool call is ignored. */
  insertIntent(e: {
    toolUseId: string;
    sessionId: string | null;
    toolName: string;
    filePath: string;
    correlationId: string;
    startedAt: string;
    beforePatternId: string | null;
  }): boolean {
    return this.#run(
      `INSERT INTO executions (tool_use_id, session_id, tool_name, file_path, correlation_id, started_at, before_pattern_id)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tool_use_id) DO NOTHING`,
      e.toolUseId,
      e.sessionId,
      e.toolName,
      e.filePath,
      e.correlationId,
      e.startedAt,
      e.beforePatternId,
    ) > 0;
  }

  /** Writes the outcome of a tool call, keeping the intent's start time and correlation ID. */
  finishExecution(e: ExecutionRow): void {
    this.#run(
      `INSERT INTO executions (tool_use_id, session_id, tool_name, file_path, correlation_id, started_at,
         finished_at, duration_ms, success, error, lines_added, lines_removed, before_pattern_id, pattern_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tool_use_id) DO UPDATE SET
         finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
         success = excluded.success, error = excluded.error, lines_added = excluded.lines_added,
         lines_removed = excluded.lines_removed, pattern_id = excluded.pattern_id,
         before_pattern_id = COALESCE(excluded.before_pattern_id, executions.before_pattern_id),
         session_id = COALESCE(executions.session_id, excluded.session_id)`,
      e.toolUseId,
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

  /** Closes the database. */
  close(): void {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

/**
 * Opens (and creates, readable by the user only) the store in `dataDir`, applying any pending
 * migration.
 *
 * @example
 * ```ts
 * import { openStore } from "./store.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * store.schemaVersion(); // MIGRATIONS.length
 * store.close();
 * ```
 */
export function openStore(dataDir: string): Store {
  const path = `${dataDir}/${DB_FILE}`;
  // The database exists on every run but the first: one stat then, instead of a mkdir and a
  // create that throws AlreadyExists (a thrown error costs a hook a third of a millisecond).
  if (!fileExists(path)) {
    Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      // Create the file readable by the user only before SQLite opens it (an empty file is an
      // empty database); SQLite gives the -wal and -shm files the same mode.
      Deno.writeFileSync(path, new Uint8Array(), { createNew: true, mode: 0o600 });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  const db = new DatabaseSync(path);
  const store = new Store(db, path);
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    // NORMAL does not fsync each commit in WAL mode (a power loss can lose the last commits, a
    // killed process cannot). No foreign-key checks on the hot path: the one writer inserts each
    // pattern before the versions that use it.
    db.exec("PRAGMA synchronous = NORMAL");
    // WAL lets readers and the one writer work at once. The mode is stored in the file, so it is set
    // once, with the schema, not on every open (that costs a hook a third of a millisecond).
    if (store.schemaVersion() < MIGRATIONS.length) db.exec("PRAGMA journal_mode = WAL");
    migrate(db, store);
    return store;
  } catch (error) {
    store.close();
    throw error;
  }
}

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
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
