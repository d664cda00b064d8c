import assert from "node:assert/strict";
import { breakerAllows, CLOSED, nextBreaker, parseBreaker } from "../src/delivery/breaker.ts";
import {
  backoffMs,
  batchLength,
  paceAfterAnswer,
  paceAfterTimeout,
  parsePace,
  planDelivery,
  requestTimeoutMs,
  TARGET_REQUEST_MS,
} from "../src/delivery/plan.ts";
import type { ParentState, QueuedVersion } from "../src/store/mod.ts";

let nextVersionId = 1;

/** A queued version; `parent` is the version before it in the same file. */
function queued(
  queueId: number,
  filePath: string,
  version: number,
  patternId: string,
  parent: QueuedVersion | { versionId: number; patternId: string; state: ParentState } | null,
  extra: Partial<QueuedVersion> = {},
): QueuedVersion {
  return {
    queueId,
    versionId: nextVersionId++,
    filePath,
    version,
    patternId,
    parentPatternId: parent?.patternId ?? null,
    parentVersionId: parent?.versionId ?? null,
    parentState: parent === null ? "none" : "state" in parent ? parent.state : "queued",
    parentPatternVersions: 1,
    newestDeliveredOfParent: null,
    inDoubt: false,
    lastSentAt: null,
    legacyVersion: null,
    queuedAt: "",
    attempts: 0,
    lastError: null,
    ...extra,
  };
}

const ids = (rows: readonly QueuedVersion[]) => rows.map((r) => r.queueId);

Deno.test("planDelivery keeps queue order when it is already causal, and sends each file's versions together", () => {
  const a1 = queued(1, "/a.py", 1, "a1", null);
  const b1 = queued(2, "/b.py", 1, "b1", null);
  const a2 = queued(3, "/a.py", 2, "a2", a1);
  const b2 = queued(4, "/b.py", 2, "b2", b1);
  const { ordered, heldBack, waiting } = planDelivery([a1, b1, a2, b2], new Set());
  assert.deepEqual(ids(ordered), [1, 3, 2, 4]);
  assert.equal(heldBack.length + waiting.length, 0);
});

Deno.test("planDelivery puts a parent queued later (a restored ancestor) before its child", () => {
  const a1 = queued(9, "/a.py", 1, "a1", null);
  const a2 = queued(3, "/a.py", 2, "a2", a1);
  const a3 = queued(4, "/a.py", 3, "a3", a2);
  assert.deepEqual(ids(planDelivery([a2, a3, a1], new Set()).ordered), [9, 3, 4]);
});

Deno.test("planDelivery holds back the descendants of a dead letter, and lets other files go", () => {
  const dead = { versionId: 500, patternId: "a1", state: "dead" as const };
  const a2 = queued(1, "/a.py", 2, "a2", dead);
  const a3 = queued(2, "/a.py", 3, "a3", a2);
  const x = queued(3, "/x.py", 1, "x", null);
  const { ordered, heldBack } = planDelivery([a2, a3, x], new Set());
  assert.deepEqual(ids(ordered), [3]);
  assert.deepEqual(ids(heldBack), [1, 2]);
});

Deno.test("planDelivery: descendants of a version excluded from this flush wait; a parent already delivered or unknown does not block", () => {
  const a1 = queued(1, "/a.py", 1, "a1", null);
  const a2 = queued(2, "/a.py", 2, "a2", a1);
  const b2 = queued(3, "/b.py", 2, "b2", { versionId: 600, patternId: "b1", state: "delivered" });
  const c2 = queued(4, "/c.py", 2, "c2", { versionId: 700, patternId: "c1", state: "unknown" });
  const { ordered, waiting } = planDelivery([a1, a2, b2, c2], new Set([1]));
  assert.deepEqual(ids(ordered), [3, 4]);
  assert.deepEqual(ids(waiting), [1, 2]);
});

Deno.test("planDelivery: a parent queued beyond the window makes its child wait", () => {
  const a2 = queued(1, "/a.py", 2, "a2", { versionId: 800, patternId: "a1", state: "queued" });
  assert.deepEqual(ids(planDelivery([a2], new Set()).waiting), [1]);
});

