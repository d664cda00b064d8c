/**
 * Delivery under faults, against the strict loopback Phase 4 stand-in: each test asserts exactly which
 * events the server finally holds — none lost, none dead-lettered that should not be.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { defaultConfig, type TrackerConfig } from "../src/config.ts";
import { flushOutbox, type FlushReport } from "../src/flush.ts";
import { openStore } from "../src/store.ts";
import { type Phase4Server, startPhase4Server } from "./phase4_server.ts";
import { denoDirEnv, waitUntil } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface Expected {
  patternId: string;
  version: string;
  parents: string[];
}

function testConfig(
  dataDir: string,
  url: string,
  overrides: Partial<TrackerConfig> = {},
): TrackerConfig {
  return {
    ...defaultConfig(dataDir),
    dataDir,
    logFile: `${dataDir}/log.jsonl`,
    intelligenceUrl: url,
    timeoutSeconds: 0.5,
    maxRetries: 2,
    batchSize: 5,
    autoFlush: false,
    ...overrides,
  };
}

/** Records `files` files with `edits` modifications each; returns the events the outbox must deliver. */
async function recordSession(
  config: TrackerConfig,
  files: number,
  edits: number,
): Promise<Expected[]> {
  const tracker = new PatternTracker(config);
  for (let f = 0; f < files; f++) {
    const path = `/project/src/module_${f}.py`;
    let code = `def f${f}():\n    return ${f}\n`;
    await tracker.trackCreation(code, { filePath: path });
    for (let e = 1; e <= edits; e++) {
      const next = `${code}\ndef g${f}_${e}(x):\n    return x + ${e}\n`;
      await tracker.trackModification(next, { filePath: path, parentCode: code });
      code = next;
    }
  }
  tracker.close();
  const store = openStore(config.dataDir);
  const rows = store.pendingEvents(100_000);
  store.close();
  return rows.map((r) => ({
    patternId: r.patternId,
    version: r.patternVersion,
    parents: r.parentPatternIds,
  }));
}

/** The server holds each expected event exactly once, and every parent before its child. */
function assertServerHoldsExactly(server: Phase4Server, expected: Expected[]) {
  const held = server.events();
  const key = (p: string, v: string) => `${p}@${v}`;
  const heldKeys = held.map((e) => key(e.pattern_id as string, e.pattern_version as string));
  assert.equal(new Set(heldKeys).size, heldKeys.length, "the server stored an event twice");
  assert.deepEqual(new Set(heldKeys), new Set(expected.map((e) => key(e.patternId, e.version))));
  const firstSeen = new Map<string, number>();
  held.forEach((e, i) => {
    if (!firstSeen.has(e.pattern_id as string)) firstSeen.set(e.pattern_id as string, i);
  });
  held.forEach((e, i) => {
    for (const parent of e.parent_pattern_ids as string[]) {
      assert.ok(
        (firstSeen.get(parent) ?? Infinity) < i,
        `${e.pattern_id} arrived before its parent ${parent}`,
      );
    }
  });
}

async function flushUntilEmpty(
  dataDir: string,
  config: TrackerConfig,
  rounds = 8,
): Promise<FlushReport[]> {
  const reports: FlushReport[] = [];
  for (let i = 0; i < rounds; i++) {
    const store = openStore(dataDir);
    try {
      const report = await flushOutbox(store, config, { ignoreBreaker: true });
      reports.push(report);
      if (report.left === 0) break;
    } finally {
      store.close();
    }
  }
  return reports;
}

function storeCounts(dataDir: string) {
  const store = openStore(dataDir);
  try {
    return store.counts();
  } finally {
    store.close();
  }
}

async function withServer(
  fn: (server: Phase4Server, dataDir: string) => Promise<void>,
  options = {},
) {
  const server = await startPhase4Server(options);
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-faults-" });
  try {
    await fn(server, dataDir);
  } finally {
    await server.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
}

Deno.test("server down for a whole session of edits, then up: everything arrives, in causal order", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    await server.setMode("down");
    const expected = await recordSession(config, 3, 3);
    assert.equal(expected.length, 12);
    const store = openStore(dataDir);
    const down = await flushOutbox(store, config);
    store.close();
    assert.equal(down.sent, 0);
    assert.equal(down.left, 12);
    assert.equal(down.breaker.state, "open");
    assert.match(down.stopped ?? "", /unavailable/);
    // A background flush while the breaker is open does not even try.
    const store2 = openStore(dataDir);
    const blocked = await flushOutbox(store2, config);
    store2.close();
    assert.equal(blocked.requests, 0);
    assert.match(blocked.stopped ?? "", /breaker open/);
    await server.setMode("ok");
    const reports = await flushUntilEmpty(dataDir, config);
    assert.equal(reports.at(-1)?.left, 0);
    assertServerHoldsExactly(server, expected);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
    // Delivered patterns get an analytics refresh, best effort.
    const refreshed = server.analyticsCalls().map((c) => (c as { pattern_id: string }).pattern_id);
    assert.ok(refreshed.length > 0 && refreshed.every((id) => server.patternIds().has(id)));
  });
});

