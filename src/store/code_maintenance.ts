/**
 * Keeping the store small after the fact, off the hook's path. Hooks write line patches and
 * uncompressed snapshots (no `node:zlib`); {@linkcode compactCode} later compresses the snapshots
 * that no file's newest version reads through, compresses large patches, and turns texts written
 * before schema v3, imported or small (see `MIN_PATCH_TEXT`) into patches or compressed snapshots.
 * {@linkcode maintainStore} is what the background flusher runs after a flush, at most every
 * {@linkcode MAINTENANCE_INTERVAL_MS}: the compaction, within a time budget, and retention when
 * `retention_days` is set.
 *
 * Each batch is its own short `BEGIN IMMEDIATE` transaction, so a hook waits for one batch at most.
 *
 * @module
 */

import {
  compressCode,
  encodeCode,
  isSnapshot,
  MAX_CHAIN,
  type StoredCode,
} from "./code_storage.ts";
import type { LogRecord } from "../log.ts";
import { prune, type PrunePlan, retentionCutoff } from "./retention.ts";
import type { CodeRow } from "./pattern_rows.ts";
import type { Store } from "./store.ts";

/** Snapshots smaller than this stay uncompressed (deflate saves little on them). */
export const MIN_COMPRESS_BYTES = 256;
/** Patches smaller than this stay uncompressed. */
export const MIN_COMPRESS_PATCH_BYTES = 1024;
/** The background flusher maintains the store at most this often. */
export const MAINTENANCE_INTERVAL_MS = 10 * 60_000;
/** Time one background maintenance may spend compacting. */
export const MAINTENANCE_BUDGET_MS = 250;
/** Patterns one background retention run drops at most (the rest waits for the next run). */
export const MAINTENANCE_PRUNE_LIMIT = 2000;

/** What a compaction did. */
export interface CompactReport {
  /** Rows rewritten. */
  rows: number;
  /** Their stored bytes before and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** False when the time budget ended it before every row was looked at. */
  done: boolean;
}

/**
 * Compacts stored code in batches (each a transaction) until every candidate was looked at or
 * `deadline` (a `now()` value) passed. Candidates come in the order their first versions were
 * recorded, so a parent is converted before its children (a child converted first would give the
 * parent a dependent, and keep it a snapshot); a run interrupted by its deadline is resumed by the
 * next one from where it stopped (kept in the store's meta).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { compactCode } from "./code_maintenance.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n".repeat(200), { filePath: "/p/a.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const report = compactCode(store);
 * assert.equal(report.done, true);
 * assert.ok(report.bytesAfter <= report.bytesBefore); // bytesBefore - bytesAfter bytes saved
 * store.close();
 * ```
 */
export function compactCode(
  store: Store,
  options: { deadline?: number; now?: () => number; batch?: number } = {},
): CompactReport {
  const now = options.now ?? performance.now.bind(performance);
  const batch = options.batch ?? 50;
  const report: CompactReport = { rows: 0, bytesBefore: 0, bytesAfter: 0, done: false };
  const saved = store.meta(COMPACTION_POSITION);
  const position = saved ? JSON.parse(saved) as [number, string] : null;
  const candidates = store.compactionCandidates(
    position,
    MIN_COMPRESS_BYTES,
    MIN_COMPRESS_PATCH_BYTES,
  );
  for (let i = 0; i < candidates.length; i += batch) {
    if (options.deadline !== undefined && now() > options.deadline) {
      store.setMeta(COMPACTION_POSITION, JSON.stringify(candidates[i - 1] ?? position));
      return report;
    }
    store.immediate(() => {
      const hot = store.hotCodeIds();
      for (const [, id] of candidates.slice(i, i + batch)) {
        const row = store.codeRow(id);
        const smaller = row ? compactRow(store, row, hot) : null;
        if (!row || smaller === null) continue;
        report.rows++;
        report.bytesBefore += row.stored?.data.length ?? 0;
        report.bytesAfter += smaller.data.length;
        store.setStoredCode(row.patternId, smaller);
      }
    });
  }
  // The next run starts over: rows skipped as hot may have cooled down since.
  store.setMeta(COMPACTION_POSITION, "");
  report.done = true;
  return report;
}

