/**
 * `recover`: copies every readable row of a database moved aside as corrupt (read by
 * `salvage.ts`) into the current store without duplicates — patterns and their code, each file's
 * versions (renumbered around the current history where they conflict), edges, executions — and
 * queues again, in doubt, the recovered versions the current server has not acknowledged.
 *
 * @module
 */

import { languageFromPath } from "../record/language.ts";
import { RECOVERED_META } from "./health.ts";
import type { FileVersion } from "./rows.ts";
import {
  numOrNull,
  readSalvage,
  type Row,
  strOrNull,
  toExecution,
  toPattern,
  toVersion,
} from "./salvage.ts";
import type { Store } from "./store.ts";

/** What `recover` copied. */
export interface RecoveryReport {
  file: string;
  /** Rows read from each table (what was readable). */
  read: Record<string, number>;
  /** Rows added to the current store, per table. */
  added: Record<string, number>;
  /**
   * Recovered versions queued for delivery, in doubt (the flusher asks the server before sending):
   * those the current server had not acknowledged and not refused.
   */
  requeued: number;
  /** Files whose salvaged history conflicts with the current one (left as they are). */
  conflicts: string[];
  /** Tables, or parts of them, that could not be read. */
  unreadable: string[];
  /** What was done to read the file (a rewritten header). */
  repairs: string[];
}

/**
 * Copies every readable row of a database (a moved-aside one) into `store`, in one transaction,
 * without duplicates: patterns with their code, file versions (a file's salvaged history goes
 * before the versions recorded since; a baseline that only repeats the salvaged last version is
 * dropped), lineage edges, executions, each server's delivered marks and dead letters, and the
 * replayed journal entries. The recovered versions that `server` (the current one) neither
 * acknowledged nor refused are queued again, in doubt: the old store may have sent them, so the
 * flusher asks the server before sending. The file itself is never changed: it is read from a
 * copy. A damaged table is read from both ends around the damage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { recoverInto } from "./recovery.ts";
 * // A database to salvage (here a healthy one the library seeded), read into a fresh store.
 * const damaged = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir: damaged });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" });
 * tracker.close();
 * const store = openStore(Deno.makeTempDirSync());
 * const report = recoverInto(store, `${damaged}/patterns.db`, { server: "http://localhost:8053" });
 * assert.equal(report.added.file_versions, 1);
 * assert.equal(store.fileHistory("/p/a.py").length, 1);
 * store.close();
 * ```
 */
export function recoverInto(
  store: Store,
  file: string,
  options: { server: string; now?: Date },
): RecoveryReport {
  const now = options.now ?? new Date();
  const report: RecoveryReport = {
    file,
    read: {},
    added: {},
    requeued: 0,
    conflicts: [],
    unreadable: [],
    repairs: [],
  };
  const rows = readSalvage(file, report);
  const add = (table: string, n = 1) => report.added[table] = (report.added[table] ?? 0) + n;
  store.immediate(() => {
    for (const r of rows.patterns ?? []) {
      const p = toPattern(r);
      if (p && store.insertPattern(p)) add("patterns");
    }
    const salvaged = (rows.file_versions ?? []).map((r) => ({ id: r.id, v: toVersion(r) }));
    const restored = restoreVersions(store, salvaged.map((x) => x.v).filter(isDefined), report);
    for (const r of rows.lineage_edges ?? []) {
      if (typeof r.child_pattern_id !== "string" || typeof r.parent_pattern_id !== "string") {
        continue;
      }
      const added = store.insertEdge({
        child: r.child_pattern_id,
        parent: r.parent_pattern_id,
        edgeType: String(r.edge_type ?? "modified_from"),
        transformationType: strOrNull(r.transformation_type),
        filePath: strOrNull(r.file_path),
        createdAt: String(r.created_at ?? now.toISOString()),
      });
      if (added) add("lineage_edges");
    }
    for (const r of rows.executions ?? []) {
      const x = toExecution(r);
      if (!x) continue;
      const same = store.executionsOfCall(x.sessionId, x.toolUseId).some((e) =>
        e.patternId === x.patternId && e.finishedAt === x.finishedAt && e.startedAt === x.startedAt
      );
      if (!same) {
        store.finishExecution(x);
        add("executions");
      }
    }
    restoreDelivery(store, rows, salvaged, restored, options.server, now, report, add);
    for (const r of rows.journal_replays ?? []) {
      if (typeof r.entry_id !== "string" || store.journalApplied(r.entry_id)) continue;
      store.markJournalApplied({
        entryId: r.entry_id,
        spilledAt: String(r.spilled_at ?? ""),
        reason: String(r.reason ?? ""),
        place: String(r.place ?? ""),
        replayedAt: String(r.replayed_at ?? now.toISOString()),
      });
      add("journal_replays");
    }
    const name = file.slice(file.lastIndexOf("/") + 1);
    store.setMeta(
      `${RECOVERED_META}${name}`,
      JSON.stringify({ at: now.toISOString(), added: report.added, requeued: report.requeued }),
    );
  });
  return report;
}

