/**
 * The store as the prompt hook writes it: the connection layer (`connection.ts`) plus the one
 * statement that stores a request. The hook opens it without loading the migrations, the whole
 * store or the queries of `prompts.ts` (what the classifier reads later), as the pre hook opens
 * its layer: a request is one INSERT.
 *
 * @module
 */

import type { SQLInputValue } from "node:sqlite";
import type { PromptRecord } from "../record/prompt_intent.ts";
import { StoreConnection } from "./connection.ts";

/** The statement that stores one request in `prompts` (schema v6). */
export const INSERT_PROMPT_SQL = `INSERT INTO prompts (session_key, session_id, prompt_id,
    submitted_at, intent_label, intent_scores, intent_model, prompt_text, redacted_secrets)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The parameters of {@linkcode INSERT_PROMPT_SQL} for a request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptParams } from "./prompt_connection.ts";
 * const params = promptParams({
 *   sessionId: null, promptId: null, submittedAt: "2026-11-25T00:00:00.000Z",
 *   intentLabel: "bugfix", intentScores: [1, 0, 0, 0], intentModel: "m", text: null,
 *   redactedSecrets: 0,
 * });
 * assert.deepEqual(params.slice(0, 2), ["", null]); // no session: the key is ''
 * assert.equal(params[5], "[1,0,0,0]");
 * ```
 */
export function promptParams(r: PromptRecord): SQLInputValue[] {
  return [
    r.sessionId ?? "",
    r.sessionId,
    r.promptId,
    r.submittedAt,
    r.intentLabel,
    r.intentScores === null ? null : JSON.stringify(r.intentScores),
    r.intentModel,
    r.text,
    r.redactedSecrets,
  ];
}

/** The connection layer with the request statement: what the prompt hook opens. */
export class PromptConnection extends StoreConnection {
  /** Stores one request; returns its row ID. One statement: atomic without a transaction. */
  insertPrompt(r: PromptRecord): number {
    return Number(this.stmt(INSERT_PROMPT_SQL).run(...promptParams(r)).lastInsertRowid);
  }
}
