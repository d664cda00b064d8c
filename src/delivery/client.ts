/**
 * The only module that talks to the Phase 4 API: one request per call, each bounded by a timeout,
 * each answer read into a result whose meaning comes from `phase4_answers.ts`. Retries, ordering,
 * batch sizes and the breaker are decided by the caller (`flush.ts`) with the pure rules of
 * `plan.ts`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { classifyFailure, type EventVerdict, readEventAnswer } from "./phase4_answers.ts";
import {
  errorText,
  failureFromStatus,
  nothingAcknowledged,
  readBatchAnswer,
  unavailable,
} from "./answer_reading.ts";

/** URL prefix of the Phase 4 Pattern Traceability API. */
export const API_PREFIX = "/api/pattern-traceability";

/** A request that did not get a usable answer, or whose events were all refused as a whole. */
export type RequestFailure =
  | {
    kind: "unavailable";
    status: number | null;
    message: string;
    retryAfterSeconds: number | null;
    /** The server may have stored some of the events (the request went out; the answer is missing or says nothing). */
    maybeStored: boolean;
    /** No answer within the timeout. */
    timedOut: boolean;
  }
  | {
    kind: "refused";
    status: number;
    message: string;
    /** The route does not exist (404/405): use single events. */
    unsupported: boolean;
  };

/** What one tracking request achieved. */
export type SendResult =
  | { kind: "answered"; status: number; verdicts: EventVerdict[] }
  | RequestFailure;

/** What a request needs from the outside world. */
export interface HttpDeps {
  fetch: typeof fetch;
  timeoutMs: number;
  now: () => number;
}

/**
 * Sends events as one `POST /lineage/track/batch` in sequential mode, so that a parent earlier in
 * the batch is stored before its children. The bodies are joined as they are, and the batch ID is
 * derived from them: sending the same events again sends the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { postBatch } from "./client.ts";
 * const down = () => Promise.reject(new TypeError("connection refused"));
 * const result = await postBatch("http://localhost:8053", ["{}"], { fetch: down, timeoutMs: 2000, now: Date.now });
 * assert.equal(result.kind, "unavailable"); // nothing reached the server: sent again later
 * ```
 */
export async function postBatch(
  baseUrl: string,
  bodies: readonly string[],
  deps: HttpDeps,
): Promise<SendResult> {
  const body = batchRequestBody(bodies);
  const answer = await request("POST", `${baseUrl}${API_PREFIX}/lineage/track/batch`, body, deps);
  if (answer.kind === "failed") return answer.failure;
  if (answer.status >= 200 && answer.status < 300) return readBatchAnswer(answer, bodies.length);
  return failureFromStatus(answer, deps.now());
}

/**
 * The body of a batch request: the events, a batch ID derived from them, sequential processing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchRequestBody } from "./client.ts";
 * assert.deepEqual(batchRequestBody(['{"a":1}']) === batchRequestBody(['{"a":1}']), true);
 * ```
 */
export function batchRequestBody(bodies: readonly string[]): string {
  const events = bodies.join(",");
  const h = createHash("sha256").update(events).digest("hex");
  const batchId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
    h.slice(20, 32)
  }`;
  return `{"events":[${events}],"batch_id":"${batchId}","processing_mode":"sequential"}`;
}

/**
 * Sends one event as `POST /lineage/track`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { postSingle } from "./client.ts";
 * const down = () => Promise.reject(new TypeError("connection refused"));
 * const result = await postSingle("http://localhost:8053", "{}", { fetch: down, timeoutMs: 2000, now: Date.now });
 * assert.equal(result.kind, "unavailable");
 * ```
 */
export async function postSingle(
  baseUrl: string,
  body: string,
  deps: HttpDeps,
): Promise<SendResult> {
  const answer = await request("POST", `${baseUrl}${API_PREFIX}/lineage/track`, body, deps);
  if (answer.kind === "failed") return answer.failure;
  // The real server answers a failed event with its own message, with 400 or 500.
  const verdict = readEventAnswer(answer.json);
  const failedEvent = typeof answer.json === "object" && answer.json !== null &&
    (answer.json as { success?: unknown }).success === false;
  if (answer.status >= 200 && answer.status < 300) {
    return verdict === null
      ? nothingAcknowledged(answer)
      : { kind: "answered", status: answer.status, verdicts: [verdict] };
  }
  if (failedEvent && verdict !== null && answer.status !== 429) {
    if (verdict.kind === "transient") {
      return unavailable(answer.status, verdict.message, null, verdict.maybeStored, false);
    }
    return { kind: "answered", status: answer.status, verdicts: [verdict] };
  }
  const failure = failureFromStatus(answer, deps.now());
  if (failure.kind === "refused" && !failure.unsupported) {
    // A request refused before any processing: the event itself is at fault, or the server
    // names a missing parent.
    const v = classifyFailure(failure.message, null);
    if (v.kind !== "transient") return { kind: "answered", status: answer.status, verdicts: [v] };
  }
  return failure;
}

