/**
 * Pure decisions of delivery: the order in which queued versions go (so that every edge lands on
 * the right node of a server that finds a parent by pattern ID alone), where a batch must end,
 * how big batches are and how long to wait for them, backoff, and the key a server's deliveries
 * are recorded under. The network lives in `client.ts`, the circuit breaker in `breaker.ts`;
 * everything here is data in, data out.
 *
 * @module
 */

import type { QueuedVersion } from "../store/mod.ts";

/** Result of {@linkcode planDelivery}. */
export interface DeliveryPlan {
  /** Versions to send, in this order. */
  ordered: QueuedVersion[];
  /** Versions whose parent the server refused (a dead letter): they would attach to the wrong node. */
  heldBack: QueuedVersion[];
  /** Versions that wait for a parent not sendable in this flush (it failed too often, or lies beyond the window). */
  waiting: QueuedVersion[];
}

/**
 * Orders queued versions for a server that keeps one node per (pattern ID, version) but attaches a
 * modification to the *newest* node of its parent's pattern ID. Rules:
 *
 * - a version goes after its parent (the previous version of the same file);
 * - a file's versions go one after the other where possible, oldest file first;
 * - a version whose parent is the server's newest node of a pattern goes before any other node of
 *   that pattern (which would become the newest, and take the edge): "a node's children before
 *   another node of the same pattern ID". When two such demands contradict each other (content
 *   swapped between two files), the first in queue order wins;
 * - a version whose parent is a dead letter is held back, one whose parent cannot be sent now waits.
 *
 * `excluded`: queue IDs not to send in this flush (they failed too often); their descendants wait.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planDelivery } from "./plan.ts";
 * import type { QueuedVersion } from "../store/mod.ts";
 * const v = (queueId: number, versionId: number, filePath: string, version: number, patternId: string, parent: QueuedVersion | null): QueuedVersion => ({
 *   queueId, versionId, filePath, version, patternId, parentPatternId: parent?.patternId ?? null,
 *   parentVersionId: parent?.versionId ?? null, parentState: parent ? "queued" : "none",
 *   parentPatternVersions: 1, newestDeliveredOfParent: null, inDoubt: false, lastSentAt: null,
 *   legacyVersion: null, queuedAt: "", attempts: 0, lastError: null,
 * });
 * const a = v(1, 10, "/p/a.py", 1, "x", null);
 * const b = v(2, 20, "/p/b.py", 1, "x", null);
 * const a2 = v(3, 11, "/p/a.py", 2, "y", a);
 * assert.deepEqual(planDelivery([a, b, a2], new Set()).ordered.map((r) => r.queueId), [1, 3, 2]);
 * ```
 */
