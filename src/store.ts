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
import {
  type CodeFormat,
  encodeCode,
  isCompressed,
  isSnapshot,
  MAX_CHAIN,
  MIN_PATCH_TEXT,
  parseCodeFormat,
  patchOf,
  snapshotCode,
  snapshotText,
  storableText,
  type StoredCode,
} from "./code_storage.ts";
import { type DataDirScan, scanDataDir, symlinksAmong } from "./data_dir.ts";
import { applyLinePatches, type LinePatchError } from "./line_patch.ts";
import { normalizeLineEndings } from "./pattern.ts";
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
  // text (src/code_storage.ts), in a rowid table (a WITHOUT ROWID table spills any row over ~1 KB
  // to overflow pages, wasting most of a page per version). Rows written before keep their text in
  // `patterns.code`, read as snapshots; maintenance converts them later (src/code_maintenance.ts).
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
  // 6: requests (src/prompt_store.ts) — what each prompt's words say (the intent label and the
  // intent model's four scores), its text (redacted) only with store_prompts — and which versions
  // the classifier has typed (file_versions.transformation_type then holds its answer), from what.
  // Versions recorded before keep the diff-shape guess they were recorded, maybe delivered, with.
  // Needs only v1's file_versions; no other migration touches these tables.
  `CREATE TABLE prompts (
     id INTEGER PRIMARY KEY,
     session_key TEXT NOT NULL,
     session_id TEXT,
     prompt_id TEXT,
     submitted_at TEXT NOT NULL,
     intent_label TEXT,
     intent_scores TEXT,
     intent_model TEXT,
     prompt_text TEXT,
     redacted_secrets INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX prompts_session ON prompts(session_key, submitted_at);
   CREATE TABLE version_classifications (
     version_id INTEGER PRIMARY KEY,
     pattern_id TEXT NOT NULL,
     basis TEXT NOT NULL,
     prompt_row INTEGER,
     classified_at TEXT NOT NULL
   );
   INSERT INTO version_classifications (version_id, pattern_id, basis, prompt_row, classified_at)
     SELECT id, pattern_id, 'recorded', NULL, created_at FROM file_versions;`,
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
  /** Lines added by the change that made this version (against its parent), when known. */
  changeLinesAdded?: number | null;
  /** Lines removed by that change, when known. */
  changeLinesRemoved?: number | null;
  /** Duration of the tool call that made this version, when known. */
  changeDurationMs?: number | null;
}

/** A stored pattern. */
export interface PatternRow {
  patternId: string;
  language: string;
  lineCount: number;
  byteSize: number;
  code: string | null;
  firstSeenAt: string;
  /**
   * Why `code` is null: "store_code_off", "too_large", "pruned", or "unreadable" (lost to damage,
   * found by `recover`).
   */
  codeOmitted?: string | null;
  /** Secrets replaced in `code`. */
  redactedSecrets?: number;
}

/**
 * A pattern to insert, with the pattern it was made from when there is one: the store then keeps
 * the code as a line patch against that pattern's stored text instead of a full copy.
 */
export interface NewPatternRow extends PatternRow {
  parent?: PatternParent | null;
}

/** The pattern a new one was made from (its lineage parent), for storing the code as a patch. */
export interface PatternParent {
  patternId: string;
  /**
   * The parent's content as the payload carried it (any line endings, unredacted), whose pattern
   * ID is `patternId`; null or absent when unknown. With it the store need not read the parent's
   * code back (the hook's path); without it, or when the parent's stored text had secrets
   * redacted, the store reads the parent's stored text itself.
   */
  content?: string | null;
}

/** How one pattern's code is kept, for maintenance and prune. */
export interface CodeRow {
  patternId: string;
  /** Null when no code is kept (`codeOmitted` says why). */
  stored: StoredCode | null;
  /** The text sits in the `code` column of a row written before schema v3 (a snapshot). */
  legacy: boolean;
  codeOmitted: string | null;
  redactedSecrets: number;
  byteSize: number;
  firstSeenAt: string;
}

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

