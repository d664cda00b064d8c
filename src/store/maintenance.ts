/**
 * The store's upkeep: its integrity check, the stored code as compaction and retention rewrite it
 * (`code_maintenance.ts`, `retention.ts`), and the file's size and free pages. A layer of the store
 * (`outbox.ts` below it, `store.ts` above).
 *
 * @module
 */

import type { StoredCode } from "./code_storage.ts";
import { type CodeRow, PATTERN_WITH_CODE, toCodeRow } from "./pattern_rows.ts";
import { type Row, strOrNull } from "./rows.ts";
import { OutboxStore } from "./outbox.ts";

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

/** The store as its upkeep uses it (see the module). */
export class MaintainedStore extends OutboxStore {
  /**
   * SQLite's `PRAGMA quick_check`: the problems found (at most `limit`), empty when the database
   * is sound. It reads every page, so it runs in the flusher and `status`, never in a hook.
   */
  quickCheck(limit = 20): string[] {
    const rows = this.db.prepare(`PRAGMA quick_check(${Math.max(1, Math.floor(limit))})`).all();
    const problems = rows.map((r) => String(Object.values(r as Row)[0]));
    return problems.length === 1 && problems[0] === "ok" ? [] : problems;
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
}