// One pass over the window with its comments on why each rule holds (a little over 80 lines).
export function planDelivery(
  rows: readonly QueuedVersion[],
  excluded: ReadonlySet<number>,
): DeliveryPlan {
  const heldBack: QueuedVersion[] = [];
  const waiting: QueuedVersion[] = [];
  // Segments: runs of sendable versions of one file, each after its parent.
  const byFile = new Map<string, QueuedVersion[]>();
  for (const r of rows) {
    const list = byFile.get(r.filePath);
    if (list) list.push(r);
    else byFile.set(r.filePath, [r]);
  }
  const segments: QueuedVersion[][] = [];
  for (const list of byFile.values()) {
    list.sort((a, b) => a.version - b.version);
    const status = new Map<number, "ok" | "held" | "waiting">();
    let segment: QueuedVersion[] = [];
    for (const r of list) {
      let s: "ok" | "held" | "waiting";
      if (excluded.has(r.queueId)) s = "waiting";
      else if (r.parentState === "dead") s = "held";
      else if (r.parentState === "queued") {
        s = status.get(r.parentVersionId as number) ?? "waiting"; // beyond the window: wait
      } else s = "ok";
      status.set(r.versionId, s);
      if (s === "ok") {
        if (segment.length > 0 && segment.at(-1)!.versionId !== r.parentVersionId) {
          segments.push(segment);
          segment = [];
        }
        segment.push(r);
      } else {
        (s === "held" ? heldBack : waiting).push(r);
        if (segment.length > 0) segments.push(segment);
        segment = [];
      }
    }
    if (segment.length > 0) segments.push(segment);
  }
  // Oldest queue entry first.
  const oldest = new Map(
    segments.map((seg) => [seg, seg.reduce((m, r) => Math.min(m, r.queueId), Infinity)]),
  );
  segments.sort((a, b) => oldest.get(a)! - oldest.get(b)!);

  // The newest node of each pattern, as far as this store knows, and who waits on it.
  const newest = new Map<string, number>();
  const unsentChildren = new Map<number, number>(); // parent version ID → unsent children
  for (const seg of segments) {
    for (const r of seg) {
      if (r.parentPatternId !== null && r.newestDeliveredOfParent !== null) {
        newest.set(r.parentPatternId, r.newestDeliveredOfParent);
      }
      if (r.parentVersionId !== null) {
        unsentChildren.set(r.parentVersionId, (unsentChildren.get(r.parentVersionId) ?? 0) + 1);
      }
    }
  }
  const ready = (r: QueuedVersion) => {
    const top = newest.get(r.patternId);
    return top === undefined || top === r.parentVersionId || !unsentChildren.get(top);
  };
  const ordered: QueuedVersion[] = [];
  const next = segments.map(() => 0);
  let current = -1;
  for (let left = segments.reduce((n, s) => n + s.length, 0); left > 0; left--) {
    let pick = -1;
    if (current >= 0 && next[current]! < segments[current]!.length) {
      if (ready(segments[current]![next[current]!]!)) pick = current;
    }
    if (pick < 0) {
      pick = segments.findIndex((s, i) => next[i]! < s.length && ready(s[next[i]!]!));
    }
    // Contradicting demands: the first in queue order goes (its rival's edge cannot be exact).
    if (pick < 0) pick = segments.findIndex((s, i) => next[i]! < s.length);
    const r = segments[pick]![next[pick]!]!;
    next[pick]!++;
    current = pick;
    ordered.push(r);
    newest.set(r.patternId, r.versionId);
    if (r.parentVersionId !== null) {
      unsentChildren.set(r.parentVersionId, (unsentChildren.get(r.parentVersionId) ?? 1) - 1);
    }
  }
  return { ordered, heldBack, waiting };
}

/**
 * How many of the planned versions (from the front) go in the next request. The server processes a
 * batch event by event and goes on after a failure, so a batch ends before:
 *
 * - a version whose parent is in the batch when the parent's pattern has several nodes: should the
 *   parent fail, the child would attach to another node of that pattern;
 * - a version of a pattern that an earlier version in the batch needs as its newest node: should
 *   that earlier version fail, its retry would attach to this one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchLength } from "./plan.ts";
 * assert.deepEqual(batchLength([], 100), 0);
 * ```
 */
export function batchLength(ordered: readonly QueuedVersion[], maxSize: number): number {
  const inBatch = new Set<number>();
  const guarded = new Set<string>();
  let n = 0;
  for (const r of ordered) {
    if (n >= maxSize) break;
    const ambiguous = r.parentPatternId !== null && r.parentPatternVersions > 1;
    if (n > 0) {
      if (ambiguous && r.parentVersionId !== null && inBatch.has(r.parentVersionId)) break;
      if (guarded.has(r.patternId)) break;
    }
    inBatch.add(r.versionId);
    if (ambiguous) guarded.add(r.parentPatternId as string);
    n++;
  }
  return n;
}

/** Batch size and the server's measured cost per event, adapted after every answer. */
export interface Pace {
  size: number;
  /** Milliseconds per event, smoothed; null before the first answer. */
  msPerEvent: number | null;
}

/** A request should take about this long; batches are sized for it. */
export const TARGET_REQUEST_MS = 5_000;
/** Allowance per event before the server's cost is known (the real server's own target is 50 ms). */
export const DEFAULT_MS_PER_EVENT = 50;

/**
 * The timeout of a request of `n` events: `timeout_seconds`, plus an allowance per event of three
 * times the measured cost (50 ms before anything is measured), so that large batches to a server
 * whose cost grows with history are not abandoned while it works.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestTimeoutMs } from "./plan.ts";
 * assert.deepEqual(requestTimeoutMs(100, { size: 100, msPerEvent: null }, 2000), 7000);
 * assert.deepEqual(requestTimeoutMs(100, { size: 100, msPerEvent: 36 }, 2000), 12800);
 * ```
 */
