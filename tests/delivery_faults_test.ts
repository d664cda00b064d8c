/**
 * Delivery under faults, against the loopback Phase 4 stand-in (which behaves like the real server
 * where the client depends on it): each test asserts exactly which nodes and edges the server
 * finally holds — none lost, none twice, none dead-lettered that should not be.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import type { TrackerConfig } from "../src/config/mod.ts";
import { flushOutbox } from "../src/delivery/flush.ts";
import { openStore } from "../src/store/mod.ts";
import { type Phase4Server, type Phase4ServerOptions, startPhase4Server } from "./phase4_server.ts";
import { denoDirEnv, waitUntil } from "./support.ts";
import {
  compareWithImage,
  expectedImage,
  flushUntilEmpty,
  storeCounts,
  testConfig,
} from "./delivery_support.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Records `files` files with `edits` modifications each; returns how many versions that made. */
async function recordSession(config: TrackerConfig, files: number, edits: number): Promise<number> {
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
  return files * (edits + 1);
}

/** The server holds one node per local version and every local edge, node to node, no cycle. */
function assertServerHoldsExactly(server: Phase4Server, dataDir: string) {
  const image = expectedImage(dataDir);
  const c = compareWithImage(image, server.nodes(), server.edges());
  assert.deepEqual(c.missingNodes, [], "versions missing on the server");
  assert.deepEqual(c.extraNodes, [], "nodes that are no local version");
  assert.deepEqual(c.duplicateNodes, []);
  assert.deepEqual(c.missingEdges, [], "local edges missing on the server");
  assert.deepEqual(c.patternEdges, [], "edges attached to another node of the parent's pattern");
  assert.deepEqual(c.extraEdges, []);
  assert.equal(c.exactEdges, image.edges.length);
  assert.equal(c.cycle, null);
}

async function withServer(
  fn: (server: Phase4Server, dataDir: string) => Promise<void>,
  options: Phase4ServerOptions = {},
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
    const versions = await recordSession(config, 3, 3);
    assert.equal(versions, 12);
    const store = openStore(dataDir);
    const down = await flushOutbox(store, config);
    assert.equal(store.outboxCounts().inDoubt, 0, "a refused connection never reached the server");
    assert.match(store.meta("last_error") ?? "", /Connection refused/);
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
    const reports = await flushUntilEmpty(config);
    assert.equal(reports.at(-1)?.left, 0);
    assert.equal(
      reports.reduce((n, r) => n + r.confirmed, 0),
      0,
      "a refused connection left no doubt",
    );
    assertServerHoldsExactly(server, dataDir);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("a batch refused as a whole (400, as the real server does for a contract violation) is resent event by event: only the bad one is dead-lettered", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { batchSize: 10 });
    const versions = await recordSession(config, 2, 1);
    const tracker = new PatternTracker(config);
    await tracker.trackCreation("bad = 1\n", { filePath: "/project/bad.py" });
    tracker.close();
    const bad = (await import("../src/record/pattern.ts")).patternId("bad = 1\n");
    await server.setMode("ok", { invalidPatternIds: [await bad] });
    const store = openStore(dataDir);
    const report = await flushOutbox(store, config);
    const letters = store.deadLetters();
    store.close();
    assert.equal(report.deadLettered, 1);
    assert.equal(letters[0]?.patternId, await bad);
    assert.equal(letters[0]?.status, 400);
    assert.match(letters[0]?.message ?? "", /requires pattern_data/);
    assert.equal(server.nodes().length, versions);
    const singles = server.requests().filter((r) => r.path.endsWith("/lineage/track"));
    assert.equal(singles.length, versions + 1, "only the refused batch was resent one by one");
  });
});

Deno.test("5xx answers are retried, then the flush stops with the breaker open; nothing is dead-lettered", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    await recordSession(config, 2, 2);
    await server.setMode("error5xx");
    const store = openStore(dataDir);
    const first = await flushOutbox(store, config, { deps: { settlePauseMs: 10 } });
    store.close();
    assert.equal(first.sent, 0);
    assert.equal(first.breaker.state, "open");
    // One send, then (a 5xx may come after the events were stored) verifications, each failing:
    // 1 + max_retries rounds in all.
    const tracking = server.requests().filter((r) => r.path.includes("/lineage/track"));
    assert.equal(tracking.length, 1);
    await server.setMode("ok");
    await flushUntilEmpty(config);
    assertServerHoldsExactly(server, dataDir);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("429 with Retry-After is honoured and everything arrives", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { maxRetries: 4 });
    await recordSession(config, 3, 2);
    await server.setMode("ok", { rateLimit: { max: 1, windowMs: 1000 }, retryAfter: "1" });
    await flushUntilEmpty(config);
    assertServerHoldsExactly(server, dataDir);
    const limited = server.requests().filter((r) => r.status === 429);
    assert.ok(limited.length > 0, "the rate limit was hit");
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("a server slower than the timeout: requests are abandoned, the server is asked, nothing is sent twice", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { maxRetries: 0, batchSize: 100 });
    const versions = await recordSession(config, 2, 1);
    await server.setMode("slow", { slowMs: 1500 });
    const store = openStore(dataDir);
    const started = performance.now();
    const slow = await flushOutbox(store, config);
    store.close();
    const elapsed = performance.now() - started;
    // timeout_seconds plus 50 ms per event of the batch.
    assert.ok(elapsed < 1400, `the request was bounded by its timeout (${elapsed} ms)`);
    assert.equal(slow.sent, 0);
    assert.equal(slow.left, versions);
    assert.equal(storeCounts(dataDir).outbox, versions);
    // The slow server finishes storing what it got: wait for that, not for a guess of the time.
    assert.ok(await waitUntil(() => server.events().length >= versions, 20_000, 20), "stored");
    await server.setMode("ok");
    const reports = await flushUntilEmpty(config);
    assertServerHoldsExactly(server, dataDir);
    assert.equal(reports.reduce((n, r) => n + r.confirmed, 0), versions, "all found on the server");
    assert.equal(reports.reduce((n, r) => n + r.sent, 0), 0, "none sent twice");
  });
});

