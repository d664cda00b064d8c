/** The pure part of the prompt hook (src/record/prompt_intent.ts) and the intent scores it stores. */
import assert from "node:assert/strict";
import { parsePromptPayload, promptRecord } from "../src/record/prompt_intent.ts";
import { redactSecrets } from "../src/record/secrets.ts";
import {
  CLASSIFIER_LABELS,
  explainTransformation,
  intentLabel,
  intentModelId,
  intentModelIdOf,
  intentScores,
} from "../src/record/transformation.ts";
import { INTENT_TABLE } from "../src/record/intent_weights.ts";
import { WEIGHTS } from "../src/record/transformation_weights.ts";

const FIXTURE = Deno.readTextFileSync(
  new URL("./fixtures/10-user-prompt-submit.json", import.meta.url),
);
// A made-up key of a real provider's shape (see tests/secret_fixtures.ts for why such samples live
// in tests).
const SECRET = "sk-ant-api03-" + "Zq7".repeat(30) + "AA";

Deno.test("prompt payload: Claude Code 2.1.330's UserPromptSubmit is read with its session and prompt IDs", () => {
  assert.deepEqual(parsePromptPayload(FIXTURE), {
    kind: "prompt",
    sessionId: "39d0aa4d-8a01-4d35-ac26-e61eb6ded8fc",
    promptId: "bd3db3e9-b5e4-4862-a819-c3eb38ef7b93",
    prompt: "fix the crash when the list is empty",
  });
  // Without the optional IDs, and with an empty session ID.
  assert.deepEqual(
    parsePromptPayload('{"hook_event_name":"UserPromptSubmit","session_id":"","prompt":""}'),
    { kind: "prompt", sessionId: null, promptId: null, prompt: "" },
  );
});

Deno.test("prompt payload: other events are ignored; unreadable payloads are described without their words", () => {
  assert.equal(parsePromptPayload('{"hook_event_name":"Stop"}').kind, "ignored");
  const cases: [string, string][] = [
    [`{"prompt": "${SECRET}`, "payload is not JSON"],
    [`["${SECRET}"]`, "payload is an array, not a JSON object"],
    ['"text"', "payload is a string, not a JSON object"],
    ['{"hook_event_name":"UserPromptSubmit"}', "prompt is missing"],
    ['{"hook_event_name":"UserPromptSubmit","prompt":["x"]}', "prompt is an array, not a string"],
  ];
  for (const [payload, expected] of cases) {
    const parsed = parsePromptPayload(payload);
    assert.equal(parsed.kind, "invalid", payload);
    if (parsed.kind !== "invalid") continue;
    assert.ok(parsed.error.startsWith(expected), parsed.error);
    assert.ok(!parsed.error.includes("Zq7"), "the error never quotes the payload");
  }
});

Deno.test("prompt record: by default the label and scores only, never the text", () => {
  const at = "2026-11-25T10:00:00.000Z";
  const parsed = parsePromptPayload(FIXTURE);
  assert.equal(parsed.kind, "prompt");
  if (parsed.kind !== "prompt") return;
  const r = promptRecord(parsed, at, { storePrompts: false, maxBytes: 1 << 20, redact: null });
  assert.equal(r.text, null);
  assert.equal(r.intentLabel, "bugfix");
  assert.equal(r.intentScores?.length, CLASSIFIER_LABELS.length);
  assert.equal(r.intentModel, intentModelId());
  assert.equal(r.submittedAt, at);
  assert.ok(!JSON.stringify(r).includes("crash"), "nothing of the words but numbers and a label");
});

