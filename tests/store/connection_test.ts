/** `src/store/connection.ts`: the tool calls both hooks record, one behaviour per test. */
import assert from "node:assert/strict";
import { freshStore } from "./support.ts";

const INTENT = {
  toolUseId: "toolu_1",
  sessionId: "s",
  toolName: "Edit",
  filePath: "/p/a.py",
  correlationId: "c1",
  startedAt: "2026-11-25T10:00:00.000Z",
  beforePatternId: null,
};

const OUTCOME = {
  toolUseId: "toolu_1",
  sessionId: "s",
  toolName: "Edit",
  filePath: "/p/a.py",
  correlationId: "c2",
  startedAt: null,
  finishedAt: "2026-11-25T10:00:01.000Z",
  durationMs: 1000,
  success: true,
  error: null,
  linesAdded: 1,
  linesRemoved: 0,
  beforePatternId: null,
  patternId: "aaaaaaaaaaaaaaaa",
};

Deno.test("a second intent for a call still waiting for its outcome is ignored", () => {
  const { store, done } = freshStore();
  assert.equal(store.insertIntent(INTENT), true);
  assert.equal(store.insertIntent({ ...INTENT, correlationId: "other" }), false);
  assert.equal(store.execution("s", "toolu_1")?.correlationId, "c1");
  done();
});

Deno.test("an outcome fills the waiting intent, keeping its start time and correlation ID", () => {
  const { store, done } = freshStore();
  store.insertIntent(INTENT);
  store.finishExecution({ ...OUTCOME, correlationId: "c1" });
  const call = store.execution("s", "toolu_1");
  assert.equal(call?.startedAt, INTENT.startedAt);
  assert.equal(call?.finishedAt, OUTCOME.finishedAt);
  assert.equal(call?.patternId, "aaaaaaaaaaaaaaaa");
  done();
});

Deno.test("after a finished call, the same tool_use_id starts a new call", () => {
  const { store, done } = freshStore();
  store.insertIntent(INTENT);
  store.finishExecution(OUTCOME);
  assert.equal(store.insertIntent({ ...INTENT, correlationId: "c3" }), true);
  assert.equal(store.execution("s", "toolu_1")?.correlationId, "c3");
  done();
});

Deno.test("status values are kept under their key and replaced when set again", () => {
  const { store, done } = freshStore();
  store.setMeta("k", "1");
  store.setMeta("k", "2");
  assert.equal(store.meta("k"), "2");
  assert.equal(store.meta("absent"), undefined);
  done();
});
