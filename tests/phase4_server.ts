/**
 * A loopback stand-in for the Phase 4 Pattern Traceability API that behaves like the real server
 * (omniarchon's lineage code, run in `tests/phase4_real_test.ts`) wherever the client depends on
 * it:
 *
 * - one node per (pattern_id, pattern_version); a parent is found by pattern_id alone, the newest
 *   node with that ID (`ORDER BY created_at DESC LIMIT 1`);
 * - a repeated `pattern_created` answers `already_exists`; a repeated `pattern_modified` answers a
 *   fresh success and adds an edge from the parent's newest node when that edge is missing;
 * - an unknown parent is a 400 `Validation error: Parent pattern not found: …` (a `failed_results`
 *   entry inside a 200 batch answer); NUL or a lone surrogate in the event is refused (JSONB);
 * - a contract violation refuses the whole request with 400 `{"detail": …}` before any event is
 *   processed; unknown fields are ignored; an empty batch answers 500;
 * - the rate limit answers 429 without Retry-After; ancestry queries and `/analytics/compute`
 *   always answer 500; `/lineage/{id}/evolution` lists every node of a pattern and its edges;
 * - with the database down (`dbDown`) tracking answers 400 `Operation failed: [Errno 111] Connect
 *   call failed …` (failed_results in a 200 batch), evolution 500, and `/health` stays healthy.
 *
 * Fault modes on top: down, 5xx, 429 (with an optional Retry-After), slow, per-event cost, flaky,
 * contract rejections of chosen events, answers that acknowledge nothing, answers lost after the
 * request was read, and a reset that forgets everything.
 *
 * Run it alone: `deno run --allow-net tests/phase4_server.ts --port 8053 [--mode flaky]`.
 *
 * @module
 */

/** The server's behaviour. */
export type FaultMode =
  | "ok"
  | "down"
  | "dbDown"
  | "error5xx"
  | "rateLimit"
  | "slow"
  | "flaky"
  | "reject4xx"
  | "hollow"
  | "lose";

/** Options of {@linkcode startPhase4Server} and {@linkcode Phase4Server.setMode}. */
export interface Phase4ServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  mode?: FaultMode;
  /** `Retry-After` header of 429 answers; null (default, like the real server): none. */
  retryAfter?: string | null;
  /** Delay of every tracking answer in `slow` mode (the events are stored after it). */
  slowMs?: number;
  /** Processing time of each event, in any mode (the real server's cost grows with history). */
  perEventMs?: number;
  /** In `flaky` mode, every n-th request fails (503 or a dropped connection, alternately). */
  flakyEvery?: number;
  /** In `reject4xx` mode, events with these pattern IDs fail as the database refuses them. */
  poisonPatternIds?: string[];
  /** Events with these pattern IDs violate the contract: the whole request is refused with 400. */
  invalidPatternIds?: string[];
  /** A rate limit in any mode: more than `max` tracking requests per `windowMs` answer 429. */
  rateLimit?: { max: number; windowMs: number } | null;
  /** In `hollow` mode, the body of every tracking answer (200): "", "null", `{"success":true}`. */
  hollowBody?: string;
  /** Keep the raw body of every request in {@linkcode Phase4Server.requests}. */
  recordBodies?: boolean;
}

/** The event that created a node, with when it arrived. */
export type StoredEvent = Record<string, unknown> & { received_at: string };

/** One request seen by the server. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  eventCount: number;
  /** The raw body (with `recordBodies`). */
  body?: string;
}

/** A node: one (pattern_id, pattern_version). */
export interface ServerNode {
  id: string;
  pattern_id: string;
  version: string;
  generation: number;
}

/** An edge between two nodes. */
export interface ServerEdge {
  source: ServerNode;
  target: ServerNode;
  edge_type: string;
  transformation_type: string | null;
}