Deno.test("planDelivery: the child of the server's newest node of a pattern goes before another node of that pattern", () => {
  // /f.py v1 (content X) is on the server; /g.py v1 gets the same content X, queued first; then
  // /f.py v2 (child of X). Sending /g.py v1 first would give /f.py v2 the wrong parent node.
  const fX = { versionId: 900, patternId: "X", state: "delivered" as const };
  const gX = queued(1, "/g.py", 1, "X", null);
  const fY = queued(2, "/f.py", 2, "Y", fX, {
    parentPatternVersions: 2,
    newestDeliveredOfParent: 900,
  });
  assert.deepEqual(ids(planDelivery([gX, fY], new Set()).ordered), [2, 1]);
});

Deno.test("planDelivery: a revert inside one file keeps the chain order (each child right after its parent)", () => {
  const a1 = queued(1, "/r.py", 1, "A", null);
  const b2 = queued(2, "/r.py", 2, "B", a1, { parentPatternVersions: 2 });
  const a3 = queued(3, "/r.py", 3, "A", b2);
  const c4 = queued(4, "/r.py", 4, "C", a3, { parentPatternVersions: 2 });
  assert.deepEqual(ids(planDelivery([a1, b2, a3, c4], new Set()).ordered), [1, 2, 3, 4]);
});

Deno.test("planDelivery: two files with the same content, interleaved in the queue, go file by file", () => {
  const f1 = queued(1, "/f.py", 1, "X", null);
  const g1 = queued(2, "/g.py", 1, "X", null);
  const f2 = queued(3, "/f.py", 2, "Y", f1, { parentPatternVersions: 2 });
  const g2 = queued(4, "/g.py", 2, "Z", g1, { parentPatternVersions: 2 });
  assert.deepEqual(ids(planDelivery([f1, g1, f2, g2], new Set()).ordered), [1, 3, 2, 4]);
});

Deno.test("planDelivery: contradicting demands (content swapped between two files) still send everything", () => {
  const fX = { versionId: 1001, patternId: "X", state: "delivered" as const };
  const gY = { versionId: 1002, patternId: "Y", state: "delivered" as const };
  const fY = queued(1, "/f.py", 2, "Y", fX, {
    parentPatternVersions: 2,
    newestDeliveredOfParent: 1001,
  });
  const gX = queued(2, "/g.py", 2, "X", gY, {
    parentPatternVersions: 2,
    newestDeliveredOfParent: 1002,
  });
  assert.deepEqual(ids(planDelivery([fY, gX], new Set()).ordered), [1, 2]);
});

Deno.test("batchLength ends a batch before a child whose parent's pattern has several nodes, and before a node another version needs as newest", () => {
  const a1 = queued(1, "/r.py", 1, "A", null);
  const b2 = queued(2, "/r.py", 2, "B", a1, { parentPatternVersions: 2 });
  const a3 = queued(3, "/r.py", 3, "A", b2);
  const c4 = queued(4, "/r.py", 4, "C", a3, { parentPatternVersions: 2 });
  const order = [a1, b2, a3, c4];
  assert.equal(batchLength(order, 100), 1, "b2 waits for a1's answer");
  assert.equal(
    batchLength(order.slice(1), 100),
    1,
    "a3 would become the newest A while b2 is unconfirmed",
  );
  assert.equal(batchLength(order.slice(2), 100), 1, "c4 waits for a3's answer");
  const plain = [queued(5, "/p.py", 1, "P", null)];
  plain.push(queued(6, "/p.py", 2, "Q", plain[0]!), queued(7, "/p.py", 3, "R", null));
  assert.equal(batchLength(plain, 100), 3);
  assert.equal(batchLength(plain, 2), 2);
  assert.equal(batchLength([], 100), 0);
});

Deno.test("timeouts scale with the batch and the measured cost per event", () => {
  assert.equal(requestTimeoutMs(1, { size: 100, msPerEvent: null }, 2000), 2050);
  assert.equal(requestTimeoutMs(100, { size: 100, msPerEvent: null }, 2000), 7000);
  assert.equal(requestTimeoutMs(100, { size: 100, msPerEvent: 36 }, 2000), 12800);
  assert.equal(
    requestTimeoutMs(100, { size: 100, msPerEvent: 0.1 }, 2000),
    2500,
    "at least 5 ms each",
  );
});

