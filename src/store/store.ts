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
 * outbox as recording writes them (`recording.ts`, the post hook), delivery's queries of the
 * outbox (`outbox.ts`), upkeep (`maintenance.ts`), and here the rest — history, import and
 * recovery, the views' `selectRows`, `status` counts — with `openStore`. The schema's migrations
 * are in `schema.ts`.
 *
 * @module
 */

import type { SQLInputValue } from "node:sqlite";
import { isSnapshot } from "./code_storage.ts";
import { openStoreAs, type OpenStoreOptions, type StoreKind } from "./open.ts";
import {
  type CodeRow,
  type LineageEdgeRow,
  PATTERN_WITH_CODE,
  type PatternRow,
  toCodeRow,
  toPattern,
} from "./pattern_rows.ts";
import {
  type ExecutionRow,
  type FileVersion,
  numOrNull,
  strOrNull,
  toExecution,
  toVersion,
} from "./rows.ts";
import { MaintainedStore } from "./maintenance.ts";
import { MIGRATIONS } from "./schema.ts";

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
 * import assert from "node:assert/strict";
 * const store = openStore(Deno.makeTempDirSync());
 * assert.equal(store.counts().patterns, 0);
 * store.close();
 * ```
 */
export class Store extends MaintainedStore {
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

  // ---- read-only queries of the views (src/views/queries.ts; never on the hooks' path) --------

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

  /**
   * Runs one `INSERT` or `UPDATE` of a module that keeps its SQL out of this one (the requests and
   * classifications of src/store/prompts.ts); returns the rows changed and the last row ID.
   */
  writeRows(sql: string, ...params: SQLInputValue[]): { changes: number; lastRowId: number } {
    if (!/^\s*(?:INSERT|UPDATE)\b/i.test(sql)) {
      throw new Error(`writeRows runs INSERT and UPDATE statements only, not: ${sql.slice(0, 40)}`);
    }
    const r = this.stmt(sql).run(...params);
    return { changes: Number(r.changes), lastRowId: Number(r.lastInsertRowid) };
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
 * import assert from "node:assert/strict";
 * import { MIGRATIONS } from "./schema.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * assert.equal(store.schemaVersion(), MIGRATIONS.length);
 * store.close();
 * ```
 */
export function openStore(dataDir: string, options: OpenStoreOptions = {}): Store {
  return openStoreAs(STORE, dataDir, options);
}
