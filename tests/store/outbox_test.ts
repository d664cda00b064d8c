/** `src/store/outbox.ts`: the outbox as delivery reads and marks it, one behaviour per test. */
import assert from "node:assert/strict";
import { addVersion, freshStore } from "./support.ts";

const SERVER = "http://127.0.0.1:8053";
const AT = "2026-11-25T10:00:01.000Z";

Deno.test("queued versions come out in the order they were queued", () => {
  const { store, done } = freshStore();
  const first = addVersion(store, "/p/a.py", "aaaaaaaaaaaaaaaa", "a = 1\n");
  const second = addVersion(store, "/p/b.py", "bbbbbbbbbbbbbbbb", "b = 1\n");
  store.enqueueVersion(first, AT);
  store.enqueueVersion(second, AT);
  assert.deepEqual(store.queuedVersions(SERVER, 10).map((q) => q.versionId), [first, second]);
  done();
});

Deno.test("a delivered version leaves the outbox and stands as delivered to that server only", () => {
  const { store, done } = freshStore();
  const id = addVersion(store, "/p/a.py", "aaaaaaaaaaaaaaaa", "a = 1\n");
  store.enqueueVersion(id, AT);
  const [queued] = store.queuedVersions(SERVER, 10);
  store.markDelivered(SERVER, [queued!.queueId], AT);
  assert.equal(store.queuedVersions(SERVER, 10).length, 0);
  assert.equal(store.versionStanding(SERVER, id), "delivered");
  assert.equal(store.versionStanding("http://other:8053", id), "none");
  done();
});

Deno.test("a failure in doubt is remembered on the queued version, with its error", () => {
  const { store, done } = freshStore();
  const id = addVersion(store, "/p/a.py", "aaaaaaaaaaaaaaaa", "a = 1\n");
  store.enqueueVersion(id, AT);
  const [queued] = store.queuedVersions(SERVER, 10);
  store.markFailed([queued!.queueId], "timed out", true);
  const [again] = store.queuedVersions(SERVER, 10);
  assert.equal(again!.inDoubt, true);
  assert.equal(again!.lastError, "timed out");
  assert.equal(again!.attempts, 1);
  done();
});

Deno.test("a queued modification names its queued parent, which goes first", () => {
  const { store, done } = freshStore();
  const parent = addVersion(store, "/p/a.py", "aaaaaaaaaaaaaaaa", "a = 1\n");
  const child = addVersion(store, "/p/a.py", "cccccccccccccccc", "a = 2\n", "aaaaaaaaaaaaaaaa");
  store.enqueueVersion(parent, AT);
  store.enqueueVersion(child, AT);
  const queued = store.queuedVersions(SERVER, 10);
  assert.equal(queued[1]!.parentPatternId, "aaaaaaaaaaaaaaaa");
  assert.equal(queued[1]!.parentState, "queued");
  done();
});
