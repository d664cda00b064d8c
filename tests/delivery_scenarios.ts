/**
 * The delivery scenarios run against the stand-in (`delivery_identity_test.ts`) and against the
 * real Phase 4 server (`delivery_real_server_test.ts`): one history with two files of identical
 * content, a revert, a copy of a reverted content, a file named `duplicate_utils.py` and a long
 * file; a database outage in the middle of its delivery; a plain `flush` that heals it; and a full
 * re-send (`export` → `import --queue` into a fresh store → `flush`) that must change nothing.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import type { TrackerConfig } from "../src/config/mod.ts";
import { flushOutbox, type FlushReport } from "../src/delivery/flush.ts";
import { openStore } from "../src/store/mod.ts";
import {
  compareWithImage,
  type EdgeRef,
  expectedImage,
  type GraphComparison,
  type NodeRef,
} from "./delivery_support.ts";
import { runCli } from "./support.ts";

/** A Phase 4 server the scenarios can drive and inspect. */
export interface ServerUnderTest {
  url: string;
  /** Every node and edge the server holds. */
  graph(): Promise<{ nodes: NodeRef[]; edges: EdgeRef[] }>;
  /** Everything the server stored, identities included: equal snapshots mean nothing changed. */
  snapshot(): Promise<string>;
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
}

/** Content of the two files that start identical. */
export const TWIN = "def shared():\n    return 'same content in two files'\n";

/**
 * Records the mixed history through the recording core (`track`, as the hooks do), in an
 * order that interleaves the files. Returns the number of versions.
 */
export async function recordMixedHistory(
  config: TrackerConfig,
  longVersions: number,
): Promise<number> {
  const tracker = new PatternTracker(config);
  const write = (path: string, code: string) => tracker.trackCreation(code, { filePath: path });
  const edit = (path: string, from: string, to: string) =>
    tracker.trackModification(to, { filePath: path, parentCode: from, durationMs: 5 });
  const a = "/proj/pkg/twin_a.py";
  const b = "/proj/pkg/twin_b.py";
  await write(a, TWIN);
  await write(b, TWIN);
  await edit(a, TWIN, `${TWIN}\ndef only_in_a():\n    return 1\n`);
  await edit(b, TWIN, `${TWIN}\ndef only_in_b():\n    return 2\n`);
  const r = "/proj/revert.py";
  const r0 = "VALUE = 1\n";
  const r1 = "VALUE = 2\n";
  await write(r, r0);
  await edit(r, r0, r1);
  await edit(r, r1, r0); // the revert: r0's content again, a new version
  await edit(r, r0, "VALUE = 3\n");
  const copy = "/proj/copy_of_revert.py";
  await write(copy, r1); // a third node of content r1's pattern... a second, after revert.py v2
  await edit(copy, r1, "VALUE = 2  # copied\n");
  const d = "/proj/duplicate_utils.py";
  await write(d, "def duplicate(x):\n    return [x, x]\n");
  await edit(
    d,
    "def duplicate(x):\n    return [x, x]\n",
    "def duplicate(x, n=2):\n    return [x] * n\n",
  );
  const long = "/proj/long_history.py";
  let code = "def step():\n    return 0\n";
  await write(long, code);
  for (let i = 1; i < longVersions; i++) {
    const next = `def step():\n    return ${i}\n`;
    await edit(long, code, next);
    code = next;
  }
  tracker.close();
  return 4 + 4 + 2 + 2 + longVersions;
}

/** What a scenario observed, for the test to assert and print. */
export interface OutageOutcome {
  versions: number;
  firstFlush: FlushReport;
  healOutput: string;
  comparison: GraphComparison;
  localEdges: number;
  nodes: number;
}

/** Polls an async condition until it holds or `timeoutMs` passed. */
async function pollUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** The environment a `tracker.ts` process needs for this store and server. */
export function trackerEnv(config: TrackerConfig): Record<string, string> {
  return {
    PATTERN_TRACKER_DATA_DIR: config.dataDir,
    PATTERN_TRACKER_INTELLIGENCE_URL: config.intelligenceUrl,
    PATTERN_TRACKER_CONFIG: `${config.dataDir}/none.yaml`,
    PATTERN_TRACKER_TIMEOUT_SECONDS: String(config.timeoutSeconds),
    PATTERN_TRACKER_BATCH_SIZE: String(config.batchSize),
    PATTERN_TRACKER_AUTO_FLUSH: "false",
  };
}

/**
 * Delivers the mixed history while the database goes down after `downAfter` nodes, then heals it
 * with a plain `tracker.ts flush` process. Asserts what must hold at each step.
 */
