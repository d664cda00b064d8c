/**
 * Retention: dropping the code of old, delivered versions (`tracker.ts prune`, and the background
 * flusher when `retention_days` is set). What stays is what `store_code: false` keeps — the hash,
 * sizes, lineage and metrics — and the code of every file's newest version and of everything the
 * Phase 4 server has not acknowledged yet ({@linkcode Store.undeliveredPatternIds}).
 *
 * A dropped pattern may be the base of another pattern's line patch. Such dependents that stay are
 * rewritten as snapshots first, in the same transaction, so no read ever misses its base.
 *
 * @module
 */

import { compressCode, snapshotCode, type StoredCode } from "./code_storage.ts";
import type { CodeRow } from "./pattern_rows.ts";
import type { Store } from "./store.ts";

/** `codeOmitted` of a pattern whose code retention dropped. */
export const PRUNED = "pruned";

/** What a prune drops and rewrites; the same plan for a dry run and the real one. */
export interface PrunePlan {
  /** Versions recorded before this instant are old enough. */
  cutoff: string;
  /** Patterns whose code is dropped, with the bytes their stored code takes. */
  drop: { patternId: string; bytes: number }[];
  /** Dependents that stay, rewritten as snapshots: their new form and the bytes of their old one. */
  resnapshot: { patternId: string; stored: StoredCode; oldBytes: number }[];
  /** Old enough and delivered, but left for a later run (`limit`). */
  deferred: number;
  /** Old enough but not delivered yet: kept. */
  undelivered: number;
  /** Bytes of stored code before. */
  codeBytesBefore: number;
  /** Bytes of stored code freed: the dropped code, less what the new snapshots add. */
  freedBytes: number;
}

/**
 * The instant `days` days before `now`, as stored timestamps are written (ISO 8601 UTC).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retentionCutoff } from "./retention.ts";
 * assert.equal(retentionCutoff(1, new Date("2026-01-02T00:00:00Z")), "2026-01-01T00:00:00.000Z");
 * ```
 */
export function retentionCutoff(days: number, now: Date): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}

/**
 * Plans a prune: the patterns whose code can go (old enough, not a file's newest version,
 * delivered), deepest in their patch chains first, at most `limit` of them; and the dependents
 * that must become snapshots. Reads the store; call it inside the transaction that applies it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { planPrune } from "./retention.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/a.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const plan = planPrune(store, "2999-01-01T00:00:00.000Z");
 * // Version 1 is old enough and not the newest, but was never delivered: it stays.
 * assert.equal(plan.drop.length, 0);
 * assert.equal(plan.undelivered, 1);
 * store.close();
 * ```
 */
export function planPrune(
  store: Store,
  cutoff: string,
  options: { limit?: number } = {},
): PrunePlan {
  const undelivered = store.undeliveredPatternIds();
  const old = store.codeRowsOlderThan(cutoff);
  const eligible = old.filter((r) => !undelivered.has(r.patternId));
  // Deepest first: a chunk taken from the front never drops a base whose dependents it keeps
  // as patches (a dependent is always deeper than its base).
  const chosen = eligible.slice(0, options.limit ?? eligible.length);
  const dropped = new Set(chosen.map((r) => r.patternId));
  const hot = store.hotCodeIds();
  const resnapshot: PrunePlan["resnapshot"] = [];
  const seen = new Set<string>();
  for (const row of chosen) {
    for (const dependent of store.patchDependents(row.patternId)) {
      if (dropped.has(dependent) || seen.has(dependent)) continue;
      seen.add(dependent);
      resnapshot.push(resnapshotOf(store, store.codeRow(dependent) as CodeRow, hot));
    }
  }
  const drop = chosen.map((r) => ({ patternId: r.patternId, bytes: storedBytes(r) }));
  const freedBytes = drop.reduce((sum, d) => sum + d.bytes, 0) +
    resnapshot.reduce((sum, r) => sum + r.oldBytes - r.stored.data.length, 0);
  return {
    cutoff,
    drop,
    resnapshot,
    deferred: eligible.length - chosen.length,
    undelivered: old.length - eligible.length,
    codeBytesBefore: store.codeStorage().bytes,
    freedBytes,
  };
}

/**
 * A dependent as a snapshot of its text: compressed, unless the newest version of a file reads
 * through it (a hook may read it, and must not load node:zlib for that).
 */
function resnapshotOf(store: Store, row: CodeRow, hot: Set<string>): PrunePlan["resnapshot"][0] {
  const snapshot = snapshotCode(store.code(row.patternId) as string);
  const stored = hot.has(row.patternId) ? snapshot : compressCode(snapshot) ?? snapshot;
  return { patternId: row.patternId, stored, oldBytes: storedBytes(row) };
}

function storedBytes(row: CodeRow): number {
  return row.stored?.data.length ?? 0;
}

/**
 * Applies a plan made in the same transaction: dependents become snapshots first, then the code is
 * dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { applyPrune, planPrune } from "./retention.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const cutoff = "2999-01-01T00:00:00.000Z";
 * store.immediate(() => applyPrune(store, planPrune(store, cutoff)));
 * assert.equal(store.counts().patterns, 1); // a file's newest version is always kept
 * store.close();
 * ```
 */
export function applyPrune(store: Store, plan: PrunePlan): void {
  for (const r of plan.resnapshot) store.setStoredCode(r.patternId, r.stored);
  for (const d of plan.drop) store.dropCode(d.patternId, PRUNED);
}

/**
 * Plans and (unless `dryRun`) applies a prune in one `BEGIN IMMEDIATE` transaction; returns the
 * plan. A dry run's plan is exactly what the real run would do to the same store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { prune, retentionCutoff } from "./retention.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const plan = prune(store, retentionCutoff(90, new Date()), { dryRun: true });
 * assert.equal(plan.drop.length, 0); // nothing is 90 days old
 * store.close();
 * ```
 */
export function prune(
  store: Store,
  cutoff: string,
  options: { dryRun?: boolean; limit?: number } = {},
): PrunePlan {
  return store.immediate(() => {
    const plan = planPrune(store, cutoff, { limit: options.limit });
    if (!options.dryRun) applyPrune(store, plan);
    return plan;
  });
}
