/**
 * The delivery scenarios against the real Phase 4 server (omniarchon's lineage code on its own
 * fresh PostgreSQL), when PostgreSQL and the Python packages are on this machine: a history with
 * two files of identical content, a revert, a copy of a reverted content, a 2,000-version file and
 * a database outage in the middle of its delivery. The server's graph is read with psql and through
 * the API.
 */
import assert from "node:assert/strict";
import { buildLineageEvent } from "../src/delivery/events.ts";
import { postSingle } from "../src/delivery/client.ts";
import { patternId } from "../src/record/pattern.ts";
import { openStore } from "../src/store/mod.ts";
import { serverPatternVersion } from "../src/delivery/events.ts";
import { expectedImage, flushUntilEmpty, testConfig } from "./delivery_support.ts";
import {
  assertFaithful,
  describe,
  resendEverything,
  runOutageScenario,
  TWIN,
} from "./delivery_scenarios.ts";
import { findRealServer, type RealServerSetup, startRealServer } from "./real_phase4.ts";
import { PatternTracker } from "../src/api.ts";

const found = findRealServer();
const skip = "missing" in found ? found.missing : null;
if (skip) console.log(`real Phase 4 server tests skipped: ${skip}`);
const setup = found as RealServerSetup;

/** Versions of the long file: the server's cost per event grows with a file's history. */
const LONG = 2_000;

Deno.test({
  name:
    "real server: twins, a revert, a 2,000-version file, PostgreSQL stopped mid-delivery → a plain flush heals it; one node per version, every edge node to node, no cycle; export → import --queue → flush changes nothing",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startRealServer(setup);
    const dataDir = Deno.makeTempDirSync({ prefix: "pt-real-" });
    try {
      const config = testConfig(dataDir, server.url, {
        timeoutSeconds: 2,
        batchSize: 100,
        maxRetries: 3,
      });
      const outcome = await runOutageScenario(server, config, LONG, 600);
      console.log(`real server: ${describe(outcome)}`);
      // Which edges are exact: all of them, node to node (the order puts each child right after
      // its parent's node, before any other node of the same content).
      assertFaithful(outcome);
      assert.ok(outcome.firstFlush.sent >= 500, "the outage came in the middle of delivery");

      // Through the API too: the twins' first content is two nodes, each with its own child.
      const twinId = await patternId(TWIN);
      const evolution = await (await fetch(
        `${server.url}/api/pattern-traceability/lineage/${twinId}/evolution`,
      )).json();
      const versions = evolution.data.evolution_nodes.map((n: { version: string }) => n.version);
      assert.deepEqual(
        versions.sort(),
        [
          serverPatternVersion("/proj/pkg/twin_a.py", 1),
          serverPatternVersion("/proj/pkg/twin_b.py", 1),
        ].sort(),
      );
      const out = evolution.data.evolution_edges.map((
        e: { source_version: string; target_version: string },
      ) => `${e.source_version}>${e.target_version}`);
      assert.deepEqual(
        out.sort(),
        [
          `${serverPatternVersion("/proj/pkg/twin_a.py", 1)}>${
            serverPatternVersion("/proj/pkg/twin_a.py", 2)
          }`,
          `${serverPatternVersion("/proj/pkg/twin_b.py", 1)}>${
            serverPatternVersion("/proj/pkg/twin_b.py", 2)
          }`,
        ].sort(),
      );

      // A full re-send from a fresh store: every version is found on the server, none is sent.
      const before = await server.snapshot();
      const resend = await resendEverything(config);
      console.log(`real server, full re-send: ${resend.output.trim().replaceAll("\n", " ")}`);
      assert.equal(resend.queued, outcome.versions);
      assert.match(resend.output, /Sent 0 event/);
      assert.equal(
        await server.snapshot(),
        before,
        "same nodes, same edges, not even an event row",
      );
    } finally {
      await server.stop();
      Deno.removeSync(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "real server: a database that lost the history (tables emptied) → the missing parent makes the client send the ancestors again; NUL in code is escaped and stored",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startRealServer(setup);
    const dataDir = Deno.makeTempDirSync({ prefix: "pt-real-" });
    try {
      const config = testConfig(dataDir, server.url, { timeoutSeconds: 2, batchSize: 100 });
      const tracker = new PatternTracker(config);
      let code = "n = 0\n";
      await tracker.trackCreation(code, { filePath: "/p/n.py" });
      for (let i = 1; i < 10; i++) {
        await tracker.trackModification(`n = ${i}\n`, { filePath: "/p/n.py", parentCode: code });
        code = `n = ${i}\n`;
      }
      await flushUntilEmpty(config);
      assert.equal(server.sql("SELECT count(*) FROM pattern_lineage_nodes")[0], "10");
      server.sql(
        "TRUNCATE pattern_lineage_edges, pattern_lineage_events, pattern_ancestry_cache, pattern_lineage_nodes",
      );
      await tracker.trackModification("n = 10\n", { filePath: "/p/n.py", parentCode: code });
      tracker.close();
      const reports = await flushUntilEmpty(config);
      assert.equal(reports.reduce((n, r) => n + r.restored, 0), 10);
      const graph = await server.graph();
      const image = expectedImage(dataDir);
      assert.equal(graph.nodes.length, 11);
      assert.equal(graph.edges.length, image.edges.length);
      const store = openStore(dataDir);
      assert.equal(store.counts().deadLetters, 0);
      store.close();

      // NUL and a lone surrogate: PostgreSQL refuses both in JSONB; the event carries U+FFFD and
      // says where. (Sent directly: the store reads code as text, which stops at NUL.)
      const real = "a = '\u0000'\nb = '\ud800'\n";
      const id = await patternId(real);
      const event = buildLineageEvent({
        eventType: "pattern_created",
        patternId: id,
        parentPatternId: null,
        transformationType: null,
        fileVersion: 1,
        filePath: "/p/nul.py",
        language: "python",
        toolName: "Write",
        code: real,
        lineCount: 2,
        byteSize: 20,
        sessionId: null,
        correlationId: crypto.randomUUID(),
        toolUseId: null,
        timestamp: new Date().toISOString(),
        reason: "Write",
        linesAdded: 2,
        linesRemoved: 0,
        durationMs: null,
      });
      const result = await postSingle(server.url, JSON.stringify(event), {
        fetch,
        timeoutMs: 5000,
        now: Date.now,
      });
      assert.equal(result.kind === "answered" && result.verdicts[0]?.kind, "stored");
      const [stored] = server.sql(
        `SELECT pattern_data::text FROM pattern_lineage_nodes WHERE pattern_id = '${id}'`,
      );
      const data = JSON.parse(stored!);
      assert.equal(data.code, "a = '\ufffd'\nb = '\ufffd'\n");
      assert.deepEqual(data.code_replaced, [
        { offset: 5, char: "U+0000" },
        { offset: 13, char: "U+D800" },
      ]);
    } finally {
      await server.stop();
      Deno.removeSync(dataDir, { recursive: true });
    }
  },
});
