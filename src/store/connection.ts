/**
 * The store's connection, and what every process that opens the store does with it: statements
 * (prepared once per connection), `BEGIN IMMEDIATE` transactions, the WAL's upkeep, status values,
 * moving a corrupt database aside and closing — and the queries both hooks make: tool calls
 * (intents and executions), a file's newest version, and the spill journal's replay marks.
 *
 * The pre hook loads this and nothing more of the store; the post hook adds `recording.ts`; the
 * CLI, the flusher and the library use `Store` (`store.ts`), which has every query.
 *
 * @module
 */

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { type FileIdentity, fileIdentity, moveAsideCorrupt, sameFile } from "./failure.ts";
import {
  type ExecutionRow,
  type FileVersion,
  type JournalReplay,
  type Row,
  toExecution,
  toVersion,
} from "./rows.ts";

/**
 * An open store's connection with the queries both hooks make. Open with `openStore` (the whole
 * store) or `openStoreAs` (`open.ts`); close when done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "./store.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * assert.equal(store.latestVersion("/p/a.py"), undefined);
 * store.close();
 * ```
 */
export class StoreConnection {
  /** The database; the layers above query it through the helpers below. */
  protected readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The file opened: if the path names another file at close, ours was moved aside. */
  readonly #identity: FileIdentity | null;
  /** Path of the database file. */
  readonly path: string;

  constructor(db: DatabaseSync, path: string, identity: FileIdentity | null = fileIdentity(path)) {
    this.db = db;
    this.path = path;
    this.#identity = identity;
  }

  /** A statement, prepared once per connection. */
  protected stmt(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** The first row of a query, or undefined. */
  protected row(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  /** Every row of a query. */
  protected rows(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }

  /** Runs a statement; returns how many rows it changed. */
  protected run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before the first read, so
   * a read-then-write cannot be overtaken by another process. Rolls back if `fn` throws.
   */
  immediate<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      try {
        this.db.exec("ROLLBACK");
      } catch { /* the transaction is already gone */ }
      throw error;
    }
  }

  /**
   * Runs `fn` inside a savepoint of the current transaction: if it throws, what it wrote is undone
   * and the error goes on, while the transaction around it stays usable.
   */
  savepoint<T>(fn: () => T): T {
    this.db.exec("SAVEPOINT one_record");
    try {
      const result = fn();
      this.db.exec("RELEASE one_record");
      return result;
    } catch (error) {
      try {
        this.db.exec("ROLLBACK TO one_record");
        this.db.exec("RELEASE one_record");
      } catch { /* the transaction itself is gone; the caller's rollback handles it */ }
      throw error;
    }
  }

  /** Schema version (number of migrations applied). */
  schemaVersion(): number {
    return Number(this.row("PRAGMA user_version")?.user_version ?? 0);
  }

  /**
   * Checkpoints the WAL into the database and truncates it, if no other connection is using it
   * right now (never waits: another process busy means "next time"); returns whether it did.
   * Hooks call it when the WAL has grown: a process that opens the store alone rebuilds its index
   * of the WAL by reading every frame, so a hook's cost grows with the WAL, and the WAL of
   * processes that never close (hooks) is otherwise never reset.
   */
  truncateWal(busyTimeoutMs: number): boolean {
    this.db.exec("PRAGMA busy_timeout = 0");
    try {
      const r = this.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as Row | undefined;
      return Number(r?.busy ?? 1) === 0;
    } catch {
      return false;
    } finally {
      this.db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    }
  }

  /** Newest version of a file, or undefined. */
  latestVersion(filePath: string): FileVersion | undefined {
    const r = this.row(
      "SELECT * FROM file_versions WHERE file_path = ? ORDER BY version DESC LIMIT 1",
      filePath,
    );
    return r && toVersion(r);
  }

  /**
   * The newest execution of a tool call, identified by (session, `tool_use_id`), or undefined.
   * The same ID in another session is another call.
   */
  execution(sessionId: string | null, toolUseId: string): ExecutionRow | undefined {
    const r = this.#latestCall(sessionId, toolUseId);
    return r && toExecution(r);
  }

  #latestCall(sessionId: string | null, toolUseId: string): Row | undefined {
    return this.row(
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
    return this.run(
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
    this.run(
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

  /** True when the spill-journal entry was already applied (by this or another process). */
  journalApplied(entryId: string): boolean {
    return this.row("SELECT 1 AS x FROM journal_replays WHERE entry_id = ?", entryId) !==
      undefined;
  }

  /** Remembers a spill-journal entry as applied, in the transaction that applied it. */
  markJournalApplied(r: JournalReplay): void {
    this.run(
      `INSERT INTO journal_replays (entry_id, spilled_at, reason, place, replayed_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      r.entryId,
      r.spilledAt,
      r.reason,
      r.place,
      r.replayedAt,
    );
  }

  /** A status value, or undefined. */
  meta(key: string): string | undefined {
    const r = this.row("SELECT value FROM meta WHERE key = ?", key);
    return r ? String(r.value) : undefined;
  }

  /** Sets a status value (last error, last success, breaker state…). */
  setMeta(key: string, value: string): void {
    this.run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
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
    if (!this.db.isOpen) return;
    if (this.#identity !== null && !sameFile(fileIdentity(this.path), this.#identity)) return;
    this.db.close();
  }
}
