/**
 * Draining the outbox into one Phase 4 server, faithfully although the server is not idempotent:
 * every version in doubt (sent without a usable answer, imported, or new to this server) is looked
 * up on the server before anything is sent again; versions go in an order that puts every edge on
 * the right node; batches adapt to the server's speed; failures are read by what they mean. Store
 * updates are small transactions around each request, so a flusher killed at any point loses
 * nothing and the next one knows what may have reached the server. See `docs/phase4.md`.
 *
 * @module
 */

import type { TrackerConfig } from "./config.ts";
import {
  fetchNodeVersions,
  type HttpDeps,
  postAnalytics,
  postBatch,
  postSingle,
  type RequestFailure,
  type SendResult,
} from "./delivery.ts";
import {
  backoffMs,
  batchLength,
  breakerAllows,
  type BreakerState,
  CLOSED,
  nextBreaker,
  type Pace,
  paceAfterAnswer,
  paceAfterTimeout,
  parseBreaker,
  parsePace,
  planDelivery,
  requestTimeoutMs,
} from "./delivery_plan.ts";
import { AttributionCarrier } from "./blame_history.ts";
import { eventForVersion, serverPatternVersion } from "./events.ts";
import type { LogRecord } from "./log.ts";
import { classifyFailure, type EventVerdict } from "./phase4_answers.ts";
import {
  type DeadLetter,
  type FileVersion,
  openStore,
  type PatternRow,
  type QueuedVersion,
  type Store,
} from "./store/mod.ts";
import { tryFlusherLock } from "./flusher.ts";
import { maintainStore } from "./store/code_maintenance.ts";

/** How many queued versions one planning round looks at. */
export const DELIVERY_WINDOW = 20_000;
/** Longest `Retry-After` we wait inside a flush; longer ones end the flush and open the breaker. */
export const MAX_INLINE_WAIT_SECONDS = 30;
/** At most this many analytics refreshes per flush, and not more often than every 10 s. */
export const ANALYTICS_PER_FLUSH = 20;
/** After the analytics route fails on the server's side, it is left alone this long. */
export const ANALYTICS_QUIET_MS = 6 * 3600_000;
/** Versions sent this recently may still be in the server's hands when they are verified. */
export const SETTLE_HORIZON_MS = 10 * 60_000;
/** Parallel evolution queries while verifying. */
export const VERIFY_CONCURRENCY = 4;

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

/**
 * The key under which delivery to a server is recorded: the URL without a trailing slash.
 *
 * @example
 * ```ts
 * import { serverKey } from "./flush.ts";
 * serverKey("http://localhost:8053/"); // "http://localhost:8053"
 * ```
 */
