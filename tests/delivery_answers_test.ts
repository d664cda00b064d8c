/**
 * Reading the Phase 4 server's answers by what they mean: the messages and bodies below are the
 * real server's (captured running it, see docs/phase4.md).
 */
import assert from "node:assert/strict";
import {
  classifyFailure,
  parseRetryAfter,
  readEventAnswer,
  saysAlreadyExists,
} from "../src/delivery/phase4_answers.ts";
import {
  fetchNodeVersions,
  postBatch,
  postSingle,
  type SendResult,
} from "../src/delivery/client.ts";

const DB_DOWN = "Operation failed: [Errno 111] Connect call failed ('127.0.0.1', 37332)";

Deno.test("a database outage inside a 400 is transient; a missing parent names the parent; a database refusal of the data is a rejection", () => {
  assert.deepEqual(classifyFailure(DB_DOWN, "ConnectionRefusedError"), {
    kind: "transient",
    message: DB_DOWN,
    maybeStored: false,
  });
  assert.equal(
    classifyFailure(DB_DOWN, null).kind,
    "transient",
    "by message when no type is given",
  );
  for (
    const [message, type] of [
      [
        "Operation failed: connection was closed in the middle of operation",
        "ConnectionDoesNotExistError",
      ],
      ["Operation failed: the database system is shutting down", "CannotConnectNowError"],
      [
        "Operation failed: terminating connection due to administrator command",
        "AdminShutdownError",
      ],
      ["Individual event timed out", null],
    ] as const
  ) assert.equal(classifyFailure(message, type).kind, "transient", message);
  assert.equal(classifyFailure("Individual event timed out", null).kind, "transient");
  assert.equal(
    (classifyFailure("Individual event timed out", null) as { maybeStored: boolean }).maybeStored,
    true,
    "a timeout may come after the event was stored",
  );
  assert.deepEqual(
    classifyFailure(
      "Validation error: Parent pattern not found: 3d73da5b43ce076f",
      "validation_error",
    ),
    {
      kind: "missing_parent",
      message: "Validation error: Parent pattern not found: 3d73da5b43ce076f",
      parentPatternId: "3d73da5b43ce076f",
    },
  );
  for (
    const [message, type] of [
      [
        "Operation failed: unsupported Unicode escape sequence\nDETAIL:  \\u0000 cannot be converted to text.",
        "UntranslatableCharacterError",
      ],
      [
        "Operation failed: value too long for type character varying(50)",
        "StringDataRightTruncationError",
      ],
      ["track_creation requires pattern_data", null],
      ["'bogus' is not a valid LineageEventType", null],
    ] as const
  ) assert.equal(classifyFailure(message, type).kind, "rejected", message);
  // The exception type decides when the server names it: a message may quote our own data.
  assert.equal(
    classifyFailure("Operation failed: invalid input: connection refused", "DataError").kind,
    "rejected",
  );
});

Deno.test("already-exists is read from the structured fields only, never from words elsewhere", () => {
  assert.equal(saysAlreadyExists({ status: "already_exists" }, {}), true);
  assert.equal(saysAlreadyExists({}, { error_type: "unique_violation_handled" }), true);
  assert.equal(
    saysAlreadyExists({ pattern_name: "duplicate_utils.py", status: "created" }, {}),
    false,
  );
  assert.equal(saysAlreadyExists({ message: "already exists" }, {}), false);
  assert.deepEqual(
    readEventAnswer({
      success: true,
      data: { pattern_node_id: "n", pattern_name: "duplicate_utils.py" },
    }),
    { kind: "stored", alreadyExisted: false },
  );
});

Deno.test("answers that acknowledge nothing are not successes", () => {
  assert.equal(readEventAnswer(null), null);
  assert.equal(readEventAnswer({ success: true }), null);
  assert.equal(readEventAnswer({ success: true, data: {} }), null);
  assert.equal(readEventAnswer("ok"), null);
});

Deno.test("Retry-After is capped at 15 minutes", () => {
  assert.equal(parseRetryAfter("3", 0), 3);
  assert.equal(parseRetryAfter("99999999999", 0), 900);
  assert.equal(parseRetryAfter(new Date(10_000_000_000_000).toUTCString(), 0), 900);
  assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 0), 10);
  assert.equal(parseRetryAfter("soon", 0), null);
  assert.equal(parseRetryAfter(null, 0), null);
});

/** A fetch that answers every request with this status, body and headers. */
function answering(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): typeof fetch {
  return () => Promise.resolve(new Response(body, { status, headers }));
}

const deps = (f: typeof fetch) => ({ fetch: f, timeoutMs: 1000, now: () => 0 });

Deno.test("a 200 batch answer is read event by event; an event it does not mention is in doubt", async () => {
  const body = JSON.stringify({
    success: false,
    successful_results: [
      { event_index: 0, data: { pattern_node_id: "n0" }, metadata: {} },
      { event_index: 2, data: { pattern_node_id: "n2", status: "already_exists" }, metadata: {} },
    ],
    failed_results: [{
      event_index: 1,
      error: DB_DOWN,
      metadata: { error_type: "ConnectionRefusedError" },
    }],
  });
  const result = await postBatch("http://x", ["{}", "{}", "{}", "{}"], deps(answering(200, body)));
  assert.equal(result.kind, "answered");
  const verdicts = (result as Extract<SendResult, { kind: "answered" }>).verdicts;
  assert.deepEqual(verdicts.map((v) => v.kind), ["stored", "transient", "stored", "transient"]);
  assert.deepEqual(verdicts[2], { kind: "stored", alreadyExisted: true });
  assert.deepEqual(verdicts[3], {
    kind: "transient",
    message: "not in the batch answer",
    maybeStored: true,
  });
});