/** Thrown when a pattern's stored code cannot be read back (a damaged or foreign store). */
export class StoredCodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoredCodeError";
  }
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
  /** Versions queued for delivery. */
  outbox: number;
  oldestOutboxAt: string | null;
  /** Dead letters, all servers. */
  deadLetters: number;
  /** Acknowledgements (a version acknowledged by two servers counts twice). */
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

  /**
   * Inserts a pattern unless its ID is already stored; returns true when inserted. The code is kept
   * as a line patch against `parent`'s stored text when that is smaller, else as a snapshot (see
   * `src/code_storage.ts`). A stored pattern without code (omitted, or pruned) gets this code back.
   */
  insertPattern(p: NewPatternRow): boolean {
    // Insert first: a new pattern (the hook's common case) then costs no lookup.
    const inserted = this.#run(
      `INSERT INTO patterns (pattern_id, language, line_count, byte_size, code, first_seen_at, code_omitted, redacted_secrets)
       VALUES (?, ?, ?, ?, NULL, ?, ?, ?) ON CONFLICT (pattern_id) DO NOTHING`,
      p.patternId,
      p.language,
      p.lineCount,
      p.byteSize,
      p.firstSeenAt,
      p.code === null ? p.codeOmitted ?? null : null,
      p.redactedSecrets ?? 0,
    ) > 0;
    if (p.code === null) return inserted;
    if (inserted) {
      this.#putCode(p.patternId, this.#encodeNewCode(storableText(p.code), p.parent));
      return true;
    }
    const existing = this.#get(
      `SELECT p.code IS NOT NULL OR c.pattern_id IS NOT NULL AS has_code
       FROM patterns p LEFT JOIN pattern_code c ON c.pattern_id = p.pattern_id WHERE p.pattern_id = ?`,
      p.patternId,
    );
    if (existing?.has_code !== 0) return false;
    // A stored pattern without code (omitted, or pruned): nothing depends on it, so any base and
    // depth is safe.
    this.#writeCode(p.patternId, this.#encodeNewCode(storableText(p.code), p.parent), null);
    this.#run(
      "UPDATE patterns SET redacted_secrets = ? WHERE pattern_id = ?",
      p.redactedSecrets ?? 0,
      p.patternId,
    );
    return false;
  }

  /** A stored pattern with its code read back, or undefined. */
  pattern(patternId: string): PatternRow | undefined {
    const r = this.#get(`${PATTERN_WITH_CODE} WHERE p.pattern_id = ?`, patternId);
    return r && { ...toPattern(r), code: this.#fullText(toCodeRow(r)) };
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

  /**
   * Appends a version to its file's chain and returns its row ID (`file_versions.id`, what the
   * outbox refers to). The caller picks `version` inside a transaction.
   */
  insertVersion(v: FileVersion): number {
    return Number(this.#insertVersion(v, "").lastInsertRowid);
  }

  /**
   * Inserts a version unless that file already has one with this number; returns its row ID when
   * inserted, else null.
   */
  insertVersionIfAbsent(v: FileVersion): number | null {
    const r = this.#insertVersion(v, "ON CONFLICT (file_path, version) DO NOTHING");
    return Number(r.changes) > 0 ? Number(r.lastInsertRowid) : null;
  }

  #insertVersion(v: FileVersion, onConflict: string) {
    return this.#stmt(
      `INSERT INTO file_versions (file_path, version, pattern_id, parent_pattern_id, event_type,
         transformation_type, tool_name, tool_use_id, session_id, correlation_id, reason, created_at,
         change_lines_added, change_lines_removed, change_duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${onConflict}`,
    ).run(
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
      v.changeLinesAdded ?? null,
      v.changeLinesRemoved ?? null,
      v.changeDurationMs ?? null,
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

  /**
   * Deletes one version of a file, with its outbox entry and delivery marks (recovery drops a
   * bridge that the salvaged history replaces; the replacement is queued in doubt).
   */
  deleteVersion(filePath: string, version: number): void {
    const id = this.versionId(filePath, version);
    if (id === undefined) return;
    for (const table of ["outbox", "delivered", "dead_letters"]) {
      this.#run(`DELETE FROM ${table} WHERE version_id = ?`, id);
    }
    this.#run("DELETE FROM file_versions WHERE id = ?", id);
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

  /** Every pattern with its code, in ID order (for export). Each text is rebuilt once. */
  allPatterns(): PatternRow[] {
    const rows = this.#all(`${PATTERN_WITH_CODE} ORDER BY p.pattern_id`);
    const texts = new Map<string, string>();
    const byId = new Map(rows.map((r) => [String(r.pattern_id), toCodeRow(r)]));
    const textOf = (row: CodeRow): string | null => {
      const known = texts.get(row.patternId);
      if (known !== undefined) return known;
      const stored = row.stored;
      let text: string | null;
      if (stored === null) text = null;
      else if (isSnapshot(stored.format) || stored.base === null) {
        text = this.#fullText(row);
      } else {
        const base = byId.get(stored.base);
        // The recursion follows strictly decreasing depths (checked), so it ends within MAX_CHAIN.
        if (!base?.stored || base.stored.depth >= stored.depth) text = this.#fullText(row);
        else text = this.#patched(textOf(base) as string, [row]);
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

  /**
   * Queues a file version for delivery: a reference, not a copy (the request is assembled when it
   * is sent). Queuing a version twice keeps one entry. `inDoubt`: the server may already hold it
   * (an import of another store's history), so the flusher asks before sending.
   */
  enqueueVersion(versionId: number, at: string, options: { inDoubt?: boolean } = {}): void {
    this.#run(
      "INSERT INTO outbox (version_id, queued_at, in_doubt) VALUES (?, ?, ?) ON CONFLICT (version_id) DO NOTHING",
      versionId,
      at,
      options.inDoubt ? 1 : 0,
    );
  }

  /** The row ID of a file's version, or undefined. */
  versionId(filePath: string, version: number): number | undefined {
    const r = this.#get(
      "SELECT id FROM file_versions WHERE file_path = ? AND version = ?",
      filePath,
      version,
    );
    return r ? Number(r.id) : undefined;
  }

  /** A version by row ID, or undefined. */
  versionById(versionId: number): FileVersion | undefined {
    const r = this.#get("SELECT * FROM file_versions WHERE id = ?", versionId);
    return r && toVersion(r);
  }

  /** Queued versions, oldest entry first, with their parent's standing with `server`. */
  queuedVersions(server: string, limit: number): QueuedVersion[] {
    return this.#all(
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
    return this.#get(
      `SELECT 1 AS x FROM file_versions v WHERE v.pattern_id = ? AND (
         EXISTS (SELECT 1 FROM outbox o WHERE o.version_id = v.id)
         OR EXISTS (SELECT 1 FROM delivered d WHERE d.version_id = v.id)
         OR EXISTS (SELECT 1 FROM dead_letters x WHERE x.version_id = v.id)) LIMIT 1`,
      patternId,
    ) !== undefined;
  }

  /** Where one version stands with `server`: queued, acknowledged, refused, or none of these. */
  versionStanding(server: string, versionId: number): "queued" | "delivered" | "dead" | "none" {
    const r = this.#get(
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
    return this.#run(
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
    return this.#run(
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
    return Number(this.#get("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")?.seq ?? 0);
  }

  /**
   * Marks queued versions as sent, before the request goes out: until an answer says otherwise
   * they are in doubt (a crash or a lost answer leaves them so, and the next flush asks the server).
   */
  markSent(queueIds: readonly number[], at: string): void {
    this.#run(
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
    this.#run(
      `INSERT INTO delivered (server, version_id, delivered_at)
       SELECT ?, o.version_id, ? FROM json_each(?) j JOIN outbox o ON o.id = j.value
       ORDER BY j.key ON CONFLICT DO NOTHING`,
      server,
      at,
      ids,
    );
    this.#run("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))", ids);
  }

  /**
   * Counts a failed attempt on versions that stay queued. `inDoubt`: whether the server may have
   * stored them anyway (no answer, or an answer that does not say).
   */
  markFailed(queueIds: readonly number[], error: string, inDoubt: boolean): void {
    this.#run(
      `UPDATE outbox SET attempts = attempts + 1, last_error = ?, in_doubt = ?
       WHERE id IN (SELECT value FROM json_each(?))`,
      error,
      inDoubt ? 1 : 0,
      JSON.stringify(queueIds),
    );
  }

  /** The server was asked and does not hold these versions: they may be sent. */
  clearDoubt(queueIds: readonly number[]): void {
    this.#run(
      "UPDATE outbox SET in_doubt = 0 WHERE id IN (SELECT value FROM json_each(?))",
      JSON.stringify(queueIds),
    );
  }

  /** Versions by row ID, in the order asked (missing ones left out). */
  versionsById(versionIds: readonly number[]): FileVersion[] {
    const byId = new Map(
      this.#all(
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
    this.#run(
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
    this.#run("DELETE FROM outbox WHERE id = ?", queueId);
  }

  /** Dead letters of a server (all servers when omitted), oldest first. */
  deadLetters(server?: string, limit = 1000): DeadLetter[] {
    return this.#all(
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
      this.#run(
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
      this.#run("UPDATE OR IGNORE delivered SET server = ? WHERE server = ''", server);
      this.#run("UPDATE OR IGNORE dead_letters SET server = ? WHERE server = ''", server);
      return { queued: 0, switched: false };
    }
    this.#run("UPDATE outbox SET in_doubt = 1");
    const queued = this.#run(
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
    const ids = this.#all(
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
      this.#run("DELETE FROM delivered WHERE server = ? AND version_id = ?", server, id);
      this.enqueueVersion(id, at, { inDoubt: true });
    }
    return ids.length;
  }

  /** Outbox depth for `status`: queued, of which in doubt, and the oldest entry's time. */
  outboxCounts(): { queued: number; inDoubt: number; oldestQueuedAt: string | null } {
    const r = this.#get(
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
    return this.#all(
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
    return Number(this.#get("SELECT COUNT(*) AS n FROM legacy_events")?.n ?? 0);
  }

  // ---- pattern code: snapshots and line patches (src/code_storage.ts) ---------------------------

  /** Recently read texts, keyed by pattern ID, with the row they were read from. */
  readonly #texts = new Map<string, { text: string; fingerprint: string }>();

  /** How one pattern's code is kept, or undefined when the pattern is not stored. */
  codeRow(patternId: string): CodeRow | undefined {
    const r = this.#get(`${PATTERN_WITH_CODE} WHERE p.pattern_id = ?`, patternId);
    return r && toCodeRow(r);
  }

  /**
   * A pattern's stored text: null when no code is kept, undefined when the pattern is not stored.
   * Throws {@linkcode StoredCodeError} when the stored code cannot be read back.
   */
  code(patternId: string): string | null | undefined {
    const row = this.codeRow(patternId);
    return row && this.#fullText(row);
  }

  /** Rewrites how a pattern's code is kept (its text stays the same): compression, re-snapshots. */
  setStoredCode(patternId: string, stored: StoredCode): void {
    this.#writeCode(patternId, stored, null);
  }

  /** Drops a pattern's code, keeping its hash, sizes and lineage; `reason` becomes `codeOmitted`. */
  dropCode(patternId: string, reason: string): void {
    this.#writeCode(patternId, null, reason);
  }

  /** Patterns whose code is a patch against `patternId`'s stored text. */
  patchDependents(patternId: string): string[] {
    return this.#all("SELECT pattern_id FROM pattern_code WHERE base = ?", patternId).map((r) =>
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
      this.#all(
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
    return this.#all(
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
      this.#get(
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
    return this.#all(
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
      this.#all(
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
    const stored = this.#get(
      `SELECT COUNT(*) AS n, COALESCE(SUM(c.format IN ('text', 'text+deflate')), 0) AS snapshots,
         COALESCE(SUM(c.format LIKE '%+deflate'), 0) AS compressed,
         COALESCE(SUM(length(c.data)), 0) AS bytes, COALESCE(SUM(p.byte_size), 0) AS text_bytes
       FROM pattern_code c JOIN patterns p ON p.pattern_id = c.pattern_id`,
    ) ?? {};
    const legacy = this.#get(
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
      Number(Object.values(this.#get(`PRAGMA ${name}`) ?? {})[0] ?? 0);
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
      this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return { method: "incremental" };
    }
    try {
      this.#db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      this.#db.exec("VACUUM");
    } catch (error) {
      return { method: "unavailable", reason: (error as Error).message };
    }
    // In WAL mode the rebuilt file first lands in the log: move it into the database file now.
    this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return { method: "vacuum" };
  }

  /** True when the store returns free pages in small steps (incremental auto-vacuum). */
  shrinksIncrementally(): boolean {
    return Number(this.#get("PRAGMA auto_vacuum")?.auto_vacuum ?? 0) === 2;
  }

  /**
   * Returns up to `pages` free pages (0: all) to the file system when the store uses incremental
   * auto-vacuum; a short write. Returns whether the store can.
   */
  releaseFreePages(pages: number): boolean {
    if (!this.shrinksIncrementally()) return false;
    this.#all(`PRAGMA incremental_vacuum(${Math.max(0, Math.floor(pages))})`);
    return true;
  }

  #writeCode(patternId: string, stored: StoredCode | null, omitted: string | null): void {
    this.#texts.delete(patternId);
    // Delete and insert anew rather than update in place: the new row goes to the end of the
    // table, and the pages the old rows leave behind empty out and become free pages, which
    // incremental vacuum returns to the file system. Updated in place, a row made smaller leaves
    // its page mostly empty, and only a full VACUUM (not allowed here) would reclaim that.
    this.#run("DELETE FROM pattern_code WHERE pattern_id = ?", patternId);
    if (stored !== null) this.#putCode(patternId, stored);
    this.#run(
      `UPDATE patterns SET code = NULL, code_omitted = ?
       WHERE pattern_id = ? AND (code IS NOT NULL OR code_omitted IS NOT ?)`,
      omitted,
      patternId,
      omitted,
    );
  }

  #putCode(patternId: string, stored: StoredCode): void {
    this.#run(
      `INSERT INTO pattern_code (pattern_id, format, base, depth, chain_bytes, length, data)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pattern_id) DO UPDATE SET format = excluded.format, base = excluded.base,
         depth = excluded.depth, chain_bytes = excluded.chain_bytes, length = excluded.length,
         data = excluded.data`,
      patternId,
      stored.format,
      stored.base,
      stored.depth,
      stored.chainBytes,
      stored.textLength,
      stored.data,
    );
  }

  /**
   * How to store a new pattern's text: a patch against the parent's stored text when the parent
   * keeps code and the text is not small (MIN_PATCH_TEXT), else a snapshot. The parent's text comes from the payload when it is the stored
   * text (no secrets were redacted from it; its size agrees), else from the store — but never by
   * decompressing (that would load node:zlib on the hook's path): then a snapshot is written.
   */
  #encodeNewCode(text: string, parent: PatternParent | null | undefined): StoredCode {
    if (!parent || text.length < MIN_PATCH_TEXT) return snapshotCode(text);
    // The parent's chain, without its data (a snapshot may be large).
    const meta = this.#get(
      `SELECT p.redacted_secrets, p.byte_size, p.code IS NOT NULL AS legacy, c.depth, c.chain_bytes, c.length
       FROM patterns p LEFT JOIN pattern_code c ON c.pattern_id = p.pattern_id WHERE p.pattern_id = ?`,
      parent.patternId,
    );
    const legacy = meta?.legacy === 1;
    if (!meta || (!legacy && meta.depth === null)) return snapshotCode(text); // no code kept
    const depth = Number(meta.depth ?? 0);
    if (depth >= MAX_CHAIN) return snapshotCode(text);
    let baseText: string | null | undefined;
    if (typeof parent.content === "string" && Number(meta.redacted_secrets) === 0) {
      const candidate = storableText(normalizeLineEndings(parent.content));
      // The stored text is the content as the recording core stores it; its length confirms it.
      const fits = legacy
        ? new TextEncoder().encode(candidate).length === Number(meta.byte_size)
        : candidate.length === Number(meta.length);
      if (fits) baseText = candidate;
    }
    baseText ??= this.#readCode(this.codeRow(parent.patternId) as CodeRow, "uncompressed");
    if (typeof baseText !== "string") return snapshotCode(text);
    return encodeCode(text, {
      patternId: parent.patternId,
      text: baseText,
      depth,
      chainBytes: Number(meta.chain_bytes ?? 0),
    });
  }

  /**
   * Reads a row's text: its snapshot, or its chain of patches applied to the snapshot they start
   * from. "uncompressed" answers undefined instead of decompressing. Every step must go to a base
   * that keeps code and has a smaller depth, so the walk ends; otherwise StoredCodeError.
   */
  #readCode(row: CodeRow, mode: "any" | "uncompressed"): string | null | undefined {
    if (row.stored === null) return null;
    const chain: CodeRow[] = [];
    let current = row;
    let text: string | undefined;
    for (;;) {
      const stored = current.stored as StoredCode;
      const cached = this.#texts.get(current.patternId);
      if (cached && cached.fingerprint === fingerprint(stored)) {
        text = cached.text;
        break;
      }
      if (mode === "uncompressed" && isCompressed(stored.format)) return undefined;
      if (isSnapshot(stored.format)) {
        try {
          text = current.legacy
            ? new TextDecoder().decode(stored.data)
            : snapshotText(stored.format, stored.data);
        } catch (error) {
          throw new StoredCodeError(
            `pattern ${current.patternId}'s snapshot cannot be read: ${(error as Error).message}`,
          );
        }
        if (!current.legacy && text.length !== stored.textLength) {
          throw new StoredCodeError(
            `pattern ${current.patternId}'s snapshot reads back as ${text.length} characters, not ${stored.textLength} (the store is damaged)`,
          );
        }
        break;
      }
      chain.push(current);
      const base = stored.base === null ? undefined : this.codeRow(stored.base);
      if (!base?.stored) {
        throw new StoredCodeError(
          `pattern ${current.patternId}'s code is a patch against ${stored.base}, whose code is missing (the store is damaged; "tracker.ts export" keeps what is readable)`,
        );
      }
      if (base.stored.depth >= stored.depth) {
        throw new StoredCodeError(
          `pattern ${current.patternId}'s code is a patch against ${base.patternId}, which is not nearer a snapshot (depth ${base.stored.depth} ≥ ${stored.depth}); not following it`,
        );
      }
      current = base;
    }
    const result = this.#patched(text, chain.reverse());
    if (chain.length > 0) this.#remember(row.patternId, row.stored, result);
    return result;
  }

  #fullText(row: CodeRow): string | null {
    return this.#readCode(row, "any") as string | null;
  }

  /** Applies the patches of `rows` (oldest first) to `text`. */
  #patched(text: string, rows: readonly CodeRow[]): string {
    const patches = [];
    for (const r of rows) {
      const stored = r.stored as StoredCode;
      try {
        patches.push(patchOf(stored.format, stored.data));
      } catch (error) {
        throw new StoredCodeError(
          `pattern ${r.patternId}'s patch cannot be read: ${(error as Error).message}`,
        );
      }
    }
    try {
      return applyLinePatches(text, patches);
    } catch (error) {
      const r = rows[(error as LinePatchError).patchIndex ?? 0] as CodeRow;
      throw new StoredCodeError(
        `pattern ${r.patternId}'s patch does not apply to its base ${r.stored?.base}: ${
          (error as Error).message
        }`,
      );
    }
  }

  #remember(patternId: string, stored: StoredCode, text: string): void {
    this.#texts.delete(patternId);
    this.#texts.set(patternId, { text, fingerprint: fingerprint(stored) });
    // A few recent texts: reading a file's versions in order then applies one patch each.
    for (const key of this.#texts.keys()) {
      if (this.#texts.size <= 16) break;
      this.#texts.delete(key);
    }
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
      oldestOutboxAt: strOrNull(this.#get("SELECT MIN(queued_at) AS t FROM outbox")?.t),
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
    return this.#all(sql, ...params);
  }

  /**
   * Runs one `INSERT` or `UPDATE` of a module that keeps its SQL out of this one (the requests and
   * classifications of src/prompt_store.ts); returns the rows changed and the last row ID.
   */
  writeRows(sql: string, ...params: SQLInputValue[]): { changes: number; lastRowId: number } {
    if (!/^\s*(?:INSERT|UPDATE)\b/i.test(sql)) {
      throw new Error(`writeRows runs INSERT and UPDATE statements only, not: ${sql.slice(0, 40)}`);
    }
    const r = this.#stmt(sql).run(...params);
    return { changes: Number(r.changes), lastRowId: Number(r.lastInsertRowid) };
  }
}

