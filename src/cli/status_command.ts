/**
 * Runs `status`: what the store holds and where delivery stands, read from the store, the log and
 * the journal; what cannot be read is reported as unknown, never as a failure.
 *
 * @module
 */

import { loadConfig } from "../config/mod.ts";
import { type BreakerState, parseBreaker } from "../delivery/breaker.ts";
import { parsePace } from "../delivery/plan.ts";
import { serverKey } from "../delivery/plan.ts";
import { ROOT } from "../runtime.ts";
import type { openStore } from "../store/mod.ts";
import { bundleState } from "./bundle.ts";
import type { StatusRequest } from "./commands/status.ts";
import { renderStatus } from "./status_render.ts";
import {
  configFields,
  journalStatus,
  lastErrorInLog,
  openForStatus,
  readLogTail,
  type StatusReport,
  storageFields,
} from "./status.ts";

/**
 * Runs `status`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { statusCommand } from "./status_command.ts";
 * assert.equal(await statusCommand({ json: true }), 0);
 * ```
 */
export async function statusCommand(request: StatusRequest): Promise<number> {
  const { config, problems, configPath } = await loadConfig();
  const { store, problem, integrity } = openForStatus(config);
  try {
    const counts = readable(() => store.counts()) ?? EMPTY_COUNTS;
    const report: StatusReport = {
      ...configFields(config),
      database: store.path,
      schema_version: store.schemaVersion(),
      config_path: configPath,
      config_problems: problems.map((p) => `${p.key}: ${p.reason}`),
      counts,
      oldest_pending_age_seconds: counts.oldestOutboxAt
        ? (Date.now() - Date.parse(counts.oldestOutboxAt)) / 1000
        : null,
      last_success: store.meta("last_success") ?? null,
      last_error: store.meta("last_error") ?? lastErrorInLog(readLogTail(config.logFile)),
      breaker: describeBreaker(parseBreaker(store.meta("breaker"))),
      delivery: readable(() => deliveryStatus(store, config.intelligenceUrl, config.batchSize)) ??
        noDelivery(config.intelligenceUrl),
      hooks_bundle: await bundleState(ROOT),
      ...(readable(() => storageFields(store, config.retentionDays, new Date())) ??
        { storage: null, prune: null }),
      store_problem: problem,
      journal: journalStatus(config, store),
      integrity,
    };
    console.log(request.json ? JSON.stringify(report, null, 2) : renderStatus(report));
    return 0;
  } finally {
    store.close();
  }
}

/**
 * A figure of the store `status` opened, or null when it cannot be read (a store in a read-only
 * directory, still at an older schema): `status` reports what it can.
 */
function readable<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

/** Delivery when the store's delivery tables could not be read: nothing known. */
function noDelivery(intelligenceUrl: string): StatusReport["delivery"] {
  return {
    server: serverKey(intelligenceUrl),
    queued: 0,
    in_doubt: 0,
    servers: [],
    legacy_events: 0,
    pace: null,
  };
}

function deliveryStatus(
  store: ReturnType<typeof openStore>,
  intelligenceUrl: string,
  batchSize: number,
): StatusReport["delivery"] {
  const server = serverKey(intelligenceUrl);
  const outbox = store.outboxCounts();
  const paceText = store.meta(`delivery_pace ${server}`);
  const pace = paceText === undefined ? null : parsePace(paceText, batchSize);
  return {
    server,
    queued: outbox.queued,
    in_doubt: outbox.inDoubt,
    servers: store.deliveryByServer()
      .map((s) => ({ ...s, current: s.server === server }))
      .sort((a, b) => Number(b.current) - Number(a.current)),
    legacy_events: store.legacyEventCount(),
    pace: pace && { size: pace.size, ms_per_event: pace.msPerEvent },
  };
}

const EMPTY_COUNTS = {
  patterns: 0,
  versions: 0,
  files: 0,
  edges: 0,
  executions: 0,
  failedExecutions: 0,
  outbox: 0,
  oldestOutboxAt: null,
  deadLetters: 0,
  delivered: 0,
};

function describeBreaker(b: BreakerState): string {
  if (b.state !== "open") return "closed (requests go through)";
  const when = new Date(b.openUntil).toISOString();
  return `open after ${b.failures} failed flush(es); next probe after ${when}`;
}
