/**
 * Faithful delivery to a server that finds parents by pattern ID and is not idempotent, against the
 * stand-in (which behaves like the real server there; the same scenarios run against the real one
 * in delivery_real_server_test.ts): every version a node, every edge on the right node, resends
 * harmless, outages and lost data healed without `--retry-dead`.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { flushOutbox } from "../src/delivery/flush.ts";
import { openStore } from "../src/store/mod.ts";
import { type Phase4Server, type Phase4ServerOptions, startPhase4Server } from "./phase4_server.ts";
import {
  compareWithImage,
  expectedImage,
  flushUntilEmpty,
  storeCounts,
  testConfig,
} from "./delivery_support.ts";
import {
  assertFaithful,
  describe,
  resendEverything,
  runOutageScenario,
  type ServerUnderTest,
  trackerEnv,
} from "./delivery_scenarios.ts";
import { runCli } from "./support.ts";

async function withServer(
  fn: (server: Phase4Server, dataDir: string) => Promise<void>,
  options: Phase4ServerOptions = {},
) {
  const server = await startPhase4Server(options);
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-identity-" });
  try {
    await fn(server, dataDir);
  } finally {
    await server.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
}

function underTest(server: Phase4Server): ServerUnderTest {
  return {
    url: server.url,
    graph: () => Promise.resolve({ nodes: server.nodes(), edges: server.edges() }),
    snapshot: () =>
      Promise.resolve(JSON.stringify({
        nodes: server.nodes(),
        edges: server.edges().map((e) => [e.source.id, e.target.id, e.edge_type]),
      })),
    stopDatabase: () => server.setMode("dbDown"),
    startDatabase: () => server.setMode("ok"),
  };
}

const tracking = (server: Phase4Server) =>
  server.requests().filter((r) => r.path.includes("/lineage/track")).length;

Deno.test("twins, a revert, a long file and a database outage mid-delivery: a plain flush heals it; every version a node, every edge node to node, no cycle; a full re-send changes nothing", async () => {
  await withServer(async (server, dataDir) => {
    await server.setMode("ok", { perEventMs: 1 });
    const config = testConfig(dataDir, server.url, {
      batchSize: 20,
      maxRetries: 2,
      timeoutSeconds: 2,
    });
    const target = underTest(server);
    const outcome = await runOutageScenario(target, config, 300, 120);
    console.log(describe(outcome));
    assertFaithful(outcome);
    assert.ok(outcome.firstFlush.sent >= 100, "the outage came in the middle of delivery");

    const before = await target.snapshot();
    const requestsBefore = tracking(server);
    const resend = await resendEverything(config);
    assert.equal(resend.queued, outcome.versions);
    assert.match(resend.output, /Sent 0 event/);
    assert.match(
      resend.output,
      new RegExp(`Found ${outcome.versions} event\\(s\\) in doubt already on the server`),
    );
    assert.equal(tracking(server), requestsBefore, "the re-send sent no tracking request at all");
    assert.equal(await target.snapshot(), before, "the server is unchanged");
  });
});

Deno.test("delivered edit by edit, identical content in two files: every version is a node; the edge the server cannot place exactly is the documented one", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const tracker = new PatternTracker(config);
    const flush = async () => {
      const store = openStore(dataDir);
      await flushOutbox(store, config, { ignoreBreaker: true });
      store.close();
    };
    const same = "x = 0\n";
    await tracker.trackCreation(same, { filePath: "/p/f.py" });
    await flush();
    await tracker.trackCreation(same, { filePath: "/p/g.py" });
    await flush(); // g.py's node is now the newest node of that content
    await tracker.trackModification("x = 1\n", { filePath: "/p/f.py", parentCode: same });
    await flush();
    tracker.close();
    const c = compareWithImage(expectedImage(dataDir), server.nodes(), server.edges());
    assert.deepEqual([c.missingNodes, c.extraNodes, c.missingEdges, c.extraEdges], [
      [],
      [],
      [],
      [],
    ]);
    assert.equal(c.cycle, null);
    assert.deepEqual(c.patternEdges, ["/p/f.py v2"], "attached to g.py's node of the same content");
    assert.equal(c.exactEdges, 0);
  });
});

Deno.test("queued together, the same history lands exactly: the child of f.py goes before g.py's copy of its parent", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const tracker = new PatternTracker(config);
    const same = "x = 0\n";
    await tracker.trackCreation(same, { filePath: "/p/f.py" });
    const store = openStore(dataDir);
    await flushOutbox(store, config); // f.py v1 on the server
    await tracker.trackCreation(same, { filePath: "/p/g.py" });
    await tracker.trackModification("x = 1\n", { filePath: "/p/f.py", parentCode: same });
    tracker.close();
    await flushOutbox(store, config);
    store.close();
    const c = compareWithImage(expectedImage(dataDir), server.nodes(), server.edges());
    assert.deepEqual(c.patternEdges, []);
    assert.equal(c.exactEdges, 1);
  });
});

Deno.test("a request lost after the server read it is resent byte for byte, once the server says it does not hold it", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const tracker = new PatternTracker(config);
    await tracker.trackCreation("a = 1\n", { filePath: "/p/a.py" });
    await tracker.trackModification("a = 2\n", { filePath: "/p/a.py", parentCode: "a = 1\n" });
    tracker.close();
    await server.setMode("lose", { recordBodies: true });
    const store = openStore(dataDir);
    const lost = await flushOutbox(store, config, { deps: { settlePauseMs: 20 } });
    assert.equal(lost.sent, 0);
    assert.equal(store.outboxCounts().inDoubt, 2);
    await server.setMode("ok");
    const report = await flushOutbox(store, config, {
      ignoreBreaker: true,
      deps: { settlePauseMs: 20 },
    });
    store.close();
    assert.equal(report.sent, 2);
    assert.equal(report.confirmed, 0);
    const posts = server.requests().filter((r) => r.path.endsWith("/lineage/track/batch"));
    assert.ok(posts.length >= 2);
    assert.equal(posts.at(-1)!.body, posts[0]!.body, "the resend is byte-identical");
    assert.equal(server.nodes().length, 2);
  });
});

Deno.test("delivery is recorded per server: a new server gets the whole history, status shows each, and back on the first only what it lacks is sent", async () => {
  const second = await startPhase4Server();
  try {
    await withServer(async (first, dataDir) => {
      const config = testConfig(dataDir, first.url);
      const tracker = new PatternTracker(config);
      await tracker.trackCreation("a = 1\n", { filePath: "/p/a.py" });
      await tracker.trackModification("a = 2\n", { filePath: "/p/a.py", parentCode: "a = 1\n" });
      await flushUntilEmpty(config);
      assert.equal(first.nodes().length, 2);

      const other = testConfig(dataDir, second.url);
      const reports = await flushUntilEmpty(other);
      assert.equal(reports[0]?.sent, 2, "the new server gets the whole history");
      assert.equal(second.nodes().length, 2);
      assert.equal(
        compareWithImage(expectedImage(dataDir), second.nodes(), second.edges()).exactEdges,
        1,
      );

      await tracker.trackModification("a = 3\n", { filePath: "/p/a.py", parentCode: "a = 2\n" });
      tracker.close();
      await flushUntilEmpty(other);
      const status = await runCli(["status", "--json"], {
        ...trackerEnv(other),
        PATTERN_TRACKER_INTELLIGENCE_URL: second.url,
      });
      const delivery = JSON.parse(status.stdout).delivery;
      assert.deepEqual(
        delivery.servers.map((
          s: { server: string; delivered: number; current: boolean },
        ) => [s.server, s.delivered, s.current]),
        [[second.url, 3, true], [first.url, 2, false]],
      );
      const human = await runCli(["status"], trackerEnv(other));
      assert.match(
        human.stdout,
        /delivered +3 of 3 versions to http:\/\/127\.0\.0\.1:\d+ \(current\)/,
      );

      // Back to the first server: it lacks v3 only; v1 and v2 are looked up, not sent again.
      const back = await flushUntilEmpty(config);
      assert.equal(back.reduce((n, r) => n + r.sent, 0), 1);
      assert.equal(
        back.reduce((n, r) => n + r.confirmed, 0),
        0,
        "v1 and v2 were acknowledged by this server already",
      );
      assert.equal(first.nodes().length, 3);
      assert.equal(
        compareWithImage(expectedImage(dataDir), first.nodes(), first.edges()).exactEdges,
        2,
      );
    });
  } finally {
    await second.close();
  }
});

Deno.test("a server that lost its data: the missing parent makes the client send the ancestors again, in order", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const tracker = new PatternTracker(config);
    let code = "n = 0\n";
    await tracker.trackCreation(code, { filePath: "/p/n.py" });
    for (let i = 1; i < 12; i++) {
      await tracker.trackModification(`n = ${i}\n`, { filePath: "/p/n.py", parentCode: code });
      code = `n = ${i}\n`;
    }
    await flushUntilEmpty(config);
    assert.equal(server.nodes().length, 12);
    server.reset();
    await tracker.trackModification("n = 12\n", { filePath: "/p/n.py", parentCode: code });
    tracker.close();
    const reports = await flushUntilEmpty(config);
    assert.equal(reports.reduce((n, r) => n + r.restored, 0), 12);
    const c = compareWithImage(expectedImage(dataDir), server.nodes(), server.edges());
    assert.deepEqual([c.missingNodes, c.missingEdges, c.patternEdges], [[], [], []]);
    assert.equal(c.exactEdges, 12);
    assert.equal(storeCounts(dataDir).deadLetters, 0);
  });
});

Deno.test('answers that acknowledge nothing (empty, null, {"success":true}) are failures: logged, last error, breaker; later everything arrives once', async () => {
  for (const hollowBody of ["", "null", '{"success":true}']) {
    await withServer(async (server, dataDir) => {
      const config = testConfig(dataDir, server.url);
      const tracker = new PatternTracker(config);
      await tracker.trackCreation("h = 1\n", { filePath: "/p/h.py" });
      tracker.close();
      await server.setMode("hollow", { hollowBody });
      const store = openStore(dataDir);
      const logs: Record<string, unknown>[] = [];
      const report = await flushOutbox(store, config, {
        deps: { log: (r) => logs.push(r as Record<string, unknown>), settlePauseMs: 10 },
      });
      assert.equal(report.sent, 0, hollowBody);
      assert.equal(report.breaker.state, "open");
      assert.match(store.meta("last_error") ?? "", /acknowledged nothing/);
      assert.ok(logs.some((l) => l.event === "delivery_attempt" && l.level === "warn"));
      await server.setMode("ok");
      const healed = await flushOutbox(store, config, { ignoreBreaker: true });
      store.close();
      assert.equal(healed.sent + healed.confirmed, 1);
      assert.equal(server.nodes().length, 1);
    });
  }
});

Deno.test("Retry-After: 99999999999 keeps the breaker open 15 minutes at most; analytics failing on the server's side is left alone, with one log line", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const tracker = new PatternTracker(config);
    await tracker.trackCreation("r = 1\n", { filePath: "/p/r.py" });
    await server.setMode("rateLimit", { retryAfter: "99999999999" });
    const store = openStore(dataDir);
    const now = Date.now();
    const limited = await flushOutbox(store, config);
    assert.equal(limited.breaker.state, "open");
    assert.ok(limited.breaker.openUntil <= now + 15 * 60_000 + 5_000, "capped at 15 minutes");
    await server.setMode("ok");
    const logs: Record<string, unknown>[] = [];
    const log = (r: unknown) => logs.push(r as Record<string, unknown>);
    const ok = await flushOutbox(store, config, { ignoreBreaker: true, deps: { log } });
    assert.equal(ok.breaker.state, "closed", "analytics' 500 does not open the breaker");
    assert.equal(server.analyticsCalls().length, 1);
    assert.equal(logs.filter((l) => l.event === "analytics_unavailable").length, 1);
    await tracker.trackCreation("r = 2\n", { filePath: "/p/r2.py" });
    tracker.close();
    store.setMeta("analytics_at", "0");
    await flushOutbox(store, config, { deps: { log } });
    store.close();
    assert.equal(server.analyticsCalls().length, 1, "not asked again for hours");
    assert.equal(logs.filter((l) => l.event === "analytics_unavailable").length, 1);
    assert.equal(
      logs.filter((l) => l.level === "warn" && String(l.event).startsWith("analytics")).length,
      0,
    );
  });
});

Deno.test("dead letters of transient causes go back into the outbox by themselves; the server's duplicate word in a file name is not a duplicate", async () => {
  await withServer(async (server, dataDir) => {
    const config = testConfig(dataDir, server.url);
    const tracker = new PatternTracker(config);
    await tracker.trackCreation("def duplicate():\n    pass\n", {
      filePath: "/p/duplicate_utils.py",
    });
    tracker.close();
    const store = openStore(dataDir);
    // As an older release left it: a database outage dead-lettered as a permanent 400.
    const [queued] = store.queuedVersions("", 1);
    store.immediate(() =>
      store.moveToDeadLetter(server.url, queued!.queueId, {
        status: 400,
        message: "HTTP 400: Operation failed: [Errno 111] Connect call failed ('127.0.0.1', 5432)",
        verdict: "legacy",
      }, new Date().toISOString())
    );
    assert.equal(store.counts().deadLetters, 1);
    const report = await flushOutbox(store, config);
    store.close();
    assert.equal(report.requeued, 1);
    assert.equal(report.sent, 1);
    assert.equal(report.alreadyExisted, 0, "duplicate_utils.py is no duplicate");
    assert.equal(server.nodes().length, 1);
  });
});
