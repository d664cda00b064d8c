/** `src/record/records.ts` with `change.ts`: shaping a hook's input and writing it, one behaviour per test. */
import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";
import { parseHookObject, type ToolChange } from "../../src/record/payload.ts";
import { commitRecord, shapeRecord } from "../../src/record/records.ts";
import { freshStore } from "../store/support.ts";

const RULES = { ...defaultConfig("/h"), storeCode: true, redactSecrets: true };

function write(toolUseId: string, content: string): ToolChange {
  const parsed = parseHookObject({
    hook_event_name: "PostToolUse",
    tool_name: "Write",
    tool_use_id: toolUseId,
    session_id: "s",
    tool_input: { file_path: "/p/a.py", content },
    tool_response: { type: "create", content, originalFile: null, structuredPatch: [] },
  });
  if (parsed.kind !== "change") throw new Error(`parsed as ${parsed.kind}`);
  return parsed;
}

Deno.test("a Write's record carries the pattern ID of the real content and its redacted code", async () => {
  const content = 'token = "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + '"\n';
  const record = await shapeRecord(RULES, write("toolu_1", content));
  assert.equal(record.kind, "change");
  if (record.kind !== "change") return;
  assert.match(record.after.id, /^[0-9a-f]{16}$/);
  assert.ok(record.after.code?.includes("[REDACTED:"), record.after.code ?? "");
  assert.equal(record.after.redactedSecrets, 1);
});

Deno.test("the same PostToolUse written twice is recorded once", async () => {
  const { store, done } = freshStore();
  const record = await shapeRecord(RULES, write("toolu_2", "x = 1\n"));
  const first = store.immediate(() => commitRecord(store, record, { queue: true }));
  const second = store.immediate(() => commitRecord(store, record, { queue: true }));
  assert.equal(first.kind, "recorded");
  assert.deepEqual(second, { kind: "duplicate", toolUseId: "toolu_2" });
  done();
});

Deno.test("a Write of a new file is version 1, created, and queued for delivery", async () => {
  const { store, done } = freshStore();
  const record = await shapeRecord(RULES, write("toolu_3", "x = 1\n"));
  const outcome = store.immediate(() => commitRecord(store, record, { queue: true }));
  assert.equal(outcome.kind, "recorded");
  if (outcome.kind !== "recorded") return;
  assert.equal(outcome.versions[0]?.version, 1);
  assert.equal(outcome.versions[0]?.eventType, "pattern_created");
  assert.equal(store.outboxCounts().queued, 1);
  done();
});
