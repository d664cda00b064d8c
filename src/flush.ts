/**
 * Draining the outbox: causal order, batches, retries with backoff, dead letters, the circuit
 * breaker, and a best-effort analytics refresh. Store updates are small transactions after each
 * answer, so a flusher killed at any point loses nothing: what the server did not acknowledge is
 * still in the outbox and is sent again (the server dedupes).
 *
 * @module
 */

import type { TrackerConfig } from "./config.ts";
import {
  type HttpDeps,
  postAnalytics,
  postBatch,
  postSingle,
  type SendResult,
} from "./delivery.ts";
import {
  backoffMs,
  breakerAllows,
  type BreakerState,
  chunk,
  CLOSED,
  nextBreaker,
  orderForDelivery,
  parseBreaker,
} from "./delivery_plan.ts";
import type { LogRecord } from "./log.ts";
import { openStore, type OutboxRow, type Store } from "./store.ts";
import { tryFlusherLock } from "./flusher.ts";
import { maintainStore } from "./code_maintenance.ts";

/** How many pending rows one ordering round looks at. */
export const DELIVERY_WINDOW = 20_000;
/** Longest `Retry-After` we wait inside a flush; longer ones end the flush and open the breaker. */
export const MAX_INLINE_WAIT_SECONDS = 30;
/** At most this many analytics refreshes per flush, and not more often than every 10 s. */
export const ANALYTICS_PER_FLUSH = 20;

/** What a flush did. */
export interface FlushReport {
  /** Events the server acknowledged (created or already there). */
  sent: number;
  /** Of those, how many the server already had. */
  alreadyExisted: number;
  /** Events moved to the dead-letter table in this flush. */
  deadLettered: number;
  /** Events not sent because a parent is in the dead-letter table. */
  heldBack: number;
  /** Events still waiting in the outbox afterwards. */
  left: number;
  /** HTTP requests made. */
  requests: number;
  breaker: BreakerState;
  /** Why the flush ended early, if it did. */
  stopped: string | null;
}

/** Clock, randomness, sleeping, HTTP and logging: injectable for tests. */
export interface FlushDeps {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  random: () => number;
  log: (record: LogRecord) => void;
}

/** Options of {@linkcode flushOutbox}. */
export interface FlushOptions {
  /** Put the dead letters back into the outbox first. */
  retryDead?: boolean;
  /** Send even while the breaker is open (a manual flush is its own probe). */
  ignoreBreaker?: boolean;
  deps?: Partial<FlushDeps>;
}

type Stop = { stop: true; reason: string; retryAfterSeconds: number | null } | { stop: false };

/**
 * Drains the outbox into the Phase 4 API.
 *
 * @example
 * ```ts
 * import { flushOutbox } from "./flush.ts";
 * // const report = await flushOutbox(store, config);
 * // console.log(`${report.sent} sent, ${report.left} left`);
 * ```
 */
