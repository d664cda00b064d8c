/**
 * Pure decisions of delivery: causal order of the outbox, how to read the server's answers, backoff
 * with jitter, `Retry-After`, and the circuit breaker's state machine. The network lives in
 * `delivery.ts`; everything here is data in, data out.
 *
 * @module
 */

import type { OutboxRow } from "./store.ts";

/** Result of {@linkcode orderForDelivery}. */
export interface DeliveryOrder {
  /** Rows to send, each after all its parents. */
  ordered: OutboxRow[];
  /** Rows held back because a parent is in the dead-letter table (it would be refused). */
  heldBack: OutboxRow[];
}

/**
 * Orders pending events so that no event is sent before the server can know its parents: a parent
 * is satisfied when the server acknowledged it, when it is sent earlier in this order, or when we
 * never queued it at all (then the server alone can tell). Rows whose parent waits in the dead-letter
 * table are held back; rows whose parent is pending outside `pending` wait for a later round.
 *
 * @example
 * ```ts
 * import { orderForDelivery } from "./delivery_plan.ts";
 * const row = (id: number, p: string, parents: string[]) =>
 *   ({ id, patternId: p, patternVersion: "1.0.0", parentPatternIds: parents, body: "{}", createdAt: "", attempts: 0, lastError: null });
 * const { ordered } = orderForDelivery([row(1, "b", ["a"]), row(2, "a", [])], {
 *   acknowledged: () => false, dead: new Set(), pendingElsewhere: new Set(),
 * });
 * ordered.map((r) => r.patternId); // ["a", "b"]
 * ```
 */
export function orderForDelivery(
  pending: readonly OutboxRow[],
  known: {
    acknowledged: (patternId: string) => boolean;
    dead: ReadonlySet<string>;
    pendingElsewhere: ReadonlySet<string>;
  },
): DeliveryOrder {
  const inWindow = new Set(pending.map((r) => r.patternId));
  const emitted = new Set<string>();
  const ordered: OutboxRow[] = [];
  const heldBack: OutboxRow[] = [];
  let waiting = [...pending];
  // Repeated passes in ID order keep the original order wherever causality allows (Kahn's algorithm
  // with a stable queue); a pass that emits nothing leaves only rows that cannot go now.
  while (waiting.length > 0) {
    const next: OutboxRow[] = [];
    let progressed = false;
    for (const row of waiting) {
      const blocking = row.parentPatternIds.filter((p) =>
        !emitted.has(p) && !known.acknowledged(p) &&
        (inWindow.has(p) || known.pendingElsewhere.has(p) || known.dead.has(p))
      );
      if (blocking.length === 0) {
        ordered.push(row);
        emitted.add(row.patternId);
        progressed = true;
      } else {
        next.push(row);
      }
    }
    if (!progressed) {
      for (const row of next) {
        if (row.parentPatternIds.some((p) => known.dead.has(p) && !emitted.has(p))) {
          heldBack.push(row);
        }
      }
      break;
    }
    waiting = next;
  }
  return { ordered, heldBack };
}

/** How to treat a failure. */
export type FailureKind = "transient" | "permanent";

/**
 * Classifies an HTTP status: network trouble, timeouts, 408, 429 and 5xx are transient; other 4xx
 * are permanent (the same request would be refused again).
 *
 * @example
 * ```ts
 * import { classifyStatus } from "./delivery_plan.ts";
 * classifyStatus(429); // "transient"
 * classifyStatus(400); // "permanent"
 * ```
 */
export function classifyStatus(status: number): FailureKind {
  if (status === 408 || status === 429 || status >= 500) return "transient";
  return "permanent";
}

const TRANSIENT_MESSAGE =
  /time[d ]? ?out|timeout|database|connection|unavailable|temporar|try again|overload/i;

/**
 * Classifies one failed event of a batch answer from its message. A failure that names a parent
 * which this same request failed to deliver is transient: the parent will be retried first.
 *
 * @example
 * ```ts
 * import { classifyItemFailure } from "./delivery_plan.ts";
 * classifyItemFailure("Individual event timed out", ["a"], new Set()); // "transient"
 * classifyItemFailure("Parent pattern a not found", ["a"], new Set(["a"])); // "transient"
 * classifyItemFailure("invalid language", [], new Set()); // "permanent"
 * ```
 */
export function classifyItemFailure(
  message: string,
  parents: readonly string[],
  failedInRequest: ReadonlySet<string>,
): FailureKind {
  if (TRANSIENT_MESSAGE.test(message)) return "transient";
  if (parents.some((p) => failedInRequest.has(p))) return "transient";
  return "permanent";
}

/**
 * True when a success or failure message means the server already holds the event.
 *
 * @example
 * ```ts
 * import { isAlreadyExists } from "./delivery_plan.ts";
 * isAlreadyExists({ status: "already_exists" }); // true
 * ```
 */
export function isAlreadyExists(value: unknown): boolean {
  return /already[_ ]exists|duplicate|unique_violation/i.test(
    typeof value === "string" ? value : JSON.stringify(value ?? ""),
  );
}

/**
 * Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), or null.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "./delivery_plan.ts";
 * parseRetryAfter("3", 0); // 3
 * parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 0); // 10
 * parseRetryAfter("soon", 0); // null
 * ```
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === "") return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, (at - nowMs) / 1000);
}

/**
 * Backoff before retry `attempt` (1-based): exponential from `baseMs`, capped, with "full jitter"
 * between half and all of it, and never shorter than the server's `Retry-After`.
 *
 * @example
 * ```ts
 * import { backoffMs } from "./delivery_plan.ts";
 * backoffMs(3, { baseMs: 200, capMs: 10_000, random: () => 1, retryAfterSeconds: null }); // 800
 * backoffMs(1, { baseMs: 200, capMs: 10_000, random: () => 0, retryAfterSeconds: 2 }); // 2000
 * ```
 */
export function backoffMs(
  attempt: number,
  o: { baseMs: number; capMs: number; random: () => number; retryAfterSeconds: number | null },
): number {
  const exponential = Math.min(o.capMs, o.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + (exponential / 2) * o.random();
  return Math.round(Math.max(jittered, (o.retryAfterSeconds ?? 0) * 1000));
}

// The breaker lives in its own small module so a hook can consult it without loading this one.
export { breakerAllows, type BreakerState, CLOSED, nextBreaker, parseBreaker } from "./breaker.ts";

/**
 * Splits rows into batches of at most `size` (capped at the server's 1000).
 *
 * @example
 * ```ts
 * import { chunk } from "./delivery_plan.ts";
 * chunk([1, 2, 3], 2); // [[1, 2], [3]]
 * ```
 */
export function chunk<T>(rows: readonly T[], size: number): T[][] {
  const n = Math.max(1, Math.min(1000, Math.floor(size)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += n) out.push(rows.slice(i, i + n));
  return out;
}