Deno.test("the batch size halves on a timeout and grows back after fast answers, up to batch_size", () => {
  let pace = paceAfterTimeout({ size: 100, msPerEvent: 10 }, 100, 7000);
  assert.deepEqual(pace, { size: 50, msPerEvent: 70 });
  pace = paceAfterTimeout(pace, 50, 12_000);
  assert.equal(pace.size, 25);
  const sizes: number[] = [];
  for (let i = 0; i < 6; i++) {
    pace = paceAfterAnswer(pace, pace.size, pace.size * 2, 100); // 2 ms per event: fast
    sizes.push(pace.size);
  }
  // The cost measured by the timeouts fades as fast answers come in: back to 100 within four.
  assert.ok(sizes.every((n, i) => i === 0 || n >= sizes[i - 1]!), `sizes ${sizes}`);
  assert.ok(sizes[0]! > 25 && sizes[3] === 100, `sizes ${sizes}`);
  assert.ok(pace.msPerEvent! < 10);
  // A slow answer shrinks the size to what fits the target duration.
  const slow = paceAfterAnswer({ size: 100, msPerEvent: 36 }, 100, 7200, 100);
  assert.equal(slow.size, Math.floor(TARGET_REQUEST_MS / 54));
  assert.deepEqual(parsePace('{"size":500,"msPerEvent":3}', 100), { size: 100, msPerEvent: 3 });
  assert.deepEqual(parsePace("garbage", 100), { size: 100, msPerEvent: null });
});

Deno.test("backoffMs grows exponentially, is capped, jittered, and honours Retry-After", () => {
  const o = { baseMs: 200, capMs: 5000, retryAfterSeconds: null };
  assert.equal(backoffMs(1, { ...o, random: () => 1 }), 200);
  assert.equal(backoffMs(3, { ...o, random: () => 1 }), 800);
  assert.equal(backoffMs(3, { ...o, random: () => 0 }), 400);
  assert.equal(backoffMs(20, { ...o, random: () => 1 }), 5000);
  assert.equal(backoffMs(1, { ...o, random: () => 0, retryAfterSeconds: 3 }), 3000);
});

Deno.test("breaker opens with doubling cool-down, allows a probe after it, closes on success; nothing keeps it open past 15 minutes", () => {
  const t0 = 1_000_000;
  const b1 = nextBreaker(CLOSED, { ok: false, retryAfterSeconds: null }, t0);
  assert.equal(b1.state, "open");
  assert.equal(b1.openUntil, t0 + 30_000);
  assert.equal(breakerAllows(b1, t0 + 1000), false);
  assert.equal(breakerAllows(b1, t0 + 30_000), true);
  const b2 = nextBreaker(b1, { ok: false, retryAfterSeconds: null }, t0);
  assert.equal(b2.openUntil, t0 + 60_000);
  let b = b2;
  for (let i = 0; i < 40; i++) b = nextBreaker(b, { ok: false, retryAfterSeconds: null }, t0);
  assert.equal(b.openUntil, t0 + 15 * 60_000);
  const huge = nextBreaker(CLOSED, { ok: false, retryAfterSeconds: 99_999_999_999 }, t0);
  assert.equal(huge.openUntil, t0 + 15 * 60_000);
  assert.deepEqual(nextBreaker(b2, { ok: true, retryAfterSeconds: null }, t0), CLOSED);
  // A state parked for centuries by an older release lets a probe through.
  assert.equal(
    breakerAllows({ state: "open", failures: 1, openUntil: 101_000_000_000_000 }, t0),
    true,
  );
});

Deno.test("parseBreaker tolerates garbage", () => {
  assert.deepEqual(parseBreaker(undefined), CLOSED);
  assert.deepEqual(parseBreaker("{"), CLOSED);
  assert.deepEqual(parseBreaker('{"state":"weird"}'), CLOSED);
  const b = { state: "open", failures: 2, openUntil: 5 };
  assert.deepEqual(parseBreaker(JSON.stringify(b)), b);
});
