/**
 * A loopback stand-in for the Phase 4 Pattern Traceability API that enforces the real contract
 * strictly (unknown fields, enum values, children before parents, batch limits) and can be switched
 * into fault modes: down, 5xx, 429 with Retry-After, slow, flaky, and 4xx for chosen events.
 *
 * Run it alone: `deno run --allow-net tests/phase4_server.ts --port 8053 [--mode flaky]`.
 *
 * @module
 */

/** The server's behaviour. */
export type FaultMode = "ok" | "down" | "error5xx" | "rateLimit" | "slow" | "flaky" | "reject4xx";

/** Options of {@linkcode startPhase4Server} and {@linkcode Phase4Server.setMode}. */
export interface Phase4ServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  mode?: FaultMode;
  /** Seconds in `Retry-After` of 429 answers. */
  retryAfterSeconds?: number;
  /** Delay of every answer in `slow` mode. */
  slowMs?: number;
  /** In `flaky` mode, every n-th request fails (503 or a dropped connection, alternately). */
  flakyEvery?: number;
  /** In `reject4xx` mode, events with these pattern IDs are refused with 400. */
  poisonPatternIds?: string[];
  /** A rate limit in any mode: more than `max` requests per `windowMs` answer 429. */
  rateLimit?: { max: number; windowMs: number } | null;
}

/** An event as stored, with when it arrived. */
export type StoredEvent = Record<string, unknown> & { received_at: string };

/** One request seen by the server. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  eventCount: number;
}

/** A running stand-in. */
export interface Phase4Server {
  /** Base URL, e.g. `http://127.0.0.1:54321` (without the API prefix). */
  url: string;
  port: number;
  events(): StoredEvent[];
  patternIds(): Set<string>;
  requests(): SeenRequest[];
  analyticsCalls(): unknown[];
  setMode(mode: FaultMode, options?: Partial<Phase4ServerOptions>): Promise<void>;
  close(): Promise<void>;
}

const PREFIX = "/api/pattern-traceability";
const EVENT_TYPES = new Set([
  "pattern_created",
  "pattern_modified",
  "pattern_merged",
  "pattern_applied",
  "pattern_deprecated",
  "pattern_forked",
  "pattern_validated",
]);
const EDGE_TYPES = new Set([
  "derived_from",
  "modified_from",
  "merged_from",
  "replaced_by",
  "inspired_by",
  "deprecated_by",
]);
const TRANSFORMATION_TYPES = new Set([
  "refactor",
  "enhancement",
  "bugfix",
  "merge",
  "optimization",
  "simplification",
]);
const TIME_WINDOWS = new Set(["hourly", "daily", "weekly", "monthly", "quarterly", "yearly"]);

type Json = Record<string, unknown>;
type FieldRule = (value: unknown) => string | null;

const str: FieldRule = (v) => typeof v === "string" ? null : "must be a string";
const optStr: FieldRule = (v) =>
  v === null || typeof v === "string" ? null : "must be a string or null";
const enumOf = (set: Set<string>, nullable: boolean): FieldRule => (v) =>
  (nullable && v === null) || (typeof v === "string" && set.has(v))
    ? null
    : `must be one of ${[...set].join(", ")}`;

const EVENT_FIELDS: Record<string, FieldRule> = {
  event_type: enumOf(EVENT_TYPES, false),
  pattern_id: (v) => typeof v === "string" && v.length > 0 ? null : "must be a non-empty string",
  pattern_name: str,
  pattern_type: str,
  pattern_version: str,
  tool_name: optStr,
  file_path: optStr,
  language: optStr,
  pattern_data: (v) =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? null : "must be an object",
  parent_pattern_ids: (v) =>
    Array.isArray(v) && v.every((p) => typeof p === "string") ? null : "must be a list of strings",
  edge_type: enumOf(EDGE_TYPES, true),
  transformation_type: enumOf(TRANSFORMATION_TYPES, true),
  reason: optStr,
  triggered_by: str,
};