/**
 * How long a command (the CLI, the flusher, the library) waits for another process's lock, in ms.
 * A hook waits `store_wait_ms` instead, then spills to the journal.
 */
export const COMMAND_BUSY_TIMEOUT_MS = 10_000;

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
  const busyTimeoutMs = options.busyTimeoutMs ?? COMMAND_BUSY_TIMEOUT_MS;
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
      // A new store returns free pages in small steps (src/code_maintenance.ts); this must be set
      // before the first table exists. (VACUUM, the only other way, is refused by node:sqlite in
      // Deno without --allow-all: it attaches a temporary database.)
      if (version === 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
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

/** A pattern's row with its stored code (columns `code_*`), from `pattern_code` when it has one. */
const PATTERN_WITH_CODE =
  `SELECT p.*, c.format AS code_format, c.base AS code_base, c.depth AS code_depth,
     c.chain_bytes AS code_chain_bytes, c.length AS code_length, c.data AS code_data
   FROM patterns p LEFT JOIN pattern_code c ON c.pattern_id = p.pattern_id`;

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** A `file_versions` row as a version (also for `src/views_queries.ts`). */
export function toVersion(r: Row): FileVersion {
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
    changeLinesAdded: numOrNull(r.change_lines_added),
    changeLinesRemoved: numOrNull(r.change_lines_removed),
    changeDurationMs: numOrNull(r.change_duration_ms),
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

/**
 * A row with the columns of `PATTERN_WITH_CODE` (`patterns.*` and `code_*`) as a stored code row
 * (also for `src/views_queries.ts`).
 */
export function toCodeRow(r: Row): CodeRow {
  const base = {
    patternId: String(r.pattern_id),
    codeOmitted: strOrNull(r.code_omitted),
    redactedSecrets: Number(r.redacted_secrets ?? 0),
    byteSize: Number(r.byte_size ?? 0),
    firstSeenAt: String(r.first_seen_at),
  };
  if (r.code_format === null || r.code_format === undefined) {
    // Written before schema v3: the text, if any, is in `code`.
    if (r.code === null || r.code === undefined) return { ...base, stored: null, legacy: false };
    return { ...base, stored: snapshotCode(String(r.code)), legacy: true };
  }
  const format: CodeFormat | null = parseCodeFormat(r.code_format);
  if (format === null) {
    throw new StoredCodeError(
      `pattern ${base.patternId}'s code is stored as "${r.code_format}", which this version cannot read (a newer Pattern Tracker wrote it)`,
    );
  }
  return {
    ...base,
    legacy: false,
    stored: {
      format,
      data: r.code_data instanceof Uint8Array ? r.code_data : new Uint8Array(),
      base: strOrNull(r.code_base),
      depth: Number(r.code_depth ?? 0),
      chainBytes: Number(r.code_chain_bytes ?? 0),
      textLength: Number(r.code_length ?? 0),
    },
  };
}

/** Identifies one stored form of a row: a text read from it is reused only while it is unchanged. */
function fingerprint(stored: StoredCode): string {
  return `${stored.format}:${stored.base}:${stored.depth}:${stored.data.length}`;
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