Deno.test("empty, null and bare-success answers are failures, in doubt", async () => {
  for (const body of ["", "null", '{"success":true}', '{"success":true,"successful_results":[]}']) {
    for (
      const post of [
        postBatch,
        (u: string, b: string[], d: ReturnType<typeof deps>) => postSingle(u, b[0]!, d),
      ]
    ) {
      const result = await post("http://x", ["{}"], deps(answering(200, body)));
      assert.equal(result.kind, "unavailable", `${body}`);
      assert.match((result as { message: string }).message, /acknowledged nothing/);
      assert.equal((result as { maybeStored: boolean }).maybeStored, true);
    }
  }
});

Deno.test("single answers: a database outage in a 400 is transient, a missing parent is answered, a contract refusal is a rejection", async () => {
  const outage = await postSingle(
    "http://x",
    "{}",
    deps(answering(
      400,
      JSON.stringify({
        success: false,
        error: DB_DOWN,
        metadata: { error_type: "ConnectionRefusedError" },
      }),
    )),
  );
  assert.equal(outage.kind, "unavailable");
  assert.equal((outage as { maybeStored: boolean }).maybeStored, false);
  const orphan = await postSingle(
    "http://x",
    "{}",
    deps(answering(
      400,
      JSON.stringify({
        success: false,
        error: "Validation error: Parent pattern not found: abc",
        metadata: { error_type: "validation_error" },
      }),
    )),
  );
  assert.deepEqual(orphan.kind === "answered" && orphan.verdicts[0]?.kind, "missing_parent");
  const contract = await postSingle(
    "http://x",
    "{}",
    deps(answering(400, JSON.stringify({ detail: "track_creation requires pattern_data" }))),
  );
  assert.deepEqual(contract.kind === "answered" && contract.verdicts[0]?.kind, "rejected");
});

Deno.test("429 without Retry-After backs off; with one, it is honoured up to 15 minutes; a 5xx may have stored the events", async () => {
  const plain = await postBatch(
    "http://x",
    ["{}"],
    deps(answering(429, '{"detail":"Rate limit exceeded"}')),
  );
  assert.deepEqual(
    plain.kind === "unavailable" && [plain.retryAfterSeconds, plain.maybeStored],
    [null, false],
  );
  const huge = await postBatch(
    "http://x",
    ["{}"],
    deps(answering(429, "{}", { "retry-after": "99999999999" })),
  );
  assert.equal(huge.kind === "unavailable" && huge.retryAfterSeconds, 900);
  const crash = await postBatch(
    "http://x",
    ["{}"],
    deps(answering(500, '{"detail":"Batch lineage tracking failed: boom"}')),
  );
  assert.equal(crash.kind === "unavailable" && crash.maybeStored, true);
  const refused = await postBatch(
    "http://x",
    ["{}"],
    deps(answering(400, '{"detail":"\'bogus\' is not a valid LineageEventType"}')),
  );
  assert.deepEqual(refused.kind === "refused" && refused.unsupported, false);
  const gone = await postBatch("http://x", ["{}"], deps(answering(404, '{"detail":"Not Found"}')));
  assert.deepEqual(gone.kind === "refused" && gone.unsupported, true);
});

Deno.test("a refused connection never reached the server; a timeout may have", async () => {
  // As Deno reports it: "fetch failed", the reason in the cause.
  const refused: typeof fetch = () =>
    Promise.reject(
      new TypeError("fetch failed", {
        cause: new Error("tcp connect error: Connection refused (os error 111)"),
      }),
    );
  const r = await postBatch("http://x", ["{}"], deps(refused));
  assert.deepEqual(r.kind === "unavailable" && [r.maybeStored, r.timedOut], [false, false]);
  const hanging: typeof fetch = (_u, init) =>
    new Promise((_, reject) =>
      init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))
    );
  const t = await postBatch("http://x", ["{}"], { fetch: hanging, timeoutMs: 50, now: () => 0 });
  assert.deepEqual(t.kind === "unavailable" && [t.maybeStored, t.timedOut], [true, true]);
});

Deno.test("the evolution query lists the versions the server holds; 404 means none; 500 is unavailable", async () => {
  const body = JSON.stringify({
    success: true,
    data: {
      evolution_nodes: [{ version: "1.0.0+aaa" }, { version: "3.0.0+bbb" }],
      evolution_edges: [],
    },
  });
  const known = await fetchNodeVersions("http://x", "p", deps(answering(200, body)));
  assert.deepEqual(known, { kind: "known", versions: new Set(["1.0.0+aaa", "3.0.0+bbb"]) });
  const none = await fetchNodeVersions(
    "http://x",
    "p",
    deps(answering(404, '{"success":false,"error":"Pattern not found: p","pattern_id":"p"}')),
  );
  assert.deepEqual(none, { kind: "known", versions: new Set() });
  const down = await fetchNodeVersions(
    "http://x",
    "p",
    deps(answering(500, `{"success":false,"error":"Evolution path query failed: [Errno 111]"}`)),
  );
  assert.equal(down.kind, "unavailable");
});
