/**
 * Pure part of the `UserPromptSubmit` hook: reading Claude Code's payload and turning a request's
 * words into what the tracker keeps of them — the intent label and the intent model's four scores
 * (`intentScores` in `transformation.ts`), and the text itself only when `store_prompts` asks for
 * it, redacted. Nothing here keeps, logs or returns the words otherwise: a payload that cannot be
 * read is described by its shape and size, never by its content.
 *
 * @module
 */

import {
  type ClassifierLabel,
  intentLabel,
  intentModelId,
  intentScores,
} from "./transformation_intent.ts";

/** A `UserPromptSubmit` payload read: the request and where it belongs. */
export interface PromptSubmission {
  kind: "prompt";
  /** Claude Code's session ID; null when the payload has none. */
  sessionId: string | null;
  /** Claude Code's ID of the request (2.1.330 also sends it with every tool call's hooks). */
  promptId: string | null;
  prompt: string;
}

/** A payload of another hook event: nothing to do. */
export interface IgnoredPrompt {
  kind: "ignored";
  reason: string;
}

/** A payload that cannot be read; `error` describes its shape, never its text. */
export interface InvalidPrompt {
  kind: "invalid";
  error: string;
}

/** What a payload on the prompt hook's stdin means. */
export type ParsedPrompt = PromptSubmission | IgnoredPrompt | InvalidPrompt;

/**
 * Reads a `UserPromptSubmit` payload (`{session_id, transcript_path, cwd, prompt_id?,
 * hook_event_name, prompt}`). Unknown fields are ignored. An error names the field and the type
 * found, and never quotes the payload (it holds the user's words).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePromptPayload } from "./prompt_intent.ts";
 * assert.deepEqual(
 *   parsePromptPayload('{"hook_event_name":"UserPromptSubmit","session_id":"s","prompt":"fix it"}'),
 *   { kind: "prompt", sessionId: "s", promptId: null, prompt: "fix it" },
 * );
 * assert.deepEqual(parsePromptPayload("{"), {
 *   kind: "invalid",
 *   error: "payload is not JSON (1 bytes)",
 * });
 * ```
 */
export function parsePromptPayload(text: string): ParsedPrompt {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: it must not reach the log.
    return { kind: "invalid", error: `payload is not JSON (${byteLength(text)} bytes)` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", error: `payload is ${describe(value)}, not a JSON object` };
  }
  const p = value as Record<string, unknown>;
  const event = p.hook_event_name;
  if (event !== undefined && event !== "UserPromptSubmit") {
    return {
      kind: "ignored",
      reason: typeof event === "string"
        ? `event ${event.slice(0, 40)} is not UserPromptSubmit`
        : `hook_event_name is ${describe(event)}`,
    };
  }
  if (typeof p.prompt !== "string") {
    return {
      kind: "invalid",
      error: p.prompt === undefined
        ? "prompt is missing"
        : `prompt is ${describe(p.prompt)}, not a string`,
    };
  }
  return {
    kind: "prompt",
    sessionId: nonEmptyString(p.session_id),
    promptId: nonEmptyString(p.prompt_id),
    prompt: p.prompt,
  };
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** What the store keeps of one request. */
export interface PromptRecord {
  sessionId: string | null;
  promptId: string | null;
  /** When the hook read it (ISO 8601 UTC): changes recorded after it in its session answer it. */
  submittedAt: string;
  /** The class the words point to; null when they hold no word. */
  intentLabel: ClassifierLabel | null;
  /** The intent model's score per class (`CLASSIFIER_LABELS` order); null with the label. */
  intentScores: number[] | null;
  /** Which intent model made the scores (`intentModelId`). */
  intentModel: string | null;
  /** The words, redacted, only with `store_prompts`; else null. */
  text: string | null;
  /** Secrets replaced in `text`. */
  redactedSecrets: number;
}

/** How {@linkcode promptRecord} treats the text. */
export interface PromptTextPolicy {
  /** `store_prompts`: keep the text at all. */
  storePrompts: boolean;
  /** Texts longer than this many UTF-8 bytes are not kept (`max_pattern_bytes`). */
  maxBytes: number;
  /**
   * The redaction code goes through (`redactSecrets`), or null with `redact_secrets: false`.
   * Called only when the text is kept.
   */
  redact: ((text: string) => { text: string; counts: Record<string, number> }) | null;
}

/**
 * What the store keeps of a request: the intent label and scores always; the text only with
 * `store_prompts`, redacted, and not over `maxBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptRecord } from "./prompt_intent.ts";
 * const r = promptRecord(
 *   { kind: "prompt", sessionId: "s", promptId: null, prompt: "fix the crash when the list is empty" },
 *   "2026-01-01T00:00:00.000Z",
 *   { storePrompts: false, maxBytes: 1 << 20, redact: null },
 * );
 * assert.equal(r.intentLabel, "bugfix");
 * assert.equal(r.text, null);
 * ```
 */
export function promptRecord(
  submission: PromptSubmission,
  at: string,
  policy: PromptTextPolicy,
): PromptRecord {
  const scores = intentScores(submission.prompt);
  let text: string | null = null;
  let redactedSecrets = 0;
  if (policy.storePrompts && byteLength(submission.prompt) <= policy.maxBytes) {
    if (policy.redact) {
      const redaction = policy.redact(submission.prompt);
      text = redaction.text;
      redactedSecrets = Object.values(redaction.counts).reduce((a, b) => a + b, 0);
    } else text = submission.prompt;
  }
  return {
    sessionId: submission.sessionId,
    promptId: submission.promptId,
    submittedAt: at,
    intentLabel: scores === null ? null : intentLabel(scores),
    intentScores: scores,
    intentModel: scores === null ? null : intentModelId(),
    text,
    redactedSecrets,
  };
}
