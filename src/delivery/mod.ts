/**
 * Delivery to the Phase 4 API, the public face: the outbox drained into one server (requests
 * built from the store's rows, an order that keeps every edge on its node, batches paced to the
 * server, versions in doubt verified before a resend, a circuit breaker), the background flusher,
 * and its lock.
 *
 * - pure rules: `events.ts` (request shapes), `plan.ts` (order, batches, pace, backoff),
 *   `breaker.ts`, `phase4_answers.ts` (what an answer means)
 * - I/O: `client.ts` (the only network module), `flush.ts` + `flush_run.ts` +
 *   `version_lookup.ts` (one flush), `bodies.ts` (request bodies from the rows),
 *   `background.ts` (the flusher's process), `flusher.ts` (starting it), `lock.ts`,
 *   `start_policy.ts`
 *
 * A hook must not import this file: it would load the whole flush. The post hook imports
 * `lock.ts` and `start_policy.ts` only, and `flusher.ts` on demand when it starts a flusher.
 *
 * @module
 */

export { type BreakerState, CLOSED, parseBreaker } from "./breaker.ts";
export { buildLineageEvent, eventForVersion, type LineageEvent } from "./events.ts";
export { planDelivery, serverKey } from "./plan.ts";
export { queuedEventBodies, versionEventBodies, versionEventBody } from "./bodies.ts";
export { type FlushDeps, type FlushOptions, flushOutbox, type FlushReport } from "./flush.ts";
export { runBackgroundFlusher } from "./background.ts";
export { flusherCommand, startFlusher } from "./flusher.ts";
export { LOCK_FILE, tryFlusherLock, waitForFlusherLock } from "./lock.ts";
export { mayStartFlusher } from "./start_policy.ts";