/** Validates an event like pydantic with `extra=forbid`; returns the problems. */
export function validateEvent(event: unknown, where: string): string[] {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    return [`${where}: must be an object`];
  }
  const problems: string[] = [];
  const e = event as Json;
  for (const key of Object.keys(e)) {
    if (!(key in EVENT_FIELDS)) problems.push(`${where}.${key}: extra fields not permitted`);
  }
  for (const [key, rule] of Object.entries(EVENT_FIELDS)) {
    if (!(key in e)) {
      if (key === "event_type" || key === "pattern_id") {
        problems.push(`${where}.${key}: field required`);
      }
      continue;
    }
    const problem = rule(e[key]);
    if (problem) problems.push(`${where}.${key}: ${problem}`);
  }
  return problems;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * Starts the stand-in on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { startPhase4Server } from "./phase4_server.ts";
 * const server = await startPhase4Server();
 * await server.setMode("flaky", { flakyEvery: 3 });
 * // ... point PATTERN_TRACKER_INTELLIGENCE_URL at server.url ...
 * await server.close();
 * ```
 */
export async function startPhase4Server(initial: Phase4ServerOptions = {}): Promise<Phase4Server> {
  let options: Required<Omit<Phase4ServerOptions, "port">> = {
    mode: "ok",
    retryAfterSeconds: 1,
    slowMs: 3000,
    flakyEvery: 3,
    poisonPatternIds: [],
    rateLimit: null,
    ...initial,
  };
  const stored: StoredEvent[] = [];
  const keys = new Set<string>();
  const ids = new Set<string>();
  const parentsOf = new Map<string, Set<string>>();
  const seen: SeenRequest[] = [];
  const analytics: unknown[] = [];
  let requestCount = 0;
  let windowStart = Date.now();
  let windowCount = 0;

  /** Stores one valid event, or says why it is refused. */
  const track = (
    e: Json,
  ): { ok: true; data: Json } | { ok: false; error: string; status: number } => {
    const id = e.pattern_id as string;
    const version = (e.pattern_version as string | undefined) ?? "1.0.0";
    if (options.mode === "reject4xx" && options.poisonPatternIds.includes(id)) {
      return { ok: false, error: `pattern ${id} rejected by validation`, status: 400 };
    }
    if (keys.has(`${id}@${version}`)) {
      return { ok: true, data: { status: "already_exists", pattern_id: id } };
    }
    const parents = (e.parent_pattern_ids as string[] | undefined) ?? [];
    const missing = parents.filter((p) => !ids.has(p));
    if (missing.length > 0) {
      return {
        ok: false,
        error: `Parent pattern(s) not found: ${missing.join(", ")}`,
        status: 400,
      };
    }
    keys.add(`${id}@${version}`);
    ids.add(id);
    for (const p of parents) (parentsOf.get(id) ?? parentsOf.set(id, new Set()).get(id)!).add(p);
    stored.push({ ...e, received_at: new Date().toISOString() });
    return { ok: true, data: { status: "created", pattern_id: id, pattern_version: version } };
  };

  const handle = async (req: Request, countEvents: (n: number) => void): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname === "/__control/mode" && req.method === "POST") {
      const body = await req.json() as Phase4ServerOptions & { mode: FaultMode };
      options = { ...options, ...body };
      return json({ mode: options.mode });
    }
    requestCount++;
    // Read the body first: a slow answer still stores what it received, as a real server would
    // after the client gave up waiting.
    const bodyText = req.method === "POST" ? await req.text().catch(() => "") : "";
    if (options.rateLimit) {
      if (Date.now() - windowStart >= options.rateLimit.windowMs) {
        windowStart = Date.now();
        windowCount = 0;
      }
      if (++windowCount > options.rateLimit.max) {
        return json({ detail: "Rate limit exceeded" }, 429, {
          "retry-after": String(options.retryAfterSeconds),
        });
      }
    }
    const mode = options.mode;
    switch (mode) {
      case "ok":
      case "reject4xx":
      case "down":
        break;
      case "error5xx":
        return json({ detail: "Database connection not available" }, requestCount % 2 ? 503 : 500);
      case "rateLimit":
        return json({ detail: "Rate limit exceeded" }, 429, {
          "retry-after": String(options.retryAfterSeconds),
        });
      case "slow":
        await new Promise((r) => setTimeout(r, options.slowMs));
        break;
      case "flaky":
        if (requestCount % options.flakyEvery === 0) {
          if ((requestCount / options.flakyEvery) % 2 === 1) {
            return json({ detail: "flaky: unavailable" }, 503);
          }
          // A dropped connection: the answer's body fails mid-stream.
          return new Response(
            new ReadableStream({ start: (c) => c.error(new Error("flaky: connection dropped")) }),
          );
        }
        break;
      default: {
        const unreachable: never = mode;
        throw new Error(`unknown mode ${unreachable}`);
      }
    }
    const path = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : null;
    if (path === "/health" && req.method === "GET") {
      return json({ status: "healthy", service: "phase4-stand-in" });
    }
    if (path === null || req.method !== "POST") {
      const lineage = path?.match(/^\/lineage\/([^/]+)$/);
      if (lineage && req.method === "GET") {
        return queryLineage(lineage[1] as string, url.searchParams.get("query_type") ?? "ancestry");
      }
      return json({ detail: "Not Found" }, 404);
    }
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
      const events = (body as { events?: unknown })?.events;
      countEvents(Array.isArray(events) ? events.length : 1);
    } catch {
      return json({ detail: [{ loc: ["body"], msg: "invalid JSON" }] }, 422);
    }
    if (path === "/lineage/track") {
      const problems = validateEvent(body, "body");
      if (problems.length) return json({ detail: problems }, 422);
      const result = track(body as Json);
      return result.ok
        ? json({ success: true, data: result.data, metadata: { processing_time_ms: 1 } })
        : json({ success: false, error: result.error }, result.status);
    }
    if (path === "/lineage/track/batch") {
      const b = body as Json;
      const extra = Object.keys(b ?? {}).filter((k) =>
        !["events", "batch_id", "processing_mode", "sequential_processing", "timeout_per_event"]
          .includes(k)
      );
      if (!Array.isArray(b?.events)) {
        return json({ detail: ["body.events: field required (a list)"] }, 422);
      }
      if (extra.length) {
        return json({ detail: extra.map((k) => `body.${k}: extra fields not permitted`) }, 422);
      }
      if (b.events.length > 1000) {
        return json({ detail: [`body.events: at most 1000 events, got ${b.events.length}`] }, 422);
      }
      if (b.events.length === 0) return json({ detail: ["body.events: at least one event"] }, 422);
      const problems = b.events.flatMap((e, i) => validateEvent(e, `body.events[${i}]`));
      if (problems.length) return json({ detail: problems }, 422);
      const ok: Json[] = [];
      const failed: Json[] = [];
      let duplicates = 0;
      (b.events as Json[]).forEach((e, i) => {
        const r = track(e);
        if (r.ok) {
          if (r.data.status === "already_exists") duplicates++;
          ok.push({ event_index: i, data: r.data, pattern_id: e.pattern_id });
        } else failed.push({ event_index: i, error: r.error, pattern_id: e.pattern_id });
      });
      return json({
        success: failed.length === 0,
        batch_summary: {
          total_events: b.events.length,
          successful_events: ok.length,
          failed_events: failed.length,
          handled_duplicates: duplicates,
          processing_mode: b.processing_mode ?? "parallel",
        },
        successful_results: ok,
        failed_results: failed.length ? failed : null,
        metadata: { processing_time_ms: 1 },
      });
    }
    if (path === "/analytics/compute") {
      const a = body as Json;
      const allowed = [
        "pattern_id",
        "time_window_type",
        "include_performance",
        "include_trends",
        "include_distribution",
        "time_window_days",
      ];
      const problems = Object.keys(a ?? {}).filter((k) => !allowed.includes(k)).map((k) =>
        `body.${k}: extra fields not permitted`
      );
      if (typeof a?.pattern_id !== "string") problems.push("body.pattern_id: field required");
      if (a?.time_window_type !== undefined && !TIME_WINDOWS.has(a.time_window_type as string)) {
        problems.push("body.time_window_type: invalid");
      }
      if (problems.length) return json({ detail: problems }, 422);
      analytics.push(a);
      return json({ success: true, pattern_id: a.pattern_id, time_window: {}, usage_metrics: {} });
    }
    return json({ detail: "Not Found" }, 404);
  };

  const queryLineage = (id: string, queryType: string): Response => {
    if (!ids.has(id)) return json({ success: false, error: `Pattern not found: ${id}` }, 404);
    const walk = (start: string, next: (x: string) => Iterable<string>) => {
      const out: string[] = [];
      const stack = [...next(start)];
      while (stack.length) {
        const x = stack.pop() as string;
        if (out.includes(x)) continue;
        out.push(x);
        stack.push(...next(x));
      }
      return out;
    };
    const children = (x: string) => [...parentsOf].filter(([, ps]) => ps.has(x)).map(([c]) => c);
    const data = queryType === "descendants"
      ? { pattern_id: id, descendants: walk(id, children) }
      : { pattern_id: id, ancestors: walk(id, (x) => parentsOf.get(x) ?? []) };
    return json({ success: true, data, metadata: { query_type: queryType } });
  };

  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  let port = initial.port ?? 0;
  const listen = () => {
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
      const url = new URL(req.url);
      let eventCount = 0;
      let response: Response;
      try {
        response = await handle(req, (n) => eventCount = n);
      } catch (error) {
        seen.push({ method: req.method, path: url.pathname, status: 0, eventCount });
        throw error; // drops the connection
      }
      if (url.pathname !== "/__control/mode") {
        seen.push({ method: req.method, path: url.pathname, status: response.status, eventCount });
      }
      return response;
    });
    port = server.addr.port;
  };
  listen();

  const api: Phase4Server = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    events: () => [...stored],
    patternIds: () => new Set(ids),
    requests: () => [...seen],
    analyticsCalls: () => [...analytics],
    async setMode(mode, more = {}) {
      const wasDown = options.mode === "down";
      options = { ...options, ...more, mode };
      if (mode === "down" && !wasDown && server) {
        await server.shutdown();
        server = null;
      } else if (mode !== "down" && wasDown) {
        listen();
      }
    },
    async close() {
      if (server) await server.shutdown();
      server = null;
    },
  };
  if (options.mode === "down") {
    const s = server as Deno.HttpServer<Deno.NetAddr> | null;
    if (s) await s.shutdown();
    server = null;
  }
  return api;
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const server = await startPhase4Server({
    port: Number(arg("port") ?? 8053),
    mode: (arg("mode") ?? "ok") as FaultMode,
  });
  console.log(`listening on ${server.url}`);
}
