/**
 * Adaptive batches against a stand-in whose cost per event makes a full batch exceed its timeout:
 * the batch is abandoned, split, its events verified (the server finishes storing them) and never
 * sent again; the size grows back after fast answers.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { flushOutbox } from "../src/delivery/flush.ts";
import { openStore } from "../src/store/mod.ts";
import { startPhase4Server } from "./phase4_server.ts";
import { compareWithImage, expectedImage, testConfig } from "./delivery_support.ts";

Deno.test("a batch slower than its timeout is split, verified, never sent whole again; the batch size grows back", async () => {
  const server = await startPhase4Server({ perEventMs: 60 });
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-batches-" });
  try {
    const config = testConfig(dataDir, server.url, {
      timeoutSeconds: 0.2,
      batchSize: 50,
      maxRetries: 3,
    });
    const tracker = new PatternTracker(config);
    let code = "v = 0\n";
    await tracker.trackCreation(code, { filePath: "/p/slow.py" });
    for (let i = 1; i < 120; i++) {
      await tracker.trackModification(`v = ${i}\n`, { filePath: "/p/slow.py", parentCode: code });
      code = `v = ${i}\n`;
    }
    tracker.close();
    const logs: Record<string, unknown>[] = [];
    const store = openStore(dataDir);
    // The first batch: 50 events × 60 ms = 3 s, its timeout 0.2 s + 50 × 50 ms = 2.7 s.
    const report = await flushOutbox(store, config, {
      deps: { log: (r) => logs.push(r as Record<string, unknown>), settlePauseMs: 300 },
    });
    store.close();
    const attempts = logs.filter((l) => l.event === "delivery_attempt");
    const sizes = attempts.map((l) => l.batch_size);
    const timedOut = attempts.filter((l) => String(l.message ?? "").startsWith("no answer"));
    assert.equal(timedOut.length, 1, JSON.stringify(attempts));
    assert.equal(sizes[0], 50);
    assert.equal(sizes[1], 25, "split after the timeout");
    assert.equal(sizes[2], 45, "grew back: the 45 left went in one request");
    assert.equal(report.batchSize, 50, "back to batch_size");
    assert.equal(
      report.confirmed,
      50,
      "the abandoned batch was stored by the server: verified, not resent",
    );
    assert.equal(report.sent, 70);
    assert.equal(report.left, 0);
    // Every event reached the server in exactly one request.
    const sent = server.requests().filter((r) => r.path.endsWith("/lineage/track/batch"));
    assert.equal(sent.reduce((n, r) => n + r.eventCount, 0), 120);
    const c = compareWithImage(expectedImage(dataDir), server.nodes(), server.edges());
    assert.deepEqual([c.missingNodes, c.missingEdges, c.patternEdges, c.extraEdges], [
      [],
      [],
      [],
      [],
    ]);
    assert.equal(c.cycle, null);
  } finally {
    await server.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
});