export function serverKey(intelligenceUrl: string): string {
  const url = new URL(intelligenceUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * The request body of a stored version: assembled from its rows, so every send of it is the same
 * bytes (for the same `store_code`). Its line attribution is computed from the file's versions up to
 * it (`carrier` keeps that walk for the next version of the same file).
 *
 * @example
 * ```ts
 * import { versionEventBody } from "./flush.ts";
 * // const body = versionEventBody(store, versionId, config.storeCode);
 * ```
 */
export function versionEventBody(
  store: Store,
  versionId: number,
  storeCode: boolean,
  carrier: AttributionCarrier = new AttributionCarrier(store),
): string {
  const v = store.versionById(versionId);
  if (!v) throw new Error(`file version ${versionId} is missing from ${store.path}`);
  return eventBody(v, store.pattern(v.patternId), storeCode, carrier);
}

function eventBody(
  v: FileVersion,
  p: PatternRow | undefined,
  storeCode: boolean,
  carrier: AttributionCarrier,
): string {
  // The attribution is an extra: a history it cannot read must not keep the event from going.
  let lineAttribution = null;
  try {
    lineAttribution = carrier.attributionOf(v, p === undefined ? undefined : p.code);
  } catch { /* unreadable code: sent without it */ }
  return JSON.stringify(eventForVersion(v, p, { storeCode, lineAttribution }));
}

/**
 * The request bodies of stored versions, in the order asked (one query for the versions). The
 * flusher passes one carrier for the whole flush: it sends each file's versions in order, so each
 * attribution costs one step of the file's walk.
 *
 * @example
 * ```ts
 * import { versionEventBodies } from "./flush.ts";
 * // const bodies = versionEventBodies(store, [12, 13], true, carrier);
 * ```
 */
export function versionEventBodies(
  store: Store,
  versionIds: readonly number[],
  storeCode: boolean,
  carrier: AttributionCarrier = new AttributionCarrier(store),
): string[] {
  const versions = store.versionsById(versionIds);
  if (versions.length !== versionIds.length) {
    throw new Error(`file versions of the outbox are missing from ${store.path}`);
  }
  const patterns = new Map<string, PatternRow | undefined>();
  return versions.map((v) => {
    if (!patterns.has(v.patternId)) patterns.set(v.patternId, store.pattern(v.patternId));
    return eventBody(v, patterns.get(v.patternId), storeCode, carrier);
  });
}

/**
 * The request bodies of the first `limit` queued versions, in queue order (what a flush would
 * send, before ordering).
 *
 * @example
 * ```ts
 * import { queuedEventBodies } from "./flush.ts";
 * // const events = queuedEventBodies(store, config, 10).map((b) => JSON.parse(b));
 * ```
 */
export function queuedEventBodies(
  store: Store,
  config: Pick<TrackerConfig, "intelligenceUrl" | "storeCode">,
  limit: number,
): string[] {
  const carrier = new AttributionCarrier(store);
  return store.queuedVersions(serverKey(config.intelligenceUrl), limit).map((r) =>
    versionEventBody(store, r.versionId, config.storeCode, carrier)
  );
}

/** Whether a dead letter was refused for a reason that goes away by itself. */
function healable(letter: DeadLetter): boolean {
  if (letter.verdict === "rejected") return false;
  return classifyFailure(letter.message, null).kind !== "rejected";
}

type Stop = { reason: string; retryAfterSeconds: number | null };

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
    settlePauseMs: 2_000,
    ...options.deps,
  };
  const server = serverKey(config.intelligenceUrl);
  const at = () => new Date(deps.now()).toISOString();
  const baseTimeoutMs = Math.round(config.timeoutSeconds * 1000);
  const http = (timeoutMs: number): HttpDeps => ({ fetch: deps.fetch, timeoutMs, now: deps.now });
  const report: FlushReport = {
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

  /** Each file's blame, carried from one version to the next as they are sent. */
  const attribution = new AttributionCarrier(store);
  const paceKey = `delivery_pace ${server}`;
  let pace: Pace = parsePace(store.meta(paceKey), config.batchSize);
  /** Failed tries of each queued version in this flush: 1 + max_retries each. */
  const tries = new Map<number, number>();
  const missingParentSeen = new Set<number>();
  const isolate = new Set<number>();
  const touched = new Set<string>();
  let singlesOnly = false;
  let failStreak = 0;
  let lastFailure: Extract<RequestFailure, { kind: "unavailable" }> | null = null;
  let stop: Stop | null = null;
  const countTry = (ids: Iterable<number>) => {
    for (const id of ids) tries.set(id, (tries.get(id) ?? 0) + 1);
  };

  /** A round that moved nothing: back off, or stop when the server stays unavailable. */
  const failedRound = async (failure: Extract<RequestFailure, { kind: "unavailable" }>) => {
    failStreak++;
    lastFailure = failure;
    store.setMeta("last_error", `${at()} delivery: ${failure.message}`);
    const wait = failure.retryAfterSeconds;
    if (failStreak > config.maxRetries || (wait !== null && wait > MAX_INLINE_WAIT_SECONDS)) {
      stop = { reason: `server unavailable: ${failure.message}`, retryAfterSeconds: wait };
      return;
    }
    // After a timeout the verification that follows waits for the server to settle.
    if (failure.timedOut) return;
    await deps.sleep(backoffMs(failStreak, {
      baseMs: 200,
      capMs: 5_000,
      random: deps.random,
      retryAfterSeconds: wait,
    }));
  };

  /**
   * Asks the server which of these in-doubt versions it holds, and records the answers it gave:
   * held → delivered, not held → may be sent. Versions whose pattern could not be looked up stay
   * in doubt.
   */
  const verify = async (rows: readonly QueuedVersion[]) => {
    const started = performance.now();
    const known = new Map<string, Set<string>>();
    const last: { failure: Extract<RequestFailure, { kind: "unavailable" }> | null } = {
      failure: null,
    };
    const lookUp = async (patternIds: string[]) => {
      let failures = 0;
      let next = 0;
      const worker = async () => {
        // A few failures in one pass mean the server is unavailable: stop asking.
        while (failures < VERIFY_CONCURRENCY && next < patternIds.length) {
          const id = patternIds[next++] as string;
          const answer = await fetchNodeVersions(server, id, http(baseTimeoutMs));
          report.requests++;
          if (answer.kind === "known") known.set(id, answer.versions);
          else {
            failures++;
            last.failure = answer;
          }
        }
      };
      await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, worker));
    };
    const holds = (r: QueuedVersion) => {
      const versions = known.get(r.patternId);
      return versions !== undefined &&
        (versions.has(serverPatternVersion(r.filePath, r.version)) ||
          (r.legacyVersion !== null && versions.has(r.legacyVersion)));
    };
    await lookUp([...new Set(rows.map((r) => r.patternId))]);
    // A request abandoned moments ago may still be running on the server: look again until
    // nothing changes, so that no version it is about to store is sent a second time.
    const recent = rows.some((r) =>
      r.lastSentAt !== null && deps.now() - Date.parse(r.lastSentAt) < SETTLE_HORIZON_MS
    );
    for (let look = 0; recent && last.failure === null && look < 15; look++) {
      const absent = rows.filter((r) => known.has(r.patternId) && !holds(r));
      if (absent.length === 0) break;
      await deps.sleep(deps.settlePauseMs);
      await lookUp([...new Set(absent.map((r) => r.patternId))]);
      if (absent.every((r) => !holds(r))) break;
    }
    const answered = rows.filter((r) => known.has(r.patternId));
    const present = answered.filter(holds);
    const unresolved = rows.filter((r) => !known.has(r.patternId));
    deps.log({
      level: unresolved.length ? "warn" : "info",
      event: "delivery_verify",
      checked: rows.length,
      present: present.length,
      unresolved: unresolved.length,
      latency_ms: Math.round(performance.now() - started),
      ...(last.failure ? { message: last.failure.message } : {}),
    });
    store.immediate(() => {
      store.markDelivered(server, present.map((r) => r.queueId), at());
      store.clearDoubt(answered.filter((r) => !holds(r)).map((r) => r.queueId));
    });
    report.confirmed += present.length;
    if (present.length > 0) failStreak = 0;
    if (unresolved.length > 0) {
      countTry(unresolved.map((r) => r.queueId));
      if (answered.length === 0 && last.failure) await failedRound(last.failure);
    }
  };

  /** Records what the server said about each event of a request. */
  const apply = (
    rows: readonly QueuedVersion[],
    verdicts: readonly EventVerdict[],
    status: number,
  ) => {
    const now = at();
    let stored = 0;
    store.immediate(() => {
      const delivered: number[] = [];
      rows.forEach((row, i) => {
        const verdict = verdicts[i] as EventVerdict;
        switch (verdict.kind) {
          case "stored":
            delivered.push(row.queueId);
            report.sent++;
            if (verdict.alreadyExisted) report.alreadyExisted++;
            touched.add(row.patternId);
            break;
          case "transient":
            store.markFailed([row.queueId], verdict.message, verdict.maybeStored);
            countTry([row.queueId]);
            break;
          case "missing_parent": {
            store.markFailed([row.queueId], verdict.message, false);
            if (missingParentSeen.has(row.queueId)) countTry([row.queueId]);
            missingParentSeen.add(row.queueId);
            // A parent still queued goes first anyway; otherwise the server lost it, or never
            // had it: this store holds every ancestor and sends them again.
            if (row.parentState === "queued") break;
            const restored = store.requeueAncestors(server, row.filePath, row.version, now);
            report.restored += restored;
            deps.log({
              level: "warn",
              event: "parent_missing",
              file_path: row.filePath,
              version: row.version,
              parent_pattern_id: verdict.parentPatternId,
              requeued: restored,
            });
            if (restored === 0) {
              // Nothing here can supply it: the event can never be accepted.
              store.moveToDeadLetter(server, row.queueId, {
                status,
                message: `${verdict.message} (this store holds no version with that pattern)`,
                verdict: "rejected",
              }, now);
              report.deadLettered++;
            }
            break;
          }
          case "rejected":
            store.moveToDeadLetter(server, row.queueId, {
              status,
              message: verdict.message,
              verdict: "rejected",
            }, now);
            report.deadLettered++;
            store.setMeta("last_error", `${now} dead letter: ${verdict.message}`);
            break;
          default: {
            const unreachable: never = verdict;
            throw new Error(`unexpected verdict ${JSON.stringify(unreachable)}`);
          }
        }
        if (verdict.kind === "stored") stored++;
      });
      store.markDelivered(server, delivered, now);
      if (delivered.length > 0) store.setMeta("last_success", now);
    });
    return stored;
  };

  /** Sends one batch (or one event alone) and records the answer; true when all were stored. */
  const sendBatch = async (batch: readonly QueuedVersion[], single: boolean): Promise<boolean> => {
    const ids = batch.map((r) => r.queueId);
    const bodies = versionEventBodies(
      store,
      batch.map((r) => r.versionId),
      config.storeCode,
      attribution,
    );
    store.immediate(() => store.markSent(ids, at()));
    const timeoutMs = requestTimeoutMs(batch.length, pace, baseTimeoutMs);
    const started = performance.now();
    const result: SendResult = single
      ? await postSingle(server, bodies[0] as string, http(timeoutMs))
      : await postBatch(server, bodies, http(timeoutMs));
    const latencyMs = Math.round(performance.now() - started);
    report.requests++;
    deps.log({
      level: result.kind === "answered" ? "info" : "warn",
      event: "delivery_attempt",
      endpoint: single ? "/lineage/track" : "/lineage/track/batch",
      outcome: result.kind,
      status: result.status,
      latency_ms: latencyMs,
      batch_size: batch.length,
      timeout_ms: timeoutMs,
      ...(result.kind === "answered" ? {} : { message: result.message }),
    });
    switch (result.kind) {
      case "answered": {
        pace = paceAfterAnswer(pace, batch.length, latencyMs, config.batchSize);
        const stored = apply(batch, result.verdicts, result.status);
        if (stored === batch.length) {
          failStreak = 0;
          return true;
        }
        if (stored > 0) failStreak = 0;
        else if (result.verdicts.every((v) => v.kind === "transient")) {
          // E.g. every event failed on a database that is down: the server is unavailable.
          const first = result.verdicts[0] as Extract<EventVerdict, { kind: "transient" }>;
          await failedRound({
            kind: "unavailable",
            status: result.status,
            message: first.message,
            retryAfterSeconds: null,
            maybeStored: first.maybeStored,
            timedOut: false,
          });
        }
        break;
      }
      case "unavailable":
        store.immediate(() => store.markFailed(ids, result.message, result.maybeStored));
        countTry(ids);
        if (result.timedOut) {
          // Never the same batch again: it is split, and what it held is verified first.
          pace = paceAfterTimeout(pace, batch.length, timeoutMs);
        }
        await failedRound(result);
        break;
      case "refused":
        // Refused before any processing: nothing was stored.
        store.immediate(() => store.markFailed(ids, result.message, false));
        if (result.unsupported) singlesOnly = true;
        else if (single) {
          store.immediate(() =>
            store.moveToDeadLetter(server, batch[0]!.queueId, {
              status: result.status,
              message: result.message,
              verdict: "rejected",
            }, at())
          );
          report.deadLettered++;
          store.setMeta("last_error", `${at()} dead letter: ${result.message}`);
        } else {
          // One bad event refuses the whole batch: find it by sending each on its own.
          for (const id of ids) isolate.add(id);
          deps.log({
            level: "warn",
            event: "batch_refused",
            status: result.status,
            message: result.message,
            batch_size: batch.length,
          });
        }
        break;
      default: {
        const unreachable: never = result;
        throw new Error(`unexpected result ${JSON.stringify(unreachable)}`);
      }
    }
    return false;
  };

  while (stop === null) {
    const rows = store.queuedVersions(server, DELIVERY_WINDOW);
    const excluded = new Set(
      rows.filter((r) => (tries.get(r.queueId) ?? 0) > config.maxRetries).map((r) => r.queueId),
    );
    const doubtful = rows.filter((r) => r.inDoubt && !excluded.has(r.queueId));
    if (doubtful.length > 0) {
      await verify(doubtful);
      continue;
    }
    const plan = planDelivery(rows, excluded);
    report.heldBack = plan.heldBack.length;
    if (plan.ordered.length === 0) {
      // Everything left failed too often in this flush: while the failures go on, that is an
      // unavailable server (breaker), not a finished flush.
      if (failStreak > 0 && lastFailure !== null) {
        const failure = lastFailure as Extract<RequestFailure, { kind: "unavailable" }>;
        stop = {
          reason: `server unavailable: ${failure.message}`,
          retryAfterSeconds: failure.retryAfterSeconds,
        };
      }
      break;
    }
    // The plan holds while every answer stores everything; anything else plans again.
    let rest = plan.ordered;
    while (rest.length > 0 && stop === null) {
      const single = singlesOnly || isolate.has(rest[0]!.queueId);
      const firstIsolated = rest.findIndex((r) => isolate.has(r.queueId));
      const n = single
        ? 1
        : batchLength(rest.slice(0, firstIsolated < 0 ? undefined : firstIsolated), pace.size);
      const clean = await sendBatch(rest.slice(0, n), single);
      rest = rest.slice(n);
      if (!clean) break;
    }
  }

  const stopped = stop as Stop | null;
  breaker = stopped
    ? nextBreaker(breaker, { ok: false, retryAfterSeconds: stopped.retryAfterSeconds }, deps.now())
    : report.requests > 0
    ? CLOSED
    : breaker;
  store.setMeta("breaker", JSON.stringify(breaker));
  store.setMeta(paceKey, JSON.stringify(pace));
  report.breaker = breaker;
  report.batchSize = pace.size;
  report.stopped = stopped ? stopped.reason : null;
  report.left = store.counts().outbox;
  if (report.deadLettered > 0) {
    deps.log({ level: "error", event: "dead_lettered", count: report.deadLettered });
  }
  await refreshAnalytics(store, server, http(baseTimeoutMs), touched, deps);
  return report;
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
 * Compaction and retention (src/store/code_maintenance.ts), while the flusher holds the lock: never on a
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
