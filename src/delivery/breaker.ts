/**
 * The delivery circuit breaker's state machine (pure): after failed flushes the flusher stops
 * trying for a cool-down, persisted in the store so every process sees it. A module of its own
 * because the post hook consults it before deciding whether to load the flusher at all.
 *
 * @module
 */

/** The circuit breaker's persisted state. */
export interface BreakerState {
  /** Closed: requests go. Open: none until `openUntil`, then one flush probes (no third state). */
  state: "closed" | "open";
  /** Consecutive flushes that ended on a transient failure. */
  failures: number;
  /** When open: epoch ms after which one probe may go. */
  openUntil: number;
}

/** No cool-down, and no `Retry-After`, keeps the breaker open longer than this. */
export const MAX_COOL_DOWN_MS = 15 * 60_000;

/** A breaker that has seen no failure. */
export const CLOSED: BreakerState = { state: "closed", failures: 0, openUntil: 0 };

/**
 * May a flush send now? Closed: yes. Open: only once the cool-down is over (then as a probe). A
 * state open for longer than {@linkcode MAX_COOL_DOWN_MS} from now cannot have been set by the
 * current rules (an older release honoured any `Retry-After`): it allows a probe.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { breakerAllows } from "./breaker.ts";
 * assert.equal(breakerAllows({ state: "open", failures: 1, openUntil: 1000 }, 500), false);
 * assert.equal(breakerAllows({ state: "open", failures: 1, openUntil: 1000 }, 1000), true); // a probe
 * ```
 */
export function breakerAllows(b: BreakerState, nowMs: number): boolean {
  return b.state !== "open" || nowMs >= b.openUntil || b.openUntil - nowMs > MAX_COOL_DOWN_MS;
}

/**
 * Next breaker state after a flush round: success closes it; a transient failure opens it for a
 * cool-down that doubles with each consecutive failure (30 s up to 15 min), or for the server's
 * `Retry-After` when that is longer — never more than 15 minutes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLOSED, nextBreaker } from "./breaker.ts";
 * assert.deepEqual(nextBreaker(CLOSED, { ok: false, retryAfterSeconds: null }, 0), {
 *   state: "open",
 *   failures: 1,
 *   openUntil: 30_000,
 * });
 * ```
 */
export function nextBreaker(
  b: BreakerState,
  outcome: { ok: boolean; retryAfterSeconds: number | null },
  nowMs: number,
): BreakerState {
  if (outcome.ok) return CLOSED;
  const failures = b.failures + 1;
  const coolDown = 30_000 * 2 ** Math.min(failures - 1, 20);
  const wait = Math.max(coolDown, (outcome.retryAfterSeconds ?? 0) * 1000);
  return {
    state: "open",
    failures,
    openUntil: nowMs + Math.min(MAX_COOL_DOWN_MS, Number.isFinite(wait) ? wait : MAX_COOL_DOWN_MS),
  };
}

/**
 * Reads a persisted breaker state, tolerating garbage (then closed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBreaker } from "./breaker.ts";
 * assert.deepEqual(parseBreaker("garbage"), { state: "closed", failures: 0, openUntil: 0 });
 * ```
 */
export function parseBreaker(text: string | undefined): BreakerState {
  if (!text) return CLOSED;
  try {
    const b = JSON.parse(text) as Partial<BreakerState>;
    if (
      (b.state === "open" || b.state === "closed") &&
      typeof b.failures === "number" && typeof b.openUntil === "number"
    ) {
      return { state: b.state, failures: b.failures, openUntil: b.openUntil };
    }
  } catch { /* fall through */ }
  return CLOSED;
}