/** A running stand-in. */
export interface Phase4Server {
  /** Base URL, e.g. `http://127.0.0.1:54321` (without the API prefix). */
  url: string;
  port: number;
  /** The events that created nodes, in creation order. */
  events(): StoredEvent[];
  nodes(): ServerNode[];
  edges(): ServerEdge[];
  patternIds(): Set<string>;
  requests(): SeenRequest[];
  analyticsCalls(): unknown[];
  setMode(mode: FaultMode, options?: Partial<Phase4ServerOptions>): Promise<void>;
  /** Forgets every node and edge (a server that lost its database). */
  reset(): void;
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
const DB_DOWN = "[Errno 111] Connect call failed ('127.0.0.1', 5432)";

type Json = Record<string, unknown>;

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Pydantic's type checks of one event (422); problems listed like FastAPI's `detail`. */
function typeProblems(event: unknown, where: (string | number)[]): unknown[] {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    return [{ loc: where, msg: "Input should be a valid dictionary", type: "dict_type" }];
  }
  const e = event as Json;
  const problems: unknown[] = [];
  const want = (key: string, ok: (v: unknown) => boolean, required: boolean, msg: string) => {
    if (!(key in e)) {
      if (required) problems.push({ loc: [...where, key], msg: "Field required", type: "missing" });
    } else if (!ok(e[key])) problems.push({ loc: [...where, key], msg, type: "type_error" });
  };
  const isStr = (v: unknown) => typeof v === "string";
  const optStr = (v: unknown) => v === null || typeof v === "string";
  want("event_type", isStr, true, "Input should be a valid string");
  want("pattern_id", isStr, true, "Input should be a valid string");
  for (const k of ["pattern_name", "pattern_type", "pattern_version", "triggered_by"]) {
    want(k, isStr, false, "Input should be a valid string");
  }
  for (const k of ["tool_name", "file_path", "language", "edge_type", "transformation_type"]) {
    want(k, optStr, false, "Input should be a valid string");
  }
  want("reason", optStr, false, "Input should be a valid string");
  want(
    "pattern_data",
    (v) => typeof v === "object" && v !== null && !Array.isArray(v),
    false,
    "Input should be a valid dictionary",
  );
  want(
    "parent_pattern_ids",
    (v) => Array.isArray(v) && v.every(isStr),
    false,
    "Input should be a valid list",
  );
  return problems;
}

/** The route's contract checks, done for every event before any is processed (400). */
function contractProblem(e: Json, invalid: readonly string[]): string | null {
  const type = e.event_type as string;
  if (!EVENT_TYPES.has(type)) return `'${type}' is not a valid LineageEventType`;
  if (e.edge_type != null && !EDGE_TYPES.has(e.edge_type as string)) {
    return `'${e.edge_type}' is not a valid EdgeType`;
  }
  if (e.transformation_type != null && !TRANSFORMATION_TYPES.has(e.transformation_type as string)) {
    return `'${e.transformation_type}' is not a valid TransformationType`;
  }
  const data = (e.pattern_data ?? {}) as Json;
  const parents = (e.parent_pattern_ids ?? []) as string[];
  if (
    (type === "pattern_created" || !EVENT_TYPES.has(type) || type === "pattern_validated") &&
    (Object.keys(data).length === 0 || invalid.includes(e.pattern_id as string))
  ) return "track_creation requires pattern_data";
  if ((type === "pattern_modified" || type === "pattern_forked") && parents.length === 0) {
    return "track_modification requires parent_pattern_ids";
  }
  if (type === "pattern_merged" && parents.length < 2) {
    return "track_merge requires at least 2 parent_pattern_ids";
  }
  return null;
}

/** What PostgreSQL refuses in JSONB and TEXT: NUL, and surrogates that do not pair. */
function unstorable(value: unknown): "nul" | "surrogate" | null {
  if (typeof value === "string") {
    if (value.includes("\u0000")) return "nul";
    return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)
      ? "surrogate"
      : null;
  }
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) {
      const found = unstorable(v);
      if (found) return found;
    }
  }
  return null;
}

