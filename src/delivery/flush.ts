/**
 * Draining the outbox into one Phase 4 server, faithfully although the server is not idempotent:
 * every version in doubt (sent without a usable answer, imported, or new to this server) is looked
 * up on the server before anything is sent again; versions go in an order that puts every edge on
 * the right node; batches adapt to the server's speed; failures are read by what they mean. Store
 * updates are small transactions around each request, so a flusher killed at any point loses
 * nothing and the next one knows what may have reached the server. See `docs/phase4.md`.
 *
 * This module holds the flush's entry ({@linkcode flushOutbox}): the breaker, the drain
 * (`flush_run.ts`, one step per method), the breaker's next state, and the analytics refresh.
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import type { LogRecord } from "../log.ts";
import type { DeadLetter, Store } from "../store/mod.ts";
import { type HttpDeps, postAnalytics } from "./client.ts";
import { FlushRun } from "./flush_run.ts";
import { classifyPending } from "../record/version_transformations.ts";
import { classifyFailure } from "./phase4_answers.ts";
import { breakerAllows, type BreakerState, CLOSED, nextBreaker, parseBreaker } from "./breaker.ts";
import { serverKey } from "./plan.ts";

/** At most this many analytics refreshes per flush, and not more often than every 10 s. */
export const ANALYTICS_PER_FLUSH = 20;
/** After the analytics route fails on the server's side, it is left alone this long. */
export const ANALYTICS_QUIET_MS = 6 * 3600_000;

/** What a flush did. */
export interface FlushReport {
  /** The server delivered to (normalised `intelligence_url`). */
  server: string;
  /** Versions the server acknowledged in answers (stored now, or already there). */
  sent: number;
  /** Of those, how many the server said it already had. */
  alreadyExisted: number;
  /** Versions in doubt that the server turned out to hold: not sent again. */
  confirmed: number;
  /** Earlier versions queued again because the server lacked a parent. */
  restored: number;
  /** Dead letters put back in the outbox (transient causes, or `--retry-dead`). */
  requeued: number;
  /** Versions moved to the dead-letter table in this flush. */
  deadLettered: number;
  /** Versions not sent because a parent is in the dead-letter table. */
  heldBack: number;
  /** Versions still waiting in the outbox afterwards. */
  left: number;
  /** HTTP requests made (tracking and verification). */
  requests: number;
  /** The adapted batch size at the end. */
  batchSize: number;
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
  /** Pause between two looks at a server that may still be storing an abandoned request. */
  settlePauseMs: number;
}

/** Options of {@linkcode flushOutbox}. */
export interface FlushOptions {
  /** Put every dead letter back into the outbox first (not only those of transient causes). */
  retryDead?: boolean;
  /** Send even while the breaker is open (a manual flush is its own probe). */
  ignoreBreaker?: boolean;
  deps?: Partial<FlushDeps>;
}

/** A dead letter worth another try: its cause was not the event itself. */
function healable(letter: DeadLetter): boolean {
  if (letter.verdict === "rejected") return false;
  return classifyFailure(letter.message, null).kind !== "rejected";
}

/**
 * Drains the outbox into the Phase 4 API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import { flushOutbox } from "./flush.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const report = await flushOutbox(store, defaultConfig("/home/dev"), {
 *   deps: { fetch: () => Promise.reject(new Error("never called: nothing is queued")) },
 * });
 * assert.deepEqual([report.sent, report.requests, report.left, report.stopped], [0, 0, 0, null]);
 * store.close();
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
    settlePauseMs: 2_000,
    ...options.deps,
  };
  const server = serverKey(config.intelligenceUrl);
  const at = () => new Date(deps.now()).toISOString();
  const report = emptyReport(server);
  store.immediate(() => {
    const switched = store.switchServer(server, at());
    if (switched.switched) {
      deps.log({
        level: "info",
        event: "delivery_server_changed",
        server,
        queued: switched.queued,
      });
    }
    report.requeued = store.requeueDeadLetters(
      server,
      at(),
      (d) => options.retryDead === true || healable(d),
    );
  });
  if (report.requeued > 0) {
    deps.log({ level: "info", event: "dead_letters_requeued", count: report.requeued });
  }
  let breaker = parseBreaker(store.meta("breaker"));
  if (!options.ignoreBreaker && !breakerAllows(breaker, deps.now())) {
    report.breaker = breaker;
    report.stopped = `circuit breaker open until ${new Date(breaker.openUntil).toISOString()}`;
    report.left = store.counts().outbox;
    return report;
  }
  // Each version's transformation type from its code and its request's intent, decided once and
  // stored before anything is sent: every send, and the views, read that one answer.
  classifyPending(store, { queued: true, now: at });
  const run = new FlushRun(store, config, server, deps, report);
  const stopped = await run.drain();
  breaker = stopped
    ? nextBreaker(breaker, { ok: false, retryAfterSeconds: stopped.retryAfterSeconds }, deps.now())
    : report.requests > 0
    ? CLOSED
    : breaker;
  store.setMeta("breaker", JSON.stringify(breaker));
  run.savePace();
  report.breaker = breaker;
  report.stopped = stopped ? stopped.reason : null;
  report.left = store.counts().outbox;
  if (report.deadLettered > 0) {
    deps.log({ level: "error", event: "dead_lettered", count: report.deadLettered });
  }
  await refreshAnalytics(store, server, run.http(run.baseTimeoutMs), run.touched, deps);
  return report;
}

function emptyReport(server: string): FlushReport {
  return {
    server,
    sent: 0,
    alreadyExisted: 0,
    confirmed: 0,
    restored: 0,
    requeued: 0,
    deadLettered: 0,
    heldBack: 0,
    left: 0,
    requests: 0,
    batchSize: 0,
    breaker: CLOSED,
    stopped: null,
  };
}

/**
 * Asks the server to refresh the usage analytics of patterns just delivered: best effort, never a
 * reason to open the breaker. A server whose analytics route fails on its side (the real one
 * always answers 500 there) is left alone for {@linkcode ANALYTICS_QUIET_MS}, with one log line.
 */
async function refreshAnalytics(
  store: Store,
  server: string,
  http: HttpDeps,
  touched: Set<string>,
  deps: FlushDeps,
): Promise<void> {
  if (touched.size === 0) return;
  const quietKey = `analytics_quiet_until ${server}`;
  if (deps.now() < Number(store.meta(quietKey) ?? 0)) return;
  const last = Number(store.meta("analytics_at") ?? 0);
  if (deps.now() - last < 10_000) return;
  store.setMeta("analytics_at", String(deps.now()));
  for (const patternId of [...touched].slice(0, ANALYTICS_PER_FLUSH)) {
    const result = await postAnalytics(server, patternId, http);
    if (result.ok) continue;
    const serverSide = result.status !== null && (result.status >= 500 || result.status === 404);
    if (serverSide) {
      const until = deps.now() + ANALYTICS_QUIET_MS;
      store.setMeta(quietKey, String(until));
      deps.log({
        level: "info",
        event: "analytics_unavailable",
        message: result.message,
        retry_after: new Date(until).toISOString(),
      });
    } else {
      deps.log({
        level: "warn",
        event: "analytics_failed",
        pattern_id: patternId,
        message: result.message,
      });
    }
    return; // best effort: stop at the first failure
  }
}