Deno.test("a batch refused as a whole (422) is resent event by event: only the malformed one is dead-lettered", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { batchSize: 10 });
    const expected = await recordSession(config, 2, 1);
    const store = openStore(dataDir);
    const good = JSON.parse(store.pendingEvents(1)[0]!.body);
    // An event with a field the real API does not have (there is no "metadata").
    store.enqueue({
      patternId: "badbadbadbadbad0",
      patternVersion: "1.0.0",
      parentPatternIds: [],
      body: JSON.stringify({ ...good, pattern_id: "badbadbadbadbad0", metadata: { x: 1 } }),
      createdAt: new Date().toISOString(),
    });
    const report = await flushOutbox(store, config);
    const letters = store.deadLetters();
    store.close();
    assert.equal(report.deadLettered, 1);
    assert.equal(letters[0]?.patternId, "badbadbadbadbad0");
    assert.equal(letters[0]?.status, 422);
    assert.match(letters[0]?.message ?? "", /metadata/);
    assertServerHoldsExactly(server, expected);
    const singles = server.requests().filter((r) => r.path.endsWith("/lineage/track"));
    assert.equal(
      singles.length,
      expected.length + 1,
      "only the refused batch was resent one by one",
    );
  });
});

Deno.test("5xx answers are retried and nothing is dead-lettered", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const expected = await recordSession(config, 2, 2);
    await server.setMode("error5xx");
    const store = openStore(dataDir);
    const first = await flushOutbox(store, config);
    store.close();
    assert.equal(first.sent, 0);
    assert.equal(first.requests, config.maxRetries + 1, "one try plus max_retries retries");
    await server.setMode("ok");
    await flushUntilEmpty(dataDir, config);
    assertServerHoldsExactly(server, expected);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("429 with Retry-After is honoured and everything arrives", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { maxRetries: 4 });
    const expected = await recordSession(config, 3, 2);
    await server.setMode("ok", { rateLimit: { max: 1, windowMs: 1000 }, retryAfterSeconds: 1 });
    await flushUntilEmpty(dataDir, config);
    assertServerHoldsExactly(server, expected);
    const requests = server.requests().filter((r) => r.path.includes("/lineage/track"));
    const limited = requests.filter((r) => r.status === 429);
    assert.ok(limited.length > 0, "the rate limit was hit");
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("a server slower than timeout_seconds: requests are abandoned, then resent without duplicates", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { maxRetries: 0, batchSize: 100 });
    const expected = await recordSession(config, 2, 1);
    await server.setMode("slow", { slowMs: 1500 });
    const store = openStore(dataDir);
    const started = performance.now();
    const slow = await flushOutbox(store, config);
    store.close();
    assert.ok(performance.now() - started < 1400, "the request was bounded by timeout_seconds");
    assert.equal(slow.sent, 0);
    assert.equal(slow.left, expected.length);
    await new Promise((r) => setTimeout(r, 1700)); // the slow server finishes storing what it got
    await server.setMode("ok");
    const reports = await flushUntilEmpty(dataDir, config);
    assertServerHoldsExactly(server, expected);
    assert.equal(
      reports.reduce((n, r) => n + r.alreadyExisted, 0),
      expected.length,
      "all were already there",
    );
  });
});