/** Meta key: the candidate the last, interrupted, compaction stopped after. */
const COMPACTION_POSITION = "compaction_position";

/** The new form of one row, or null to leave it. */
function compactRow(store: Store, row: CodeRow, hot: Set<string>): StoredCode | null {
  const stored = row.stored;
  // The newest versions read through these: they stay readable without node:zlib.
  if (stored === null || hot.has(row.patternId)) return null;
  // An uncompressed snapshot (a text from before v3, an imported one) becomes a patch against its
  // lineage parent when the chain rules allow. Only without dependents: a patch is deeper than a
  // snapshot, and a dependent's depth must stay greater than its base's.
  if (stored.format === "text" && store.patchDependents(row.patternId).length === 0) {
    const parentId = store.lineageParentOf(row.patternId);
    const parent = parentId === null ? undefined : store.codeRow(parentId);
    if (parent?.stored && parent.stored.depth < MAX_CHAIN) {
      const encoded = encodeCode(store.code(row.patternId) as string, {
        patternId: parent.patternId,
        text: store.code(parent.patternId) as string,
        depth: parent.stored.depth,
        chainBytes: parent.stored.chainBytes,
      });
      if (!isSnapshot(encoded.format)) return compressCode(encoded) ?? encoded;
    }
  }
  // A legacy row moves to the new columns even when compression does not pay.
  return compressCode(stored) ?? (row.legacy ? stored : null);
}

/** What one background maintenance did. */
export interface MaintenanceReport {
  compacted: CompactReport;
  /** Null when `retention_days` keeps everything. */
  pruned: PrunePlan | null;
  /** Free bytes returned to the file system (stores that use incremental auto-vacuum). */
  released: number;
}

/**
 * The background flusher's maintenance after a flush: at most every
 * {@linkcode MAINTENANCE_INTERVAL_MS} (null when it is not time yet), compaction within
 * {@linkcode MAINTENANCE_BUDGET_MS}, then retention of `retentionDays` (0 keeps everything), then
 * free pages back to the file system where the store allows it in small steps (stores created
 * since schema v3). Never a full VACUUM here: it would hold the write lock, and hooks, for as long
 * as it copies the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { maintainStore } from "./code_maintenance.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const report = maintainStore(store, { retentionDays: 90 }, { log: () => {} });
 * assert.equal(report?.compacted.done, true);
 * // Done at most once a day: the next call right after does nothing.
 * assert.equal(maintainStore(store, { retentionDays: 90 }, { log: () => {} }), null);
 * store.close();
 * ```
 */
export function maintainStore(
  store: Store,
  settings: { retentionDays: number },
  options: { now?: () => Date; log?: (record: LogRecord) => void } = {},
): MaintenanceReport | null {
  const now = options.now ?? (() => new Date());
  const last = Number(store.meta("maintenance_at") ?? 0);
  if (now().getTime() - last < MAINTENANCE_INTERVAL_MS) return null;
  store.setMeta("maintenance_at", String(now().getTime()));
  const compacted = compactCode(store, { deadline: performance.now() + MAINTENANCE_BUDGET_MS });
  const pruned = settings.retentionDays > 0
    ? prune(store, retentionCutoff(settings.retentionDays, now()), {
      limit: MAINTENANCE_PRUNE_LIMIT,
    })
    : null;
  const before = store.databaseSize().freeBytes;
  const released = before > 0 && store.releaseFreePages(1024)
    ? before - store.databaseSize().freeBytes
    : 0;
  const report = { compacted, pruned, released };
  options.log?.({
    level: "info",
    event: "store_maintenance",
    compacted_rows: compacted.rows,
    compacted_bytes_saved: compacted.bytesBefore - compacted.bytesAfter,
    compaction_done: compacted.done,
    pruned_patterns: pruned?.drop.length ?? 0,
    pruned_bytes: pruned?.freedBytes ?? 0,
    released_bytes: released,
  });
  return report;
}
