/**
 * Secret redaction, applied to code before anything is stored, logged or sent: every secret is
 * replaced by `[REDACTED:<kind>]` and the code around it is kept, so the result still reads as
 * code. Redacting twice changes nothing more.
 *
 * Two finders report spans: {@linkcode findShapedSecrets} (tokens, keys, URLs, recognised by their
 * shape) and {@linkcode findAssignedSecrets} (values of secret-sounding names). Overlapping spans
 * are merged, labelled with the most specific kind.
 *
 * @module
 */

import { findAssignedSecrets } from "./secret_assignments.ts";
import { findShapedSecrets } from "./secret_formats.ts";
import { KIND_RANK, redactionMark, type SecretKind } from "./secret_kinds.ts";

export { SECRET_KINDS, type SecretKind } from "./secret_kinds.ts";

/** Redacted text, and how many secrets of each kind were replaced. */
export interface Redaction {
  text: string;
  counts: Record<string, number>;
}

interface Span {
  start: number;
  end: number;
  kind: SecretKind;
}

/**
 * Replaces secrets in code with `[REDACTED:<kind>]`, and counts them by kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactSecrets } from "./secrets.ts";
 * assert.equal(
 *   redactSecrets('db = "postgres://app:s3cret@db:5432/x"').text,
 *   'db = "postgres://app:[REDACTED:connection_string]@db:5432/x"',
 * );
 * assert.equal(
 *   redactSecrets("POSTGRES_PASSWORD: hunter2\n").text,
 *   "POSTGRES_PASSWORD: [REDACTED:assigned_secret]\n",
 * );
 * ```
 */
export function redactSecrets(code: string): Redaction {
  const spans: Span[] = [];
  const add = (start: number, end: number, kind: SecretKind) => {
    if (end > start) spans.push({ start, end, kind });
  };
  findShapedSecrets(code, add);
  findAssignedSecrets(code, add);
  if (spans.length === 0) return { text: code, counts: {} };

  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span.start < last.end) {
      last.end = Math.max(last.end, span.end);
      if (KIND_RANK[span.kind] < KIND_RANK[last.kind]) last.kind = span.kind;
    } else merged.push({ ...span });
  }
  const counts: Record<string, number> = {};
  let text = "";
  let at = 0;
  for (const span of merged) {
    text += code.slice(at, span.start) + redactionMark(span.kind);
    at = span.end;
    counts[span.kind] = (counts[span.kind] ?? 0) + 1;
  }
  return { text: text + code.slice(at), counts };
}