export async function runOutageScenario(
  server: ServerUnderTest,
  config: TrackerConfig,
  longVersions: number,
  downAfter: number,
): Promise<OutageOutcome> {
  const versions = await recordMixedHistory(config, longVersions);
  const store = openStore(config.dataDir);
  let finished = false;
  const flushing = flushOutbox(store, config, {}).finally(() => finished = true);
  let stoppedDb = false;
  const watcher = (async () => {
    await pollUntil(
      async () => finished || (await server.graph()).nodes.length >= downAfter,
      600_000,
    );
    if (finished) return;
    await server.stopDatabase();
    stoppedDb = true;
  })();
  const firstFlush = await flushing;
  await watcher;
  store.close();
  assert.ok(stoppedDb, "the database went down during delivery");
  assert.ok(firstFlush.stopped, `the outage stopped the flush: ${JSON.stringify(firstFlush)}`);
  assert.equal(firstFlush.breaker.state, "open");
  assert.equal(firstFlush.deadLettered, 0, "an outage dead-letters nothing");
  const before = openStore(config.dataDir);
  const counts = before.counts();
  before.close();
  assert.ok(counts.outbox > 0, "versions wait in the outbox");
  assert.equal(counts.deadLetters, 0);

  await server.startDatabase();
  // A plain flush (no --retry-dead) heals it.
  const heal = await runCli(["flush"], trackerEnv(config));
  assert.equal(heal.code, 0, heal.stdout + heal.stderr);
  assert.match(heal.stdout, /0 left in the outbox/);
  const after = openStore(config.dataDir);
  const healed = after.counts();
  after.close();
  assert.equal(healed.outbox, 0);
  assert.equal(healed.deadLetters, 0);

  const image = expectedImage(config.dataDir);
  const graph = await server.graph();
  return {
    versions,
    firstFlush,
    healOutput: heal.stdout,
    comparison: compareWithImage(image, graph.nodes, graph.edges),
    localEdges: image.edges.length,
    nodes: graph.nodes.length,
  };
}

/**
 * `export` → `import --queue` into a fresh store → `flush`: returns the flush's output. The caller
 * compares the server's snapshots before and after.
 */
export async function resendEverything(
  config: TrackerConfig,
): Promise<{ output: string; queued: number }> {
  const exported = `${config.dataDir}/all.jsonl`;
  const out = await runCli(["export", "--out", exported], trackerEnv(config));
  assert.equal(out.code, 0, out.stderr);
  const fresh = Deno.makeTempDirSync({ prefix: "pt-resend-" });
  try {
    const env = trackerEnv({ ...config, dataDir: fresh });
    const imported = await runCli(["import", exported, "--queue"], env);
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
    const queued = Number(imported.stdout.match(/(\d+) queued for delivery/)?.[1]);
    const flushed = await runCli(["flush"], env);
    assert.equal(flushed.code, 0, flushed.stdout + flushed.stderr);
    return { output: flushed.stdout, queued };
  } finally {
    Deno.removeSync(fresh, { recursive: true });
  }
}

/** The assertions of "every version and edge is on the server, exactly, without a cycle". */
export function assertFaithful(o: OutageOutcome): void {
  const c = o.comparison;
  assert.deepEqual(c.missingNodes, [], "every local version is a node");
  assert.deepEqual(c.duplicateNodes, []);
  assert.deepEqual(c.extraNodes, [], "no node that is not a local version");
  assert.equal(o.nodes, o.versions, "one node per local version");
  assert.deepEqual(c.missingEdges, [], "every local edge is on the server");
  assert.deepEqual(
    c.patternEdges,
    [],
    "every edge is node to node (none attached to another node of the parent's pattern)",
  );
  assert.equal(c.exactEdges, o.localEdges);
  assert.deepEqual(c.extraEdges, [], "no edge that is not a local edge");
  assert.equal(c.cycle, null, "no cycle");
}

/** One line for the test log: what arrived and how exact it is. */
export function describe(o: OutageOutcome): string {
  const c = o.comparison;
  return `${o.versions} local versions → ${o.nodes} nodes; ${o.localEdges} local edges: ${c.exactEdges} exact node to node, ${c.patternEdges.length} only between the right patterns, ${c.missingEdges.length} missing; ${c.extraEdges.length} extra; cycle: ${
    c.cycle ? c.cycle.join(" → ") : "none"
  }; first flush: ${o.firstFlush.sent} sent, stopped: ${o.firstFlush.stopped}`;
}
