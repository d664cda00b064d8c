/**
 * `status` for people (pure): the report rendered as lines, with sizes and ages in words.
 *
 * @module
 */

import type { DeliveryStatus, StatusReport } from "./status.ts";

/**
 * Bytes for people: "512 B", "1.5 KB", "12.3 MB" (powers of 1024).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./status_render.ts";
 * assert.deepEqual(formatBytes(1536), "1.5 KB");
 * ```
 */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? "-" : "";
  let n = Math.abs(bytes);
  if (n < 1024) return `${sign}${n} B`;
  for (const unit of ["KB", "MB", "GB"]) {
    n /= 1024;
    if (n < 1024 || unit === "GB") return `${sign}${n < 10 ? n.toFixed(1) : Math.round(n)} ${unit}`;
  }
  return `${sign}${n} GB`;
}

/**
 * Renders a status report for people (pure).
 *
 * @example
 * ```ts
 * import { renderStatus } from "./status_render.ts";
 * // console.log(renderStatus(report));
 * ```
 */
export function renderStatus(r: StatusReport): string {
  const c = r.counts;
  const age = r.oldest_pending_age_seconds === null
    ? ""
    : `, oldest ${formatAge(r.oldest_pending_age_seconds)} old`;
  return [
    "Pattern Tracker status",
    `  data dir       ${r.data_dir}`,
    `  database       ${r.database} (schema v${r.schema_version})`,
    `  config         ${r.config_path}${
      r.config_problems.length ? `  (${r.config_problems.length} problem(s), defaults used)` : ""
    }`,
    ...r.config_problems.map((p) => `                 ! ${p}`),
    `  tracking       ${r.enabled ? "enabled" : "DISABLED (enabled: false)"}`,
    `  patterns       ${c.patterns} in ${c.files} file(s): ${c.versions} versions, ${c.edges} lineage edges`,
    `  executions     ${c.executions} (${c.failedExecutions} failed)`,
    `  outbox         ${c.outbox} waiting${
      r.delivery.in_doubt
        ? ` (${r.delivery.in_doubt} in doubt: the server is asked before they are sent again)`
        : ""
    }${age}`,
    `  dead letters   ${c.deadLetters}${
      c.deadLetters ? "  (refused for good; re-send with: tracker.ts flush --retry-dead)" : ""
    }`,
    ...renderServers(r.delivery, c.versions),
    ...(r.delivery.pace
      ? [
        `  batch size     ${r.delivery.pace.size}${
          r.delivery.pace.ms_per_event === null
            ? ""
            : ` (server measured at ${r.delivery.pace.ms_per_event} ms per event)`
        }`,
      ]
      : []),
    ...(r.delivery.legacy_events
      ? [
        `  legacy events  ${r.delivery.legacy_events} from an older release map to no version (kept in table legacy_events; not sent)`,
      ]
      : []),
    `  last success   ${r.last_success ?? "never"}`,
    `  last error     ${r.last_error ?? "none"}`,
    `  breaker        ${r.breaker}`,
    ...storageLines(r),
    ...storeLines(r),
    `  hook bundle    ${
      r.hooks_bundle === "fresh"
        ? "fresh (build/ matches the sources)"
        : r.hooks_bundle === "stale"
        ? "STALE: the sources changed since install; run: deno task tracker install"
        : "none (hooks run from the .ts sources, or as compiled binaries)"
    }`,
  ].join("\n");
}

/** One line per server: versions acknowledged of those stored, and dead letters. */
function renderServers(d: DeliveryStatus, versions: number): string[] {
  const servers = d.servers.some((s) => s.current)
    ? d.servers
    : [{ server: d.server, delivered: 0, deadLetters: 0, current: true }, ...d.servers];
  return servers.map((s, i) =>
    `${
      i === 0 ? "  delivered      " : "                 "
    }${s.delivered} of ${versions} versions to ${
      s.server || "(a server before per-server records)"
    }${s.current ? " (current)" : ""}${s.deadLetters ? `, ${s.deadLetters} dead letter(s)` : ""}`
  );
}

function storageLines(r: StatusReport): string[] {
  if (r.storage === null || r.prune === null) return [];
  const { database: db, code } = r.storage;
  const p = r.prune;
  return [
    `  store size     ${formatBytes(db.fileBytes)} on disk (write-ahead log ${
      formatBytes(db.walBytes)
    }; ${formatBytes(db.freeBytes)} free inside${
      db.freeBytes > 0 ? ", reused by later writes; tracker.ts prune returns them" : ""
    })`,
    `  code           ${
      formatBytes(code.bytes)
    } for ${code.withCode} pattern(s) (${code.snapshots} snapshots, ${code.patches} patches, ${code.compressed} compressed${
      code.legacy ? `, ${code.legacy} not yet compacted` : ""
    }); ${formatBytes(code.textBytes)} as whole files`,
    `  prune          ${
      p.from_retention_days
        ? `retention_days ${p.older_than_days}`
        : `--older-than ${p.older_than_days}d`
    } would free ${formatBytes(p.freed_code_bytes)} (code of ${p.patterns} delivered pattern(s))${
      p.undelivered_kept ? `; ${p.undelivered_kept} old one(s) wait for delivery` : ""
    }${p.from_retention_days ? "" : "; retention_days keeps everything"}`,
  ];
}

/** The spill journal, integrity and moved-aside lines of `status`. */
function storeLines(r: StatusReport): string[] {
  const j = r.journal;
  const lines: string[] = [];
  if (r.store_problem) lines.push(`  store          NOT WRITABLE NOW: ${r.store_problem}`);
  lines.push(
    `  spill journal  ${j.waiting} waiting${
      j.waiting
        ? ` since ${j.oldest_waiting_at} (${j.waiting_reason}) in ${j.places.join(", ")}`
        : ""
    }; ${j.replayed} replayed${
      j.last_replayed_at
        ? ` (last spilled ${j.last_spilled_at}, replayed ${j.last_replayed_at})`
        : ""
    }; ${j.lost} lost`,
  );
  if (j.last_reason && j.replayed) lines.push(`                 last spill: ${j.last_reason}`);
  if (j.lost) lines.push(`                 ! last lost ${j.last_lost_at}: ${j.last_lost_reason}`);
  const i = r.integrity;
  lines.push(
    `  integrity      ${
      i.quick_check === "ok"
        ? "ok (PRAGMA quick_check)"
        : i.quick_check === "damaged"
        ? `DAMAGED (${i.problems.slice(0, 2).join("; ")}): moved aside, a fresh store took over`
        : "not checked (the store could not be opened)"
    }`,
  );
  for (const m of i.moved_aside) {
    lines.push(
      `  moved aside    ${m.path}${m.at ? ` at ${m.at}` : ""}${m.reason ? `: ${m.reason}` : ""}`,
      m.recoveredAt
        ? `                 recovered ${m.recoveredAt}`
        : `                 salvage its rows with: tracker.ts recover ${m.path}`,
    );
  }
  return lines;
}

/**
 * "42 s", "5 min", "3 h", "2 d".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatAge } from "./status_render.ts";
 * assert.deepEqual(formatAge(300), "5 min");
 * ```
 */
export function formatAge(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