/**
 * Each server's delivered marks and dead letters of the salvaged versions, copied onto the
 * versions as they are numbered here; then the versions recovery added that `server` neither
 * acknowledged nor refused, queued in doubt. A mark of an older schema names (pattern, version)
 * instead of a version row, and no server: it is matched to the salvaged version like migration 3
 * does, and given to the server this store delivers to (as that migration's first flush would),
 * or to `server` before this store's first flush.
 */
function restoreDelivery(
  store: Store,
  rows: Record<string, Row[]>,
  salvaged: readonly { id: unknown; v: FileVersion | null }[],
  restored: readonly FileVersion[],
  server: string,
  now: Date,
  report: RecoveryReport,
  add: (table: string) => void,
): void {
  const byOldId = new Map<number, FileVersion>();
  for (const { id, v } of salvaged) if (v && typeof id === "number") byOldId.set(id, v);
  const byNumber = (patternId: unknown, version: unknown, body: unknown) => {
    let filePath: unknown = undefined;
    try {
      filePath = typeof body === "string" ? JSON.parse(body)?.file_path : undefined;
    } catch { /* matched without the path */ }
    const n = Number.parseInt(String(version), 10);
    return salvaged.find(({ v }) =>
      v !== null && v.patternId === patternId && v.version === n &&
      (typeof filePath !== "string" || v.filePath === filePath)
    )?.v;
  };
  // The version's row here, when it holds the same pattern (a conflicting history was left out).
  const idHere = (v: FileVersion | null | undefined): number | null => {
    if (!v) return null;
    const id = store.versionId(v.filePath, v.version);
    return id !== undefined && store.versionById(id)?.patternId === v.patternId ? id : null;
  };
  // A mark of no server goes to the server this store delivers to, or, before its first flush,
  // to the configured one (which that flush would give the unattributed marks to).
  const oldServer = (r: Row) =>
    typeof r.server === "string" && r.server !== ""
      ? r.server
      : store.meta("delivery_server") ?? server;
  const salvagedVersion = (r: Row) =>
    typeof r.version_id === "number"
      ? byOldId.get(r.version_id)
      : byNumber(r.pattern_id, r.pattern_version, r.body);
  let unmatched = 0;
  for (const r of rows.delivered ?? []) {
    const id = idHere(salvagedVersion(r));
    if (id === null) {
      unmatched++;
      continue;
    }
    const at = String(r.delivered_at ?? now.toISOString());
    if (store.insertDelivered(oldServer(r), id, at)) add("delivered");
  }
  for (const r of rows.dead_letters ?? []) {
    const id = idHere(salvagedVersion(r));
    if (id === null) {
      unmatched++;
      continue;
    }
    const refusal = {
      status: numOrNull(r.status),
      message: String(r.message ?? "refused"),
      verdict: strOrNull(r.verdict),
    };
    if (store.insertDeadLetter(oldServer(r), id, refusal, String(r.dead_at ?? now.toISOString()))) {
      add("dead_letters");
    }
  }
  for (const r of rows.outbox ?? []) {
    if (idHere(salvagedVersion(r)) === null) unmatched++;
  }
  if (unmatched > 0) {
    report.unreadable.push(
      `${unmatched} delivery record(s) name versions that could not be read or were left out`,
    );
  }
  const at = now.toISOString();
  for (const v of restored) {
    const id = idHere(v);
    if (id === null || store.versionStanding(server, id) !== "none") continue;
    store.enqueueVersion(id, at, { inDoubt: true });
    report.requeued++;
  }
}

