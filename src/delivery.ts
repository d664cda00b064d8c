/**
 * The only module that talks to the Phase 4 API: one request per call, each bounded by the
 * configured timeout, each answer read into a {@linkcode SendResult}. Retries, ordering and the
 * breaker are decided by the caller (`flush.ts`) with the pure rules of `delivery_plan.ts`.
 *
 * @module
 */

import {
  classifyItemFailure,
  classifyStatus,
  isAlreadyExists,
  parseRetryAfter,
} from "./delivery_plan.ts";
import type { OutboxRow } from "./store.ts";

/** URL prefix of the Phase 4 Pattern Traceability API. */
export const API_PREFIX = "/api/pattern-traceability";

/** The outcome of one event inside an answered request. */
export type ItemOutcome =
  | { kind: "delivered"; alreadyExisted: boolean }
  | { kind: "transient"; message: string }
  | { kind: "permanent"; message: string };

/** What one request achieved. */
export type SendResult =
  | { kind: "answered"; status: number; items: Map<number, ItemOutcome> }
  | { kind: "transient"; status: number | null; message: string; retryAfterSeconds: number | null }
  | { kind: "permanent"; status: number; message: string };

/** What a request needs from the outside world. */
export interface HttpDeps {
  fetch: typeof fetch;
  timeoutMs: number;
  now: () => number;
}

/**
 * Sends rows as one `POST /lineage/track/batch` in sequential mode, so a parent earlier in the batch
 * is stored before its children. The stored JSON bodies are sent byte for byte.
 *
 * @example
 * ```ts
 * import { postBatch } from "./delivery.ts";
 * // const result = await postBatch("http://localhost:8053", rows, { fetch, timeoutMs: 2000, now: Date.now });
 * ```
 */
export async function postBatch(
  baseUrl: string,
  rows: readonly OutboxRow[],
  deps: HttpDeps,
): Promise<SendResult> {
  const body = `{"events":[${rows.map((r) => r.body).join(",")}],"batch_id":${
    JSON.stringify(crypto.randomUUID())
  },"processing_mode":"sequential"}`;
  const answer = await request(`${baseUrl}${API_PREFIX}/lineage/track/batch`, body, deps);
  if (answer.kind !== "ok") return answer.result;
  return { kind: "answered", status: answer.status, items: readBatchAnswer(answer.json, rows) };
}

/**
 * Sends one row as `POST /lineage/track`.
 *
 * @example
 * ```ts
 * import { postSingle } from "./delivery.ts";
 * // const result = await postSingle("http://localhost:8053", row, { fetch, timeoutMs: 2000, now: Date.now });
 * ```
 */
export async function postSingle(
  baseUrl: string,
  row: OutboxRow,
  deps: HttpDeps,
): Promise<SendResult> {
  const answer = await request(`${baseUrl}${API_PREFIX}/lineage/track`, row.body, deps);
  if (answer.kind !== "ok") return answer.result;
  const json = answer.json as { success?: unknown; data?: unknown; error?: unknown } | null;
  const items = new Map<number, ItemOutcome>();
  if (json && json.success === false) {
    const message = String(json.error ?? "refused");
    items.set(
      row.id,
      isAlreadyExists(message)
        ? { kind: "delivered", alreadyExisted: true }
        : { kind: classifyItemFailure(message, [], new Set()), message },
    );
  } else {
    items.set(row.id, { kind: "delivered", alreadyExisted: isAlreadyExists(json?.data) });
  }
  return { kind: "answered", status: answer.status, items };
}

/**
 * Asks the server to recompute a pattern's usage analytics (best effort; the caller rate-limits).
 *
 * @example
 * ```ts
 * import { postAnalytics } from "./delivery.ts";
 * // await postAnalytics("http://localhost:8053", "3d73da5b43ce076f", { fetch, timeoutMs: 2000, now: Date.now });
 * ```
 */
export async function postAnalytics(
  baseUrl: string,
  patternId: string,
  deps: HttpDeps,
): Promise<SendResult> {
  const body = JSON.stringify({
    pattern_id: patternId,
    time_window_type: "weekly",
    include_performance: true,
    include_trends: true,
  });
  const answer = await request(`${baseUrl}${API_PREFIX}/analytics/compute`, body, deps);
  return answer.kind === "ok"
    ? { kind: "answered", status: answer.status, items: new Map() }
    : answer.result;
}

type RawAnswer = { kind: "ok"; status: number; json: unknown } | {
  kind: "failed";
  result: SendResult;
};