Deno.test("a flaky server: every version arrives exactly once", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { batchSize: 3 });
    await recordSession(config, 4, 3);
    await server.setMode("flaky", { flakyEvery: 2 });
    await flushUntilEmpty(config, 30);
    assertServerHoldsExactly(server, dataDir);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("a poisoned event (refused by the database) is dead-lettered without blocking the others; --retry-dead sends it later", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    await recordSession(config, 3, 2);
    const store0 = openStore(dataDir);
    const poisoned = store0.fileHistory("/project/src/module_1.py")[0]!.patternId;
    store0.close();
    await server.setMode("reject4xx", { poisonPatternIds: [poisoned] });
    const reports = await flushUntilEmpty(config, 3);
    const dead = storeCounts(dataDir);
    assert.equal(dead.deadLetters, 1);
    assert.equal(reports.reduce((n, r) => n + r.deadLettered, 0), 1);
    // Its two descendants wait; everything else arrived.
    assert.equal(dead.outbox, 2);
    assert.equal(server.nodes().length, 9 - 1 - 2);
    const store = openStore(dataDir);
    const letter = store.deadLetters()[0];
    store.close();
    assert.equal(letter?.patternId, poisoned);
    assert.equal(letter?.status, 200, "refused inside a 200 batch answer");
    assert.match(letter?.message ?? "", /value too long/);
    // A plain flush does not put back what the server refused for good.
    const again = await flushUntilEmpty(config, 1);
    assert.equal(again[0]?.requeued, 0);
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
    assert.match(out, /Put 1 dead letter\(s\) back/);
    assertServerHoldsExactly(server, dataDir);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test("kill -9 of the flusher mid-batch loses nothing; the next flush asks the server and sends only what it lacks", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url, { batchSize: 4 });
    const versions = await recordSession(config, 4, 3);
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
      () =>
        server.requests().filter((r) => r.path.endsWith("/batch")).length >= 1 &&
        storeCounts(dataDir).outbox < versions,
      10_000,
      20,
    );
    await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGKILL");
    await child.status;
    const store = openStore(dataDir);
    const afterKill = store.outboxCounts();
    store.close();
    assert.ok(afterKill.queued > 0 && afterKill.queued < versions, `outbox: ${afterKill.queued}`);
    assert.equal(afterKill.inDoubt, 4, "the batch in flight is in doubt");
    // The slow server stores the abandoned batch: wait until it holds it.
    const delivered = versions - afterKill.queued;
    assert.ok(
      await waitUntil(() => server.events().length >= delivered + 4, 20_000, 20),
      "the server stored the abandoned batch",
    );
    await server.setMode("ok");
    const reports = await flushUntilEmpty(config);
    const confirmed = reports.reduce((n, r) => n + r.confirmed, 0);
    const sent = reports.reduce((n, r) => n + r.sent, 0);
    assert.equal(confirmed, 4, "the abandoned batch was stored by the server: found, not resent");
    assert.equal(sent, afterKill.queued - 4, "only what the server lacked was sent");
    assertServerHoldsExactly(server, dataDir);
  });
});

Deno.test("16 concurrent hooks with a flaky server: nothing lost, nothing duplicated", async () => {
  await withServer(async (server, dataDir) => {
    await server.setMode("flaky", { flakyEvery: 3 });
    const payload = JSON.parse(
      Deno.readTextFileSync(`${ROOT}src/cli/demo_session/02-post-write.json`),
    );
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
    const { waitForFlusherLock } = await import("../src/delivery/lock.ts");
    const lock = await waitForFlusherLock(dataDir, 20_000);
    lock?.close();
    // Under load a 1 s timeout can meet the flaky server max_retries times in a row: the event is
    // then a dead letter of a transient cause, which the next flush puts back and sends (nothing
    // is lost; a user's next flush does the same). Drain until neither outbox nor dead letters hold
    // anything, as a few plain flushes would.
    for (let round = 0; round < 5; round++) {
      await flushUntilEmpty(config, 20);
      const counts = storeCounts(dataDir);
      if (counts.outbox === 0 && counts.deadLetters === 0) break;
    }
    assert.equal(storeCounts(dataDir).deadLetters, 0, "a dead letter of a transient cause stayed");
    const expectedIds = await Promise.all(
      Array.from(
        { length: 16 },
        async (_, i) => (await import("../src/record/pattern.ts")).patternId(`x = ${i}\n`),
      ),
    );
    const held = server.nodes().map((n) => n.pattern_id);
    assert.equal(held.length, 16, `server holds ${held.length}`);
    assert.deepEqual(new Set(held), new Set(expectedIds));
    assert.equal(storeCounts(dataDir).executions, 16);
  });
});

Deno.test("the background flusher lingers for new events, delivers them, then exits and frees the lock", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const first = await recordSession(config, 1, 1);
    const { runBackgroundFlusher } = await import("../src/delivery/background.ts");
    const { tryFlusherLock } = await import("../src/delivery/lock.ts");
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
    assert.equal(server.nodes().length, first + 1);
    const lock = tryFlusherLock(dataDir);
    assert.ok(lock, "the lock is free after exit");
    lock.close();
  });
});