export async function flushOutbox(
  store: Store,
  config: TrackerConfig,
  options: FlushOptions = {},
): Promise<FlushReport> {
  const deps: FlushDeps = {
    fetch: globalThis.fetch,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: Date.now,
    random: Math.random,
    log: () => {},
    ...options.deps,
  };
  const http: HttpDeps = {
    fetch: deps.fetch,
    timeoutMs: Math.round(config.timeoutSeconds * 1000),
    now: deps.now,
  };
  const report: FlushReport = {
    sent: 0,
    alreadyExisted: 0,
    deadLettered: 0,
    heldBack: 0,
    left: 0,
    requests: 0,
    breaker: CLOSED,
    stopped: null,
  };
  if (options.retryDead) {
    const n = store.immediate(() => store.requeueDeadLetters());
    if (n > 0) deps.log({ level: "info", event: "dead_letters_requeued", count: n });
  }
  let breaker = parseBreaker(store.meta("breaker"));
  if (!options.ignoreBreaker && !breakerAllows(breaker, deps.now())) {
    report.breaker = breaker;
    report.stopped = `circuit breaker open until ${new Date(breaker.openUntil).toISOString()}`;
    report.left = store.counts().outbox;
    return report;
  }

  // Events that failed transiently in this flush, and how often: each gets 1 + max_retries tries.
  const tries = new Map<number, number>();
  const touched = new Set<string>();
  let batchUnsupported = false;
  let stop: Stop = { stop: false };

  const confirmAlone: OutboxRow[] = [];
  const apply = (rows: readonly OutboxRow[], result: SendResult & { kind: "answered" }) => {
    const at = new Date(deps.now()).toISOString();
    store.immediate(() => {
      const delivered: number[] = [];
      for (const row of rows) {
        const item = result.items.get(row.id);
        if (!item) continue;
        switch (item.kind) {
          case "delivered":
            delivered.push(row.id);
            report.sent++;
            if (item.alreadyExisted) report.alreadyExisted++;
            touched.add(row.patternId);
            break;
          case "permanent":
            if (row.parentPatternIds.some((p) => !store.isDelivered(p))) {
              // Refused while a parent is not on the server (it failed or is dead-lettered): the
              // parent is the problem. Keep the event; it goes once its parent has.
              store.markAttempt([row.id], item.message);
              tries.set(row.id, config.maxRetries + 1);
              break;
            }
            // Confirm alone on /lineage/track: it answers with the event's own status and message.
            confirmAlone.push(row);
            break;
          case "transient":
            store.markAttempt([row.id], item.message);
            tries.set(row.id, (tries.get(row.id) ?? 0) + 1);
            break;
          default: {
            const unreachable: never = item;
            throw new Error(`unexpected item ${JSON.stringify(unreachable)}`);
          }
        }
      }
      store.markDelivered(delivered, at);
      if (delivered.length > 0) store.setMeta("last_success", at);
    });
  };

  /** Sends with retries; returns the answer, or a stop when the server stays unavailable. */
  const send = async (rows: readonly OutboxRow[], single: boolean): Promise<SendResult | Stop> => {
    for (let attempt = 1;; attempt++) {
      const started = performance.now();
      const result = single
        ? await postSingle(config.intelligenceUrl, rows[0] as OutboxRow, http)
        : await postBatch(config.intelligenceUrl, rows, http);
      report.requests++;
      deps.log({
        level: result.kind === "answered" ? "info" : "warn",
        event: "delivery_attempt",
        endpoint: single ? "/lineage/track" : "/lineage/track/batch",
        outcome: result.kind,
        status: result.status,
        latency_ms: Math.round(performance.now() - started),
        batch_size: rows.length,
        attempt,
        ...(result.kind === "answered" ? {} : { message: result.message }),
      });
      if (result.kind !== "transient") return result;
      const waitSeconds = result.retryAfterSeconds;
      store.setMeta(
        "last_error",
        `${new Date(deps.now()).toISOString()} delivery: ${result.message}`,
      );
      if (
        attempt > config.maxRetries ||
        (waitSeconds !== null && waitSeconds > MAX_INLINE_WAIT_SECONDS)
      ) {
        store.immediate(() => store.markAttempt(rows.map((r) => r.id), result.message));
        return {
          stop: true,
          reason: `server unavailable: ${result.message}`,
          retryAfterSeconds: waitSeconds,
        };
      }
      await deps.sleep(
        backoffMs(attempt, {
          baseMs: 200,
          capMs: 5_000,
          random: deps.random,
          retryAfterSeconds: waitSeconds,
        }),
      );
    }
  };

  const deliverOneByOne = async (rows: readonly OutboxRow[]): Promise<Stop> => {
    for (const row of rows) {
      const result = await send([row], true);
      if ("stop" in result) return result;
      if (result.kind === "answered") apply([row], result);
      else {
        store.immediate(() =>
          store.moveToDeadLetter(
            row.id,
            result.status,
            result.message,
            new Date(deps.now()).toISOString(),
          )
        );
        report.deadLettered++;
        store.setMeta(
          "last_error",
          `${new Date(deps.now()).toISOString()} dead letter: ${result.message}`,
        );
      }
    }
    return { stop: false };
  };

  rounds: while (true) {
    const pending = store.pendingEvents(DELIVERY_WINDOW).filter((r) =>
      (tries.get(r.id) ?? 0) <= config.maxRetries
    );
    if (pending.length === 0) break;
    const last = pending[pending.length - 1] as OutboxRow;
    const order = orderForDelivery(pending, {
      acknowledged: (id) => store.isDelivered(id),
      dead: store.deadPatternIds(),
      pendingElsewhere: store.pendingPatternIdsAfter(last.id),
    });
    report.heldBack = order.heldBack.length;
    if (order.ordered.length === 0) break;
    const sentBefore = report.sent + report.deadLettered;
    for (const batch of chunk(order.ordered, config.batchSize)) {
      if (batchUnsupported) {
        stop = await deliverOneByOne(batch);
        if (stop.stop) break rounds;
        continue;
      }
      const result = await send(batch, false);
      if ("stop" in result) {
        stop = result;
        break rounds;
      }
      if (result.kind === "answered") {
        apply(batch, result);
        if (confirmAlone.length > 0) {
          stop = await deliverOneByOne(confirmAlone.splice(0));
          if (stop.stop) break rounds;
        }
        continue;
      }
      // The batch as a whole was refused: find the culprit by sending each event on its own.
      if (result.status === 404 || result.status === 405) batchUnsupported = true;
      deps.log({
        level: "warn",
        event: "batch_refused",
        status: result.status,
        message: result.message,
        batch_size: batch.length,
      });
      stop = await deliverOneByOne(batch);
      if (stop.stop) break rounds;
    }
    if (report.sent + report.deadLettered === sentBefore) {
      const retryable = [...tries.values()].filter((n) => n <= config.maxRetries);
      if (retryable.length === 0) break;
      // Only some events of an answered batch failed: back off before trying them again.
      await deps.sleep(
        backoffMs(Math.max(...retryable), {
          baseMs: 200,
          capMs: 5_000,
          random: deps.random,
          retryAfterSeconds: null,
        }),
      );
    }
  }

  breaker = stop.stop
    ? nextBreaker(breaker, { ok: false, retryAfterSeconds: stop.retryAfterSeconds }, deps.now())
    : report.requests > 0
    ? CLOSED
    : breaker;
  store.setMeta("breaker", JSON.stringify(breaker));
  report.breaker = breaker;
  report.stopped = stop.stop ? stop.reason : null;
  report.left = store.counts().outbox;
  if (report.deadLettered > 0) {
    deps.log({ level: "error", event: "dead_lettered", count: report.deadLettered });
  }
  await refreshAnalytics(store, config, http, touched, deps);
  return report;
}

