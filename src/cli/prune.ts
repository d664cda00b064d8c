/**
 * `prune [--older-than 90d] [--dry-run] [--json]`: drops the code of delivered versions older than
 * the limit (default: `retention_days`), compacts what is stored, and returns the free pages to the
 * file system (see `Store.shrink`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { compactCode, type CompactReport } from "../store/code_maintenance.ts";
import { prune, type PrunePlan, retentionCutoff } from "../store/retention.ts";
import { openAndReplay } from "../record/spill.ts";
import { formatBytes } from "./status.ts";

/** Free pages worth a full VACUUM: at least this much, and at least a tenth of the file. */
export const VACUUM_MIN_FREE_BYTES = 1024 * 1024;

/** An age limit, or why the text is not one. */
export type AgeLimit = { ok: true; days: number } | { ok: false; reason: string };

/**
 * Reads an age limit: `90d`, `12w`, `36h`, or a bare number of days.
 *
 * @example
 * ```ts
 * import { parseAgeLimit } from "./prune.ts";
 * parseAgeLimit("2w"); // { ok: true, days: 14 }
 * parseAgeLimit("soon").ok; // false
 * ```
 */
export function parseAgeLimit(text: string): AgeLimit {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([dwh]?)\s*$/i.exec(text);
  if (!m) {
    return { ok: false, reason: `"${text}" is not an age; use e.g. 90d (days), 12w or 36h` };
  }
  const n = Number(m[1]);
  const unit = (m[2] || "d").toLowerCase();
  return { ok: true, days: unit === "w" ? n * 7 : unit === "h" ? n / 24 : n };
}

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
 * import { renderPruneReport } from "./prune.ts";
 * // console.log(renderPruneReport(report));
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
 * import { pruneCommand } from "./prune.ts";
 * // Deno.exit(await pruneCommand(["--older-than", "90d", "--dry-run"]));
 * ```
 */
export async function pruneCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "older-than": { type: "string" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const { config } = await loadConfig();
  let days = config.retentionDays;
  if (values["older-than"] !== undefined) {
    const limit = parseAgeLimit(values["older-than"]);
    if (!limit.ok) {
      console.error(`error: --older-than: ${limit.reason}`);
      return 2;
    }
    days = limit.days;
  } else if (days === 0) {
    console.error(
      "error: retention_days is 0 (keep everything): say how old, e.g. tracker.ts prune --older-than 90d",
    );
    return 2;
  }
  const dryRun = values["dry-run"] === true;
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
    console.log(values.json ? JSON.stringify(report, null, 2) : renderPruneReport(report));
    return 0;
  } finally {
    store.close();
  }
}