function isDefined<T>(x: T | null | undefined): x is T {
  return x !== null && x !== undefined;
}

/** Tool names of the versions recording adds to bridge to content it never saw. */
const BRIDGES = new Set(["baseline", "external"]);

/**
 * Each file's salvaged versions: inserted as they were when the number is free; when the current
 * store recorded the file since, the current versions move up after the salvaged ones (a leading
 * baseline that repeats the salvaged last pattern is dropped). Histories that interleave in time
 * are not merged: the file is reported as a conflict. Returns the versions it added.
 */
function restoreVersions(
  store: Store,
  versions: FileVersion[],
  report: RecoveryReport,
): FileVersion[] {
  const restored: FileVersion[] = [];
  const byFile = new Map<string, FileVersion[]>();
  for (const v of versions) {
    const list = byFile.get(v.filePath) ?? [];
    list.push(v);
    byFile.set(v.filePath, list);
  }
  for (const [file, salvaged] of byFile) {
    salvaged.sort((a, b) => a.version - b.version);
    let current = store.fileHistory(file);
    // A bridge the fresh store made (baseline, external) for content the salvaged history holds
    // with its real origin: the salvaged version replaces it.
    for (const v of salvaged) {
      const c = current.find((c) => c.version === v.version && c.patternId === v.patternId);
      if (c && BRIDGES.has(c.toolName) && !BRIDGES.has(v.toolName)) {
        store.deleteVersion(file, c.version);
      }
    }
    current = store.fileHistory(file);
    const missing = salvaged.filter((v) =>
      !current.some((c) => c.version === v.version && c.patternId === v.patternId)
    );
    if (missing.length === 0) continue;
    const taken = missing.some((v) => current.some((c) => c.version === v.version));
    if (taken) {
      const lastSalvaged = salvaged[salvaged.length - 1] as FileVersion;
      const firstCurrent = current[0];
      if (!firstCurrent || firstCurrent.createdAt < lastSalvaged.createdAt) {
        report.conflicts.push(file);
        continue;
      }
      let shift = lastSalvaged.version;
      if (
        firstCurrent.toolName === "baseline" && firstCurrent.patternId === lastSalvaged.patternId
      ) {
        store.deleteVersion(file, firstCurrent.version);
        shift -= 1;
      }
      store.shiftVersions(file, shift);
    }
    for (const v of missing) {
      if (!store.hasPattern(v.patternId)) {
        // The pattern's row sat on a damaged page: keep the version (the lineage) with a pattern
        // that says its content could not be read.
        store.insertPattern({
          patternId: v.patternId,
          language: languageFromPath(v.filePath),
          lineCount: 0,
          byteSize: 0,
          code: null,
          firstSeenAt: v.createdAt,
          codeOmitted: "unreadable",
        });
        report.added.unreadable_patterns = (report.added.unreadable_patterns ?? 0) + 1;
      }
      if (store.insertVersionIfAbsent(v) !== null) {
        report.added.file_versions = (report.added.file_versions ?? 0) + 1;
        restored.push(v);
      }
    }
  }
  return restored;
}
