import assert from "node:assert/strict";
import {
  backoffMs,
  breakerAllows,
  chunk,
  classifyItemFailure,
  classifyStatus,
  CLOSED,
  isAlreadyExists,
  nextBreaker,
  orderForDelivery,
  parseBreaker,
  parseRetryAfter,
} from "../src/delivery_plan.ts";
import { readBatchAnswer } from "../src/delivery.ts";
import type { OutboxRow } from "../src/store.ts";

function row(id: number, patternId: string, parents: string[] = []): OutboxRow {
  return {
    id,
    patternId,
    patternVersion: "1.0.0",
    parentPatternIds: parents,
    body: "{}",
    createdAt: "",
    attempts: 0,
    lastError: null,
  };
}

const nothingKnown = {
  acknowledged: () => false,
  dead: new Set<string>(),
  pendingElsewhere: new Set<string>(),
};

Deno.test("orderForDelivery keeps ID order when it is already causal", () => {
  const { ordered, heldBack } = orderForDelivery([
    row(1, "a"),
    row(2, "b", ["a"]),
    row(3, "c", ["b"]),
  ], nothingKnown);
  assert.deepEqual(ordered.map((r) => r.id), [1, 2, 3]);
  assert.equal(heldBack.length, 0);
});

Deno.test("orderForDelivery moves a child after a parent queued later", () => {
  const { ordered } = orderForDelivery([
    row(1, "c", ["b"]),
    row(2, "x"),
    row(3, "b", ["a"]),
    row(4, "a"),
  ], nothingKnown);
  const pos = (p: string) => ordered.findIndex((r) => r.patternId === p);
  assert.equal(ordered.length, 4);
  assert.ok(pos("a") < pos("b") && pos("b") < pos("c"));
});

Deno.test("orderForDelivery treats acknowledged and never-queued parents as satisfied", () => {
  const { ordered } = orderForDelivery([row(1, "b", ["a"]), row(2, "d", ["zzz"])], {
    ...nothingKnown,
    acknowledged: (p) => p === "a",
  });
  assert.deepEqual(ordered.map((r) => r.id), [1, 2]);
});

Deno.test("orderForDelivery holds back children of a dead-lettered parent, and their children", () => {
  const { ordered, heldBack } = orderForDelivery([
    row(1, "b", ["a"]),
    row(2, "c", ["b"]),
    row(3, "x"),
  ], {
    ...nothingKnown,
    dead: new Set(["a"]),
  });
  assert.deepEqual(ordered.map((r) => r.id), [3]);
  assert.deepEqual(heldBack.map((r) => r.id), [1]);
});

Deno.test("orderForDelivery waits for a parent pending outside the window", () => {
  const { ordered } = orderForDelivery([row(1, "b", ["a"]), row(2, "y")], {
    ...nothingKnown,
    pendingElsewhere: new Set(["a"]),
  });
  assert.deepEqual(ordered.map((r) => r.id), [2]);
});

Deno.test("classifyStatus: 408, 429 and 5xx are transient, other 4xx permanent", () => {
  for (const s of [408, 429, 500, 502, 503, 504]) {
    assert.equal(classifyStatus(s), "transient", String(s));
  }
  for (const s of [400, 401, 403, 404, 409, 413, 422]) {
    assert.equal(classifyStatus(s), "permanent", String(s));
  }
});

Deno.test("classifyItemFailure: timeouts transient; parent failing in the same request transient; else permanent", () => {
  assert.equal(classifyItemFailure("Individual event timed out", [], new Set()), "transient");
  assert.equal(
    classifyItemFailure("Database connection not available", [], new Set()),
    "transient",
  );
  assert.equal(classifyItemFailure("parent pattern a unknown", ["a"], new Set(["a"])), "transient");
  assert.equal(classifyItemFailure("parent pattern a unknown", ["a"], new Set()), "permanent");
});