async function refreshAnalytics(
  store: Store,
  config: TrackerConfig,
  http: HttpDeps,
  touched: Set<string>,
  deps: FlushDeps,
): Promise<void> {
  if (touched.size === 0) return;
  const last = Number(store.meta("analytics_at") ?? 0);
  if (deps.now() - last < 10_000) return;
  store.setMeta("analytics_at", String(deps.now()));
  for (const patternId of [...touched].slice(0, ANALYTICS_PER_FLUSH)) {
    const result = await postAnalytics(config.intelligenceUrl, patternId, http);
    if (result.kind !== "answered") {
      deps.log({
        level: "warn",
        event: "analytics_failed",
        pattern_id: patternId,
        message: result.message,
      });
      return; // best effort: stop at the first failure
    }
  }
}

/** How long a background flusher stays after the outbox empties, so a burst of edits shares it. */
export const LINGER_MS = 3000;
/** How often a lingering flusher looks for new events. */
export const POLL_MS = 200;

/**
 * The background flusher's life: take the lock (or leave it to the flusher that has it), deliver,
 * then linger a few seconds polling for new events — hooks that see the lock held do not start
 * another process — and exit. After releasing the lock it looks once more, so an event queued by a
 * hook that saw the lock held just before the release is not left behind.
 *
 * @example
 * ```ts
 * import { runBackgroundFlusher } from "./flush.ts";
 * // await runBackgroundFlusher(config, { log: (r) => appendLog(config.logFile, r) });
 * ```
 */
export async function runBackgroundFlusher(
  config: TrackerConfig,
  deps: { log: (record: LogRecord) => void; lingerMs?: number; pollMs?: number },
): Promise<void> {
  const lingerMs = deps.lingerMs ?? LINGER_MS;
  const pollMs = deps.pollMs ?? POLL_MS;
  for (;;) {
    const lock = tryFlusherLock(config.dataDir);
    if (!lock) return;
    const store = openStore(config.dataDir);
    let seen = -1;
    let stopped = false;
    try {
      let idleSince = Date.now();
      for (;;) {
        const newest = store.maxOutboxId();
        if (newest !== seen) {
          seen = newest;
          const report = await flushOutbox(store, config, { deps: { log: deps.log } });
          deps.log({
            level: "info",
            event: "flush",
            mode: "background",
            ...report,
            breaker: report.breaker.state,
          });
          if (report.stopped) {
            stopped = true; // the breaker is open: hooks will start a probe after the cool-down
            break;
          }
          idleSince = Date.now();
        }
        if (Date.now() - idleSince >= lingerMs) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      runMaintenance(store, config, deps.log);
    } finally {
      lock.close();
    }
    const arrived = !stopped && store.maxOutboxId() !== seen;
    store.close();
    if (!arrived) return;
  }
}

/**
 * Compaction and retention (src/code_maintenance.ts), while the flusher holds the lock: never on a
 * hook's path, at most every ten minutes. A failure is logged; delivery is not affected.
 */
function runMaintenance(
  store: Store,
  config: TrackerConfig,
  log: (record: LogRecord) => void,
): void {
  try {
    maintainStore(store, config, { log });
  } catch (error) {
    log({ level: "error", event: "store_maintenance_failed", error: (error as Error).message });
  }
}