type EventResult = { ok: true; data: Json } | { ok: false; error: string; errorType: string };

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
    retryAfter: null,
    slowMs: 3000,
    perEventMs: 0,
    flakyEvery: 3,
    poisonPatternIds: [],
    invalidPatternIds: [],
    rateLimit: null,
    hollowBody: "",
    recordBodies: false,
    ...initial,
  };
  let nodes: (ServerNode & { event: StoredEvent })[] = [];
  let byKey = new Map<string, ServerNode & { event: StoredEvent }>();
  let edges: ServerEdge[] = [];
  let edgeKeys = new Set<string>();
  const seen: SeenRequest[] = [];
  const analytics: unknown[] = [];
  let requestCount = 0;
  let windowStart = Date.now();
  let windowCount = 0;

  const newestOf = (patternId: string) => {
    for (let i = nodes.length - 1; i >= 0; i--) {
      if (nodes[i]!.pattern_id === patternId) return nodes[i]!;
    }
    return undefined;
  };

  /** One event, as the tracker's effect node handles it (one transaction). */
  const trackOne = (e: Json): EventResult => {
    if (options.mode === "dbDown") {
      return {
        ok: false,
        error: `Operation failed: ${DB_DOWN}`,
        errorType: "ConnectionRefusedError",
      };
    }
    const id = e.pattern_id as string;
    const version = (e.pattern_version as string | undefined) ?? "1.0.0";
    const bad = unstorable(e);
    if (bad === "nul") {
      return {
        ok: false,
        error:
          "Operation failed: unsupported Unicode escape sequence\nDETAIL:  \\u0000 cannot be converted to text.",
        errorType: "UntranslatableCharacterError",
      };
    }
    if (bad === "surrogate") {
      return {
        ok: false,
        error:
          "Operation failed: invalid input syntax for type json\nDETAIL:  Unicode low surrogate must follow a high surrogate.",
        errorType: "InvalidTextRepresentationError",
      };
    }
    if (options.mode === "reject4xx" && options.poisonPatternIds.includes(id)) {
      return {
        ok: false,
        error: "Operation failed: value too long for type character varying(255)",
        errorType: "StringDataRightTruncationError",
      };
    }
    if (version.length > 50) {
      return {
        ok: false,
        error: "Operation failed: value too long for type character varying(50)",
        errorType: "StringDataRightTruncationError",
      };
    }
    const type = e.event_type as string;
    const key = `${id}\u0000${version}`;
    const addNode = (generation: number) => {
      const node = {
        id: crypto.randomUUID(),
        pattern_id: id,
        version,
        generation,
        event: { ...e, received_at: new Date().toISOString() },
      };
      nodes.push(node);
      byKey.set(key, node);
      return node;
    };
    if (type === "pattern_applied" || type === "pattern_deprecated") {
      const node = newestOf(id);
      if (!node) {
        return {
          ok: false,
          error: `Validation error: Pattern not found: ${id}`,
          errorType: "validation_error",
        };
      }
      return { ok: true, data: { event_id: crypto.randomUUID(), pattern_node_id: node.id } };
    }
    if (type === "pattern_modified" || type === "pattern_forked" || type === "pattern_merged") {
      const parentIds = (e.parent_pattern_ids as string[]).slice(
        0,
        type === "pattern_merged" ? undefined : 1,
      );
      const parents = [];
      for (const p of parentIds) {
        const parent = newestOf(p);
        if (!parent) {
          return {
            ok: false,
            error: `Validation error: Parent pattern not found: ${p}`,
            errorType: "validation_error",
          };
        }
        parents.push(parent);
      }
      const generation = Math.max(...parents.map((p) => p.generation)) + 1;
      const node = byKey.get(key) ?? addNode(generation);
      const edgeType = (e.edge_type as string | null) ??
        (type === "pattern_merged" ? "merged_from" : "modified_from");
      for (const parent of parents) {
        if (parent.id === node.id) {
          return {
            ok: false,
            error:
              'Operation failed: new row for relation "pattern_lineage_edges" violates check constraint "no_self_loops"',
            errorType: "CheckViolationError",
          };
        }
        const edgeKey = `${parent.id}>${node.id}>${edgeType}`;
        if (!edgeKeys.has(edgeKey)) {
          edgeKeys.add(edgeKey);
          edges.push({
            source: parent,
            target: node,
            edge_type: edgeType,
            transformation_type: (e.transformation_type as string | null) ??
              (type === "pattern_merged" ? "merge" : "refactor"),
          });
        }
      }
      return {
        ok: true,
        data: {
          pattern_node_id: node.id,
          pattern_id: id,
          parent_node_ids: parents.map((p) => p.id),
          generation: node.generation,
        },
      };
    }
    const existing = byKey.get(key);
    if (existing) {
      return {
        ok: true,
        data: {
          pattern_node_id: existing.id,
          status: "already_exists",
          message: "Pattern already exists in lineage",
        },
      };
    }
    const node = addNode(1);
    return { ok: true, data: { pattern_node_id: node.id, pattern_id: id } };
  };

  const processEvents = async (events: Json[]): Promise<EventResult[]> => {
    const results: EventResult[] = [];
    for (const e of events) {
      if (options.perEventMs > 0) await new Promise((r) => setTimeout(r, options.perEventMs));
      results.push(trackOne(e));
    }
    return results;
  };

  const metadataOf = (r: EventResult) =>
    r.ok
      ? { operation: "tracked", duration_ms: 1 }
      : { operation: "tracked", duration_ms: 1, error_type: r.errorType };

  const rateLimited = (): Response | null => {
    const limited = () =>
      json(
        { detail: "Rate limit exceeded" },
        429,
        options.retryAfter === null ? {} : { "retry-after": options.retryAfter },
      );
    if (options.mode === "rateLimit") return limited();
    if (!options.rateLimit) return null;
    if (Date.now() - windowStart >= options.rateLimit.windowMs) {
      windowStart = Date.now();
      windowCount = 0;
    }
    return ++windowCount > options.rateLimit.max ? limited() : null;
  };

  const handle = async (
    req: Request,
    bodyText: string,
    countEvents: (n: number) => void,
  ): Promise<Response> => {
    const url = new URL(req.url);
    requestCount++;
    const mode = options.mode;
    switch (mode) {
      case "ok":
      case "reject4xx":
      case "down":
      case "dbDown":
      case "rateLimit":
      case "hollow":
      case "lose":
        break;
      case "error5xx":
        return json({ detail: "Database connection not available" }, requestCount % 2 ? 503 : 500);
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
    const evolution = path?.match(/^\/lineage\/([^/]+)\/evolution$/);
    if (evolution && req.method === "GET") return evolutionOf(decodeURIComponent(evolution[1]!));
    const lineage = path?.match(/^\/lineage\/([^/]+)$/);
    if (lineage && req.method === "GET") {
      const limited = rateLimited();
      if (limited) return limited;
      return queryLineage(
        decodeURIComponent(lineage[1]!),
        url.searchParams.get("query_type") ?? "ancestry",
      );
    }
    if (path === "/analytics/compute" && req.method === "POST") {
      try {
        analytics.push(JSON.parse(bodyText));
      } catch { /* recorded only when readable */ }
      return json(
        {
          detail:
            "Analytics computation failed: 'coroutine' object has no attribute 'execute_reduction'",
        },
        500,
      );
    }
    if (path !== "/lineage/track" && path !== "/lineage/track/batch") {
      return json({ detail: "Not Found" }, 404);
    }
    if (req.method !== "POST") return json({ detail: "Method Not Allowed" }, 405);
    const limited = rateLimited();
    if (limited) return limited;
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      return json(
        { detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }] },
        422,
      );
    }
    const batch = path === "/lineage/track/batch";
    const events = batch ? (body as { events?: unknown })?.events : [body];
    if (!Array.isArray(events)) {
      return json(
        { detail: [{ loc: ["body", "events"], msg: "Field required", type: "missing" }] },
        422,
      );
    }
    countEvents(events.length);
    const problems = events.flatMap((e, i) =>
      typeProblems(e, batch ? ["body", "events", i] : ["body"])
    );
    if (problems.length) return json({ detail: problems }, 422);
    for (const e of events as Json[]) {
      const problem = contractProblem(e, options.invalidPatternIds);
      if (problem) return json({ detail: problem }, 400);
    }
    if (mode === "hollow") {
      return new Response(options.hollowBody, { headers: { "content-type": "application/json" } });
    }
    if (mode === "lose") {
      // Read, then lost before anything was stored: the answer breaks off.
      return new Response(
        new ReadableStream({ start: (c) => c.error(new Error("lost before commit")) }),
      );
    }
    if (batch && events.length === 0) {
      return json({ detail: "Batch lineage tracking failed: float division by zero" }, 500);
    }
    const results = await processEvents(events as Json[]);
    if (!batch) {
      const r = results[0]!;
      if (r.ok) {
        return json({
          success: true,
          data: r.data,
          metadata: { ...metadataOf(r), processing_time_ms: 1 },
        });
      }
      return json(
        { success: false, error: r.error, metadata: metadataOf(r), processing_time_ms: 1 },
        r.error.toLowerCase().includes("database") ? 500 : 400,
      );
    }
    const ok: Json[] = [];
    const failed: Json[] = [];
    let duplicates = 0;
    results.forEach((r, i) => {
      const patternId = (events[i] as Json).pattern_id;
      if (r.ok) {
        if (r.data.status === "already_exists") duplicates++;
        ok.push({ event_index: i, data: r.data, metadata: metadataOf(r), pattern_id: patternId });
      } else {
        failed.push({
          event_index: i,
          error: r.error,
          metadata: metadataOf(r),
          pattern_id: patternId,
        });
      }
    });
    return json({
      success: failed.length === 0,
      batch_summary: {
        total_events: events.length,
        successful_events: ok.length,
        failed_events: failed.length,
        handled_duplicates: duplicates,
        processing_mode: (body as Json).processing_mode ?? "parallel",
      },
      successful_results: ok,
      failed_results: failed.length ? failed : null,
      metadata: { processing_time_ms: 1 },
    });
  };

  const evolutionOf = (id: string): Response => {
    if (options.mode === "dbDown") {
      return json({
        success: false,
        error: `Evolution path query failed: ${DB_DOWN}`,
        pattern_id: id,
      }, 500);
    }
    const mine = nodes.filter((n) => n.pattern_id === id);
    if (mine.length === 0) {
      return json({ success: false, error: `Pattern not found: ${id}`, pattern_id: id }, 404);
    }
    const ids = new Set(mine.map((n) => n.id));
    const touching = edges.filter((e) => ids.has(e.source.id) || ids.has(e.target.id));
    return json({
      success: true,
      data: {
        pattern_id: id,
        total_versions: mine.length,
        evolution_nodes: mine.map((n) => ({
          node_id: n.id,
          pattern_id: n.pattern_id,
          version: n.version,
          generation: n.generation,
        })),
        evolution_edges: touching.map((e) => ({
          source_node_id: e.source.id,
          target_node_id: e.target.id,
          source_pattern_id: e.source.pattern_id,
          target_pattern_id: e.target.pattern_id,
          source_version: e.source.version,
          target_version: e.target.version,
          edge_type: e.edge_type,
          transformation_type: e.transformation_type,
        })),
      },
    });
  };

  const queryLineage = (id: string, queryType: string): Response => {
    if (queryType === "ancestry") {
      // The real function sets statement_timeout to the literal "v_timeout": always 500.
      return json({
        success: false,
        error: 'Operation failed: invalid value for parameter "statement_timeout": "v_timeout"',
        metadata: { error_type: "InvalidParameterValueError" },
      }, 500);
    }
    const node = newestOf(id);
    if (!node) {
      return json({ success: false, error: `Validation error: Pattern not found: ${id}` }, 404);
    }
    const descendants = edges.filter((e) => e.source.id === node.id).map((e) => ({
      descendant_id: e.target.id,
      descendant_pattern_id: e.target.pattern_id,
      edge_type: e.edge_type,
      transformation_type: e.transformation_type,
    }));
    return json({
      success: true,
      data: {
        pattern_id: id,
        pattern_node_id: node.id,
        descendants,
        total_descendants: descendants.length,
      },
    });
  };

  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  let port = initial.port ?? 0;
  const listen = () => {
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
      const url = new URL(req.url);
      // Read the body first: a slow answer still stores what it received, as the real server
      // does after the client gave up waiting.
      const bodyText = req.method === "POST" ? await req.text().catch(() => "") : "";
      let eventCount = 0;
      const response = await handle(req, bodyText, (n) => eventCount = n);
      seen.push({
        method: req.method,
        path: url.pathname,
        status: response.status,
        eventCount,
        ...(options.recordBodies ? { body: bodyText } : {}),
      });
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
    events: () => nodes.map((n) => n.event),
    nodes: () => nodes.map(({ event: _e, ...n }) => n),
    edges: () => [...edges],
    patternIds: () => new Set(nodes.map((n) => n.pattern_id)),
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
    reset() {
      nodes = [];
      byKey = new Map();
      edges = [];
      edgeKeys = new Set();
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