async function request(url: string, body: string, deps: HttpDeps): Promise<RawAnswer> {
  let response: Response;
  try {
    response = await deps.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (error) {
    const e = error as Error;
    const message = e.name === "TimeoutError"
      ? `no answer within ${deps.timeoutMs} ms`
      : `${e.name}: ${e.message}`;
    return {
      kind: "failed",
      result: { kind: "transient", status: null, message, retryAfterSeconds: null },
    };
  }
  let text = "";
  try {
    text = await response.text();
  } catch (error) {
    return {
      kind: "failed",
      result: {
        kind: "transient",
        status: response.status,
        message: `answer cut off: ${(error as Error).message}`,
        retryAfterSeconds: null,
      },
    };
  }
  if (!response.ok) {
    const message = `HTTP ${response.status}: ${errorText(text)}`;
    // A duplicate refused with an error status is still a delivery.
    if (
      response.status === 409 ||
      (response.status < 500 && isAlreadyExists(text) && response.status !== 429)
    ) {
      return {
        kind: "ok",
        status: response.status,
        json: { success: true, data: { status: "already_exists" } },
      };
    }
    return {
      kind: "failed",
      result: classifyStatus(response.status) === "transient"
        ? {
          kind: "transient",
          status: response.status,
          message,
          retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after"), deps.now()),
        }
        : { kind: "permanent", status: response.status, message },
    };
  }
  try {
    return { kind: "ok", status: response.status, json: text === "" ? null : JSON.parse(text) };
  } catch {
    return {
      kind: "failed",
      result: {
        kind: "transient",
        status: response.status,
        message: `answer is not JSON: ${text.slice(0, 80)}`,
        retryAfterSeconds: null,
      },
    };
  }
}

function errorText(text: string): string {
  try {
    const json = JSON.parse(text) as { detail?: unknown; error?: unknown; message?: unknown };
    const detail = json.detail ?? json.error ?? json.message ?? json;
    return (typeof detail === "string" ? detail : JSON.stringify(detail)).slice(0, 500);
  } catch {
    return text.slice(0, 500);
  }
}

/**
 * Reads a batch answer event by event: `successful_results` and `failed_results` carry
 * `event_index`; an event the answer does not mention is retried (transient).
 *
 * @example
 * ```ts
 * import { readBatchAnswer } from "./delivery.ts";
 * const row = { id: 7, patternId: "a", patternVersion: "1.0.0", parentPatternIds: [], body: "{}", createdAt: "", attempts: 0, lastError: null };
 * readBatchAnswer({ successful_results: [{ event_index: 0, data: { status: "created" } }] }, [row]).get(7);
 * // { kind: "delivered", alreadyExisted: false }
 * ```
 */
export function readBatchAnswer(
  json: unknown,
  rows: readonly OutboxRow[],
): Map<number, ItemOutcome> {
  const items = new Map<number, ItemOutcome>();
  const answer = (json ?? {}) as { successful_results?: unknown; failed_results?: unknown };
  const rowAt = (index: unknown) => typeof index === "number" ? rows[index] : undefined;
  if (Array.isArray(answer.successful_results)) {
    for (
      const r of answer.successful_results as {
        event_index?: unknown;
        data?: unknown;
        metadata?: unknown;
      }[]
    ) {
      const row = rowAt(r?.event_index);
      if (row) {
        items.set(row.id, {
          kind: "delivered",
          alreadyExisted: isAlreadyExists(r.data) || isAlreadyExists(r.metadata),
        });
      }
    }
  }
  const failed = Array.isArray(answer.failed_results)
    ? answer.failed_results as { event_index?: unknown; error?: unknown }[]
    : [];
  const failedIds = new Set<string>();
  for (const f of failed) {
    const row = rowAt(f?.event_index);
    if (row) failedIds.add(row.patternId);
  }
  for (const f of failed) {
    const row = rowAt(f?.event_index);
    if (!row) continue;
    const message = typeof f.error === "string" ? f.error : JSON.stringify(f.error ?? "failed");
    items.set(
      row.id,
      isAlreadyExists(message)
        ? { kind: "delivered", alreadyExisted: true }
        : { kind: classifyItemFailure(message, row.parentPatternIds, failedIds), message },
    );
  }
  for (const row of rows) {
    if (!items.has(row.id)) {
      items.set(row.id, { kind: "transient", message: "not in the batch answer" });
    }
  }
  return items;
}