Deno.test("prompt record: with store_prompts the text is kept redacted, not over the size cap, and follows redact_secrets", () => {
  const prompt = `add a --verbose flag; test it with ${SECRET} please`;
  const submission = { kind: "prompt" as const, sessionId: "s", promptId: "p", prompt };
  const kept = promptRecord(submission, "t", {
    storePrompts: true,
    maxBytes: 1 << 20,
    redact: redactSecrets,
  });
  assert.equal(kept.intentLabel, "enhancement");
  assert.equal(kept.text, "add a --verbose flag; test it with [REDACTED:anthropic_key] please");
  assert.ok(!kept.text?.includes("Zq7"));
  assert.equal(kept.redactedSecrets, 1);
  const tooLong = promptRecord(submission, "t", {
    storePrompts: true,
    maxBytes: 10,
    redact: redactSecrets,
  });
  assert.equal(tooLong.text, null, "over max_pattern_bytes: no text");
  assert.equal(tooLong.intentLabel, "enhancement", "the intent is kept anyway");
  const raw = promptRecord(submission, "t", {
    storePrompts: true,
    maxBytes: 1 << 20,
    redact: null,
  });
  assert.equal(raw.text, prompt, "redact_secrets: false keeps the words as they are, as for code");
});

Deno.test("prompt record: words without a word give no intent (the code alone decides)", () => {
  for (const prompt of ["", "   ", "!!! ???", "12345"]) {
    const r = promptRecord({ kind: "prompt", sessionId: "s", promptId: null, prompt }, "t", {
      storePrompts: false,
      maxBytes: 1 << 20,
      redact: null,
    });
    assert.deepEqual([r.intentLabel, r.intentScores, r.intentModel], [null, null, null], prompt);
  }
});

Deno.test("intent scores: classifying with the stored scores gives what classifying with the words gives", () => {
  const before = "def first(items):\n    return items[0]\n";
  const after = "def first(items):\n    if not items:\n        return None\n    return items[0]\n";
  const intents = [
    "fix the crash when the list is empty",
    "add support for empty lists",
    "refactor: extract the guard",
    "make first() faster by caching",
    "please look at this",
    "don't crash",
  ];
  for (const intent of intents) {
    const scores = intentScores(intent);
    assert.ok(scores);
    // The scores go through the store as JSON: the same doubles come back.
    const stored = JSON.parse(JSON.stringify(scores)) as number[];
    const fromWords = explainTransformation({ before, after, intent });
    const fromScores = explainTransformation({ before, after, intentScores: stored });
    assert.equal(fromScores.transformationType, fromWords.transformationType, intent);
    assert.deepEqual(fromScores.probabilities, fromWords.probabilities, intent);
    assert.equal(fromScores.usedIntent, true);
  }
  assert.equal(
    intentLabel(intentScores("speed up loading by caching parsed results")!),
    "optimization",
  );
  assert.equal(intentScores("…"), null);
});

Deno.test("the request's label decides where the code alone is ambiguous", () => {
  // An empty-list guard: from the code alone it leans enhancement (a guard could be either).
  const change = {
    before: "def first(items):\n    return items[0]\n",
    after: "def first(items):\n    if not items:\n        return None\n    return items[0]\n",
  };
  const alone = explainTransformation(change);
  assert.equal(alone.transformationType, "enhancement");
  assert.ok(alone.probabilities.bugfix > 0.3, "ambiguous: bugfix is close behind");
  const scores = (intent: string) => intentScores(intent);
  assert.equal(
    explainTransformation({
      ...change,
      intentScores: scores("fix the crash when the list is empty"),
    })
      .transformationType,
    "bugfix",
  );
  assert.equal(
    explainTransformation({ ...change, intentScores: scores("refactor: extract the guard") })
      .transformationType,
    "refactor",
  );
  assert.equal(
    explainTransformation({ ...change, intentScores: scores("add support for empty lists") })
      .transformationType,
    "enhancement",
  );
});

Deno.test("the shipped intent model's name is the hash of its table (the trainer writes both)", () => {
  assert.equal(intentModelId(), intentModelIdOf(INTENT_TABLE));
  assert.equal(WEIGHTS.intent, INTENT_TABLE);
  assert.notEqual(intentModelIdOf({ ...INTENT_TABLE, bias: [0, 0, 0, 0] }), intentModelId());
});