Deno.test("isAlreadyExists reads the server's duplicate answers", () => {
  assert.ok(isAlreadyExists({ status: "already_exists" }));
  assert.ok(isAlreadyExists("duplicate key"));
  assert.ok(!isAlreadyExists({ status: "created" }));
  assert.ok(!isAlreadyExists(undefined));
});

Deno.test("parseRetryAfter reads seconds and HTTP dates", () => {
  assert.equal(parseRetryAfter("7", 0), 7);
  assert.equal(parseRetryAfter(new Date(5000).toUTCString(), 1000), 4);
  assert.equal(parseRetryAfter(null, 0), null);
  assert.equal(parseRetryAfter("later", 0), null);
});

Deno.test("backoffMs grows exponentially, is capped, jittered, and honours Retry-After", () => {
  const o = { baseMs: 100, capMs: 1000, retryAfterSeconds: null };
  assert.equal(backoffMs(1, { ...o, random: () => 1 }), 100);
  assert.equal(backoffMs(2, { ...o, random: () => 1 }), 200);
  assert.equal(backoffMs(3, { ...o, random: () => 0 }), 200); // jitter: half of 400
  assert.equal(backoffMs(10, { ...o, random: () => 1 }), 1000);
  assert.equal(backoffMs(1, { ...o, random: () => 1, retryAfterSeconds: 3 }), 3000);
});

Deno.test("breaker opens with doubling cool-down, allows a probe after it, closes on success", () => {
  const b1 = nextBreaker(CLOSED, { ok: false, retryAfterSeconds: null }, 1000);
  assert.deepEqual(b1, { state: "open", failures: 1, openUntil: 31_000 });
  assert.ok(!breakerAllows(b1, 30_999));
  assert.ok(breakerAllows(b1, 31_000));
  const b2 = nextBreaker(b1, { ok: false, retryAfterSeconds: null }, 31_000);
  assert.equal(b2.openUntil, 31_000 + 60_000);
  const b3 = nextBreaker(b2, { ok: false, retryAfterSeconds: 600 }, 0);
  assert.equal(b3.openUntil, 600_000);
  assert.deepEqual(nextBreaker(b3, { ok: true, retryAfterSeconds: null }, 0), CLOSED);
  assert.equal(
    nextBreaker({ state: "open", failures: 50, openUntil: 0 }, {
      ok: false,
      retryAfterSeconds: null,
    }, 0).openUntil,
    15 * 60_000,
  );
});

Deno.test("parseBreaker tolerates garbage", () => {
  assert.deepEqual(parseBreaker(undefined), CLOSED);
  assert.deepEqual(parseBreaker("{"), CLOSED);
  assert.deepEqual(parseBreaker('{"state":"weird","failures":1,"openUntil":2}'), CLOSED);
  assert.deepEqual(parseBreaker('{"state":"open","failures":1,"openUntil":2}'), {
    state: "open",
    failures: 1,
    openUntil: 2,
  });
});

Deno.test("chunk caps batches at 1000", () => {
  assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.equal(chunk(Array.from({ length: 2500 }, (_, i) => i), 5000).length, 3);
});

Deno.test("readBatchAnswer honours per-event results and retries what the answer omits", () => {
  const rows = [row(10, "a"), row(11, "b", ["a"]), row(12, "c"), row(13, "d")];
  const items = readBatchAnswer({
    successful_results: [{ event_index: 0, data: { status: "created" } }, {
      event_index: 3,
      data: { status: "already_exists" },
    }],
    failed_results: [{ event_index: 1, error: "invalid transformation" }],
  }, rows);
  assert.deepEqual(items.get(10), { kind: "delivered", alreadyExisted: false });
  assert.deepEqual(items.get(11), { kind: "permanent", message: "invalid transformation" });
  assert.equal(items.get(12)?.kind, "transient");
  assert.deepEqual(items.get(13), { kind: "delivered", alreadyExisted: true });
});
