/**
 * Reading the Phase 4 API's answers (pure): an HTTP status and body into a request's failure, the
 * message a body gives, a batch answer into one verdict per event by `event_index`. What each
 * verdict means for delivery is `phase4_answers.ts`'; the requests themselves are `client.ts`'.
 *
 * @module
 */

import {
  classifyFailure,
  type EventVerdict,
  parseRetryAfter,
  readEventAnswer,
} from "./phase4_answers.ts";
import type { RawAnswer, RequestFailure, SendResult } from "./client.ts";

export function unavailable(
  status: number | null,
  message: string,
  retryAfterSeconds: number | null,
  maybeStored: boolean,
  timedOut: boolean,
): Extract<RequestFailure, { kind: "unavailable" }> {
  return { kind: "unavailable", status, message, retryAfterSeconds, maybeStored, timedOut };
}

/** A non-2xx answer without per-event results, read by its status and message. */
export function failureFromStatus(
  answer: Extract<RawAnswer, { kind: "ok" }>,
  nowMs: number,
): RequestFailure {
  const status = answer.status;
  const message = `HTTP ${status}: ${answer.detail}`;
  if (status === 429 || status === 408) {
    // Refused before any processing (the rate limit runs before the route).
    return unavailable(
      status,
      message,
      parseRetryAfter(answer.headers.get("retry-after"), nowMs),
      false,
      false,
    );
  }
  if (status >= 500) {
    return unavailable(
      status,
      message,
      parseRetryAfter(answer.headers.get("retry-after"), nowMs),
      true,
      false,
    );
  }
  if (status === 404 || status === 405) {
    return { kind: "refused", status, message, unsupported: true };
  }
  // A 4xx refused before processing: transient only when its message names a transient condition.
  const verdict = classifyFailure(answer.detail, null);
  if (verdict.kind === "transient") return unavailable(status, message, null, false, false);
  return { kind: "refused", status, message, unsupported: false };
}

export function nothingAcknowledged(answer: Extract<RawAnswer, { kind: "ok" }>): RequestFailure {
  const shown = answer.text === "" ? "an empty body" : answer.text.slice(0, 80);
  return unavailable(
    answer.status,
    `HTTP ${answer.status} acknowledged nothing (${shown})`,
    null,
    true,
    false,
  );
}

export function errorText(json: unknown, text: string): string {
  if (json !== undefined && json !== null && typeof json === "object") {
    const j = json as { detail?: unknown; error?: unknown; message?: unknown };
    const detail = j.detail ?? j.error ?? j.message ?? json;
    return (typeof detail === "string" ? detail : JSON.stringify(detail)).slice(0, 500);
  }
  return text.slice(0, 500);
}

/**
 * Reads a 2xx batch answer event by event: `successful_results` and `failed_results` carry
 * `event_index`. An event the answer does not mention may or may not be stored (in doubt); an
 * answer that mentions none acknowledges nothing and is a failure.
 */
export function readBatchAnswer(
  answer: Extract<RawAnswer, { kind: "ok" }>,
  count: number,
): SendResult {
  const json = answer.json as { successful_results?: unknown; failed_results?: unknown } | null;
  const verdicts: (EventVerdict | undefined)[] = new Array(count).fill(undefined);
  let acknowledged = 0;
  const entries = [
    ...(Array.isArray(json?.successful_results) ? json.successful_results : []).map((r) => ({
      r,
      ok: true,
    })),
    ...(Array.isArray(json?.failed_results) ? json.failed_results : []).map((r) => ({
      r,
      ok: false,
    })),
  ];
  for (const { r, ok } of entries) {
    const index = (r as { event_index?: unknown })?.event_index;
    if (typeof index !== "number" || index < 0 || index >= count || verdicts[index]) continue;
    const entry = r as { data?: unknown; metadata?: unknown; error?: unknown };
    const verdict = ok
      ? readEventAnswer({ success: true, data: entry.data, metadata: entry.metadata })
      : readEventAnswer({
        success: false,
        error: entry.error ?? "failed",
        metadata: entry.metadata,
      });
    if (verdict === null) continue;
    verdicts[index] = verdict;
    acknowledged++;
  }
  if (acknowledged === 0) return nothingAcknowledged(answer);
  return {
    kind: "answered",
    status: answer.status,
    verdicts: verdicts.map((v) =>
      v ?? { kind: "transient", message: "not in the batch answer", maybeStored: true }
    ),
  };
}