/** Versions (`pattern_version`) the server holds for a pattern, or why it could not say. */
export type VersionsAnswer =
  | { kind: "known"; versions: Set<string> }
  | Extract<RequestFailure, { kind: "unavailable" }>;

/**
 * Asks which nodes the server holds for a pattern ID: `GET /lineage/{id}/evolution` lists every
 * node of the pattern with its version (404 `Pattern not found` when there is none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchNodeVersions } from "./client.ts";
 * const down = () => Promise.reject(new TypeError("connection refused"));
 * const answer = await fetchNodeVersions("http://localhost:8053", "3d73da5b43ce076f", { fetch: down, timeoutMs: 2000, now: Date.now });
 * assert.equal(answer.kind, "unavailable"); // the versions stay in doubt
 * ```
 */
export async function fetchNodeVersions(
  baseUrl: string,
  patternId: string,
  deps: HttpDeps,
): Promise<VersionsAnswer> {
  const url = `${baseUrl}${API_PREFIX}/lineage/${encodeURIComponent(patternId)}/evolution`;
  const answer = await request("GET", url, null, deps);
  if (answer.kind === "failed") {
    return answer.failure.kind === "unavailable"
      ? answer.failure
      : unavailable(answer.failure.status, answer.failure.message, null, false, false);
  }
  const json = answer.json as { success?: unknown; error?: unknown; data?: unknown } | null;
  if (answer.status === 404 && /Pattern not found/.test(String(json?.error ?? ""))) {
    return { kind: "known", versions: new Set() };
  }
  const nodes = (json?.data as { evolution_nodes?: unknown } | undefined)?.evolution_nodes;
  if (answer.status === 200 && json?.success === true && Array.isArray(nodes)) {
    return {
      kind: "known",
      versions: new Set(nodes.map((n) => String((n as { version?: unknown })?.version))),
    };
  }
  const failure = failureFromStatus(answer, deps.now());
  return failure.kind === "unavailable"
    ? failure
    : unavailable(answer.status, `evolution query: ${failure.message}`, null, false, false);
}

/**
 * Asks the server to recompute a pattern's usage analytics (best effort; the caller rate-limits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { postAnalytics } from "./client.ts";
 * const failing = () => Promise.resolve(new Response("{}", { status: 500 }));
 * const result = await postAnalytics("http://localhost:8053", "3d73da5b43ce076f", { fetch: failing, timeoutMs: 2000, now: Date.now });
 * assert.deepEqual(result.ok ? null : result.status, 500);
 * ```
 */
export async function postAnalytics(
  baseUrl: string,
  patternId: string,
  deps: HttpDeps,
): Promise<{ ok: true } | { ok: false; status: number | null; message: string }> {
  const body = JSON.stringify({
    pattern_id: patternId,
    time_window_type: "weekly",
    include_performance: true,
    include_trends: true,
  });
  const answer = await request("POST", `${baseUrl}${API_PREFIX}/analytics/compute`, body, deps);
  if (answer.kind === "failed") {
    return { ok: false, status: answer.failure.status, message: answer.failure.message };
  }
  if (answer.status >= 200 && answer.status < 300) return { ok: true };
  return { ok: false, status: answer.status, message: `HTTP ${answer.status}: ${answer.detail}` };
}

/** An HTTP answer as read: its status, JSON and text, or the failure to get one. */
export type RawAnswer =
  | { kind: "ok"; status: number; json: unknown; text: string; detail: string; headers: Headers }
  | { kind: "failed"; failure: RequestFailure };

async function request(
  method: "GET" | "POST",
  url: string,
  body: string | null,
  deps: HttpDeps,
): Promise<RawAnswer> {
  let response: Response;
  try {
    response = await deps.fetch(url, {
      method,
      headers: body === null ? {} : { "content-type": "application/json" },
      ...(body === null ? {} : { body }),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (error) {
    const e = error as Error & { cause?: unknown };
    const timedOut = e.name === "TimeoutError";
    // Deno says "fetch failed" and puts the reason in the cause.
    const detail = e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
    // A refused connection never reached the server; anything else may have.
    const refused = /connection refused|os error 111|ECONNREFUSED/i.test(detail);
    return {
      kind: "failed",
      failure: unavailable(
        null,
        timedOut ? `no answer within ${deps.timeoutMs} ms` : `${e.name}: ${detail}`,
        null,
        !refused,
        timedOut,
      ),
    };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return {
      kind: "failed",
      failure: unavailable(
        response.status,
        `answer cut off: ${(error as Error).message}`,
        null,
        true,
        (error as Error).name === "TimeoutError",
      ),
    };
  }
  let json: unknown = undefined;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    if (response.ok) {
      return {
        kind: "failed",
        failure: unavailable(
          response.status,
          `answer is not JSON: ${text.slice(0, 80)}`,
          null,
          true,
          false,
        ),
      };
    }
  }
  return {
    kind: "ok",
    status: response.status,
    json,
    text,
    detail: errorText(json, text),
    headers: response.headers,
  };
}