export function requestTimeoutMs(n: number, pace: Pace, baseMs: number): number {
  const perEvent = pace.msPerEvent === null
    ? DEFAULT_MS_PER_EVENT
    : Math.min(1_000, Math.max(5, 3 * pace.msPerEvent));
  return Math.round(baseMs + n * perEvent);
}

/**
 * The pace after an answer of `n` events in `latencyMs`: the cost per event is smoothed; after a
 * fast answer the batch size doubles (up to `maxSize` and to what fits the target duration), after
 * a slow one it shrinks to what fits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { paceAfterAnswer } from "./plan.ts";
 * assert.deepEqual(paceAfterAnswer({ size: 25, msPerEvent: null }, 25, 100, 100), { size: 50, msPerEvent: 4 });
 * ```
 */
export function paceAfterAnswer(pace: Pace, n: number, latencyMs: number, maxSize: number): Pace {
  const per = Math.max(0.01, latencyMs / Math.max(1, n));
  const msPerEvent = pace.msPerEvent === null ? per : (pace.msPerEvent + per) / 2;
  const fits = Math.max(1, Math.floor(TARGET_REQUEST_MS / msPerEvent));
  let size = pace.size;
  if (latencyMs < TARGET_REQUEST_MS / 2) size = Math.min(pace.size * 2, fits);
  else if (latencyMs > TARGET_REQUEST_MS) size = fits;
  return { size: clampSize(size, maxSize), msPerEvent: round2(msPerEvent) };
}

/**
 * The pace after a request of `n` events timed out: the next batch is half as big, and the cost
 * per event is at least what this one took.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { paceAfterTimeout } from "./plan.ts";
 * assert.deepEqual(paceAfterTimeout({ size: 100, msPerEvent: 10 }, 100, 7000), { size: 50, msPerEvent: 70 });
 * ```
 */
export function paceAfterTimeout(pace: Pace, n: number, timeoutMs: number): Pace {
  return {
    size: Math.max(1, Math.floor(n / 2)),
    msPerEvent: round2(Math.max(pace.msPerEvent ?? 0, timeoutMs / Math.max(1, n))),
  };
}

/**
 * Reads a persisted pace, tolerating garbage; the size is capped by `maxSize`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePace } from "./plan.ts";
 * assert.deepEqual(parsePace("garbage", 100), { size: 100, msPerEvent: null });
 * ```
 */
export function parsePace(text: string | undefined, maxSize: number): Pace {
  try {
    const p = JSON.parse(text ?? "") as Partial<Pace>;
    if (typeof p.size === "number" && p.size >= 1) {
      return {
        size: clampSize(p.size, maxSize),
        msPerEvent: typeof p.msPerEvent === "number" && p.msPerEvent > 0 ? p.msPerEvent : null,
      };
    }
  } catch { /* fall through */ }
  return { size: clampSize(maxSize, maxSize), msPerEvent: null };
}

function clampSize(size: number, maxSize: number): number {
  return Math.max(1, Math.min(Math.floor(size), Math.min(1000, Math.max(1, Math.floor(maxSize)))));
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * Backoff before retry `attempt` (1-based): exponential from `baseMs`, capped, with "full jitter"
 * between half and all of it, and never shorter than the server's `Retry-After` (already capped).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs } from "./plan.ts";
 * assert.deepEqual(backoffMs(3, { baseMs: 200, capMs: 10_000, random: () => 1, retryAfterSeconds: null }), 800);
 * assert.deepEqual(backoffMs(1, { baseMs: 200, capMs: 10_000, random: () => 0, retryAfterSeconds: 2 }), 2000);
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

/**
 * The key under which delivery to a server is recorded: the URL without a trailing slash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverKey } from "./plan.ts";
 * assert.equal(serverKey("http://localhost:8053/"), "http://localhost:8053");
 * ```
 */
export function serverKey(intelligenceUrl: string): string {
  const url = new URL(intelligenceUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
