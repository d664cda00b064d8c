/**
 * `prune [--older-than 90d] [--dry-run] [--json]`: drops the code of delivered versions older than
 * the limit (default: `retention_days`), compacts what is stored, and returns the free pages to the
 * file system (see `Store.shrink`).
 *
 * @module
 */

import { loadConfig } from "../config/mod.ts";
import { compactCode, type CompactReport } from "../store/code_maintenance.ts";
import { prune, type PrunePlan, retentionCutoff } from "../store/retention.ts";
import { openAndReplay } from "../record/spill.ts";
import { formatBytes } from "./status_render.ts";
import type { PruneRequest } from "./commands/prune.ts";
import { CliError, USAGE_EXIT } from "./errors.ts";

/** Free pages worth a full VACUUM: at least this much, and at least a tenth of the file. */
export const VACUUM_MIN_FREE_BYTES = 1024 * 1024;

/** Everything `prune` reports. */
export interface PruneReport {
  dry_run: boolean;
  older_than_days: number;
  cutoff: string;
  /** Patterns whose code is (or would be) dropped. */
  patterns: number;
  /** Dependents rewritten as snapshots so that no patch loses its base. */
  resnapshotted: number;
  /** Old enough, but not delivered yet: kept. */
  undelivered_kept: number;
  code_bytes_before: number;
  /** Stored code bytes the prune frees (exactly; the dry run predicts the real run). */
  freed_code_bytes: number;
  /** Null in a dry run. */
  compacted: CompactReport | null;
  database_bytes_before: number;
  database_bytes_after: number;
  /** How free pages went back to the file system, if at all (see `Store.shrink`). */
  shrink: "incremental" | "vacuum" | "unavailable" | "none";
  /** Free bytes left inside the file (reused by later writes). */
  free_bytes_after: number;
}

/**
 * Renders a prune report for people (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderPruneReport } from "./prune.ts";
 * const text = renderPruneReport({
 *   dry_run: true, older_than_days: 90, cutoff: "2026-08-27T00:00:00.000Z", patterns: 3,
 *   resnapshotted: 0, undelivered_kept: 1, code_bytes_before: 4096, freed_code_bytes: 2048,
 *   compacted: null, database_bytes_before: 65536, database_bytes_after: 65536, shrink: "none",
 *   free_bytes_after: 0,
 * });
 * assert.match(text, /3/);
 * assert.match(text, /2(\.0)? KB/);
 * ```
 */
export function renderPruneReport(r: PruneReport): string {
  const verb = r.dry_run ? "Would drop" : "Dropped";
  const lines = [
    `${verb} the code of ${r.patterns} pattern(s) recorded before ${r.cutoff} (${r.older_than_days} d; delivered, not a file's newest version): ${
      formatBytes(r.freed_code_bytes)
    } of ${formatBytes(r.code_bytes_before)} stored code${
      r.resnapshotted ? `, ${r.resnapshotted} later version(s) rewritten as snapshots first` : ""
    }.`,
    `Hashes, sizes, lineage and metrics stay.${
      r.undelivered_kept ? ` Kept ${r.undelivered_kept} old pattern(s) not delivered yet.` : ""
    }`,
  ];
  if (r.compacted && r.compacted.rows > 0) {
    lines.push(
      `Compacted ${r.compacted.rows} stored version(s): ${formatBytes(r.compacted.bytesBefore)} → ${
        formatBytes(r.compacted.bytesAfter)
      }.`,
    );
  }
  lines.push(
    r.dry_run
      ? `Database now ${formatBytes(r.database_bytes_before)}. Nothing was changed (--dry-run).`
      : `Database ${formatBytes(r.database_bytes_before)} → ${formatBytes(r.database_bytes_after)}${
        r.shrink === "incremental"
          ? " (free pages returned: incremental vacuum)"
          : r.shrink === "vacuum"
          ? " (VACUUM)"
          : ""
      }.`,
  );
  if (!r.dry_run && r.shrink === "unavailable") {
    lines.push(
      `${
        formatBytes(r.free_bytes_after)
      } stay free inside the file and are reused by later writes: this store predates incremental vacuum, and a full VACUUM needs Deno's --allow-all (node:sqlite attaches a temporary database). To rebuild it once (later prunes then shrink it without): deno run -A tracker.ts prune --older-than ${r.older_than_days}d`,
    );
  }
  return lines.join("\n");
}

/**
 * Runs `prune`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { pruneCommand } from "./prune.ts";
 * assert.equal(await pruneCommand({ days: 90, dryRun: true, json: true }), 0);
 * ```
 */
export async function pruneCommand(request: PruneRequest): Promise<number> {
  const { config } = await loadConfig();
  const days = request.days ?? config.retentionDays;
  if (days === 0) {
    throw new CliError(
      "retention_days is 0 (keep everything): say how old, e.g. tracker.ts prune --older-than 90d",
      USAGE_EXIT,
    );
  }
  const dryRun = request.dryRun;
  // Spilled records first (as every command that writes the store): a dry run then shows what
  // the real run will free.
  const { store } = openAndReplay(config);
  try {
    const before = store.databaseSize().fileBytes;
    const plan: PrunePlan = prune(store, retentionCutoff(days, new Date()), { dryRun });
    const compacted = dryRun ? null : compactCode(store);
    let shrink: PruneReport["shrink"] = "none";
    const size = store.databaseSize();
    // Returning pages in small steps is always worth it; a full VACUUM when it pays.
    const pays = size.freeBytes >= Math.max(VACUUM_MIN_FREE_BYTES, size.fileBytes / 10);
    if (!dryRun && size.freeBytes > 0 && (store.shrinksIncrementally() || pays)) {
      shrink = store.shrink().method;
    }
    const report: PruneReport = {
      dry_run: dryRun,
      older_than_days: days,
      cutoff: plan.cutoff,
      patterns: plan.drop.length,
      resnapshotted: plan.resnapshot.length,
      undelivered_kept: plan.undelivered,
      code_bytes_before: plan.codeBytesBefore,
      freed_code_bytes: plan.freedBytes,
      compacted,
      database_bytes_before: before,
      database_bytes_after: store.databaseSize().fileBytes,
      shrink,
      free_bytes_after: store.databaseSize().freeBytes,
    };
    console.log(request.json ? JSON.stringify(report, null, 2) : renderPruneReport(report));
    return 0;
  } finally {
    store.close();
  }
}
