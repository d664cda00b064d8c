/** `src/record/payload.ts`: what a hook makes of the bytes Claude Code sends, one behaviour per test. */
import assert from "node:assert/strict";
import { parseHookPayload } from "../../src/record/payload.ts";

Deno.test("a payload that is not JSON is invalid, with the reason", () => {
  const parsed = parseHookPayload("{not json");
  assert.equal(parsed.kind, "invalid");
});

Deno.test("a tool the tracker does not track is ignored", () => {
  const parsed = parseHookPayload(
    JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: {} }),
  );
  assert.equal(parsed.kind, "ignored");
});

Deno.test("a PreToolUse of Write is an intent for that file", () => {
  const parsed = parseHookPayload(JSON.stringify({
    hook_event_name: "PreToolUse",
    tool_name: "Write",
    tool_use_id: "toolu_1",
    session_id: "s",
    tool_input: { file_path: "/p/a.py", content: "x = 1\n" },
  }));
  assert.equal(parsed.kind, "intent");
  if (parsed.kind === "intent") assert.equal(parsed.filePath, "/p/a.py");
});