Deno.test("a flaky server: every event arrives exactly once", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { batchSize: 3 });
    const expected = await recordSession(config, 4, 3);
    await server.setMode("flaky", { flakyEvery: 2 });
    await flushUntilEmpty(dataDir, config, 20);
    assertServerHoldsExactly(server, expected);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("a poisoned event (4xx) is dead-lettered without blocking the others; --retry-dead sends it later", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const expected = await recordSession(config, 3, 2);
    const poisoned = expected.find((e) =>
      e.parents.length === 0 && e.patternId !== expected[0]?.patternId
    ) as Expected;
    await server.setMode("reject4xx", { poisonPatternIds: [poisoned.patternId] });
    const reports = await flushUntilEmpty(dataDir, config, 3);
    const dead = storeCounts(dataDir);
    assert.equal(dead.deadLetters, 1);
    assert.equal(reports.reduce((n, r) => n + r.deadLettered, 0), 1);
    // Its two descendants wait; everything else arrived.
    const descendants = 2;
    assert.equal(dead.outbox, descendants);
    assert.equal(server.events().length, expected.length - 1 - descendants);
    const store = openStore(dataDir);
    const letter = store.deadLetters()[0];
    store.close();
    assert.equal(letter?.patternId, poisoned.patternId);
    assert.equal(letter?.status, 400);
    assert.ok(letter?.message.length, "the server's message is kept");
    await server.setMode("ok", { poisonPatternIds: [] });
    const cli = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}tracker.ts`, "flush", "--retry-dead"],
      env: {
        PATTERN_TRACKER_DATA_DIR: dataDir,
        PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
        PATTERN_TRACKER_CONFIG: `${dataDir}/none.yaml`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(cli.stdout);
    assert.equal(cli.code, 0, out + new TextDecoder().decode(cli.stderr));
    assert.match(out, /Sent 3 event/);
    assertServerHoldsExactly(server, expected);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("kill -9 of the flusher mid-batch loses nothing; the next flush resends only what was not acknowledged", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { batchSize: 4 });
    const expected = await recordSession(config, 4, 3);
    await server.setMode("slow", { slowMs: 800 });
    const env = {
      PATTERN_TRACKER_DATA_DIR: dataDir,
      PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
      PATTERN_TRACKER_CONFIG: `${dataDir}/none.yaml`,
      PATTERN_TRACKER_BATCH_SIZE: "4",
      PATTERN_TRACKER_TIMEOUT_SECONDS: "10",
    };
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}tracker.ts`, "flush"],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Kill it while the second batch is in flight: the first was acknowledged, the second not.
    await waitUntil(
      () => server.requests().filter((r) => r.path.endsWith("/batch")).length >= 2,
      10_000,
      20,
    );
    child.kill("SIGKILL");
    await child.status;
    const afterKill = storeCounts(dataDir);
    assert.ok(
      afterKill.outbox > 0 && afterKill.outbox < expected.length,
      `outbox after kill: ${afterKill.outbox}`,
    );
    await new Promise((r) => setTimeout(r, 900));
    await server.setMode("ok");
    const reports = await flushUntilEmpty(dataDir, config);
    assert.equal(
      reports.reduce((n, r) => n + r.sent, 0),
      afterKill.outbox,
      "only the unacknowledged were sent",
    );
    assertServerHoldsExactly(server, expected);
  });
});

Deno.test("16 concurrent hooks with a flaky server: nothing lost, nothing duplicated", async () => {
  await withServer(async (server, dataDir) => {
    await server.setMode("flaky", { flakyEvery: 3 });
    const payload = JSON.parse(Deno.readTextFileSync(`${ROOT}tests/fixtures/02-post-write.json`));
    const env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: dataDir,
      ...denoDirEnv(),
      PATTERN_TRACKER_DATA_DIR: dataDir,
      PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
      PATTERN_TRACKER_CONFIG: `${dataDir}/none.yaml`,
      PATTERN_TRACKER_TIMEOUT_SECONDS: "1",
    };
    const runs = Array.from({ length: 16 }, async (_, i) => {
      const body = {
        ...payload,
        tool_use_id: `toolu_c${i}`,
        tool_input: {
          ...payload.tool_input,
          file_path: `/project/f${i}.py`,
          content: `x = ${i}\n`,
        },
        tool_response: {
          ...payload.tool_response,
          filePath: `/project/f${i}.py`,
          content: `x = ${i}\n`,
        },
      };
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}post_hook.ts`],
        env,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(JSON.stringify(body)));
      await w.close();
      const out = await child.output();
      assert.equal(out.code, 0);
      assert.equal(out.stdout.length, 0);
    });
    await Promise.all(runs);
    // Background flushers started by the hooks are delivering; wait for them, then drain the rest.
    const config = testConfig(dataDir, server.url, { timeoutSeconds: 1 });
    await waitUntil(() => storeCounts(dataDir).outbox === 0, 20_000, 200);
    const { waitForFlusherLock } = await import("../src/flusher.ts");
    const lock = await waitForFlusherLock(dataDir, 20_000);
    lock?.close();
    await flushUntilEmpty(dataDir, config, 20);
    const expectedIds = await Promise.all(
      Array.from(
        { length: 16 },
        async (_, i) => (await import("../src/pattern.ts")).patternId(`x = ${i}\n`),
      ),
    );
    const held = server.events().map((e) => e.pattern_id as string);
    assert.equal(held.length, 16, `server holds ${held.length}`);
    assert.deepEqual(new Set(held), new Set(expectedIds));
    assert.equal(storeCounts(dataDir).executions, 16);
  });
});

Deno.test("the background flusher lingers for new events, delivers them, then exits and frees the lock", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const first = await recordSession(config, 1, 1);
    const { runBackgroundFlusher } = await import("../src/flush.ts");
    const { tryFlusherLock } = await import("../src/flusher.ts");
    const started = performance.now();
    const running = runBackgroundFlusher(config, { log: () => {}, lingerMs: 600, pollMs: 50 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tryFlusherLock(dataDir), null, "the lingering flusher holds the lock");
    // A hook queues more while the flusher lingers: it does not start another, the flusher takes it.
    const tracker = new PatternTracker(config);
    await tracker.trackCreation("late = 1\n", { filePath: "/project/late.py" });
    tracker.close();
    await running;
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 600 && elapsed < 5000, `lingered ${elapsed} ms`);
    assert.equal(storeCounts(dataDir).outbox, 0);
    assert.equal(server.events().length, first.length + 1);
    const lock = tryFlusherLock(dataDir);
    assert.ok(lock, "the lock is free after exit");
    lock.close();
  });
});
