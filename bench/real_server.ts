/**
 * Delivery throughput to the real Phase 4 server, next to the stand-in:
 * `deno run -A bench/real_server.ts [--versions 2000] [--json FILE]`.
 *
 * One file with N versions (a chain of modifications, recorded through the library, `track`) is
 * delivered by `flushOutbox` with the default configuration (`timeout_seconds` 2, `batch_size`
 * 100) to a fresh real server (omniarchon's lineage code on its own PostgreSQL, see
 * `tests/real_phase4.ts`) and to the loopback stand-in. Printed: events/s overall, and the curve —
 * each request's batch size, latency, timeout and outcome, grouped by how deep into the file's
 * history it went. The real server's cost per event grows with the history (its ancestry cache
 * copies and scans every ancestor), which is what the adaptive batches are for.
 *
 * @module
 */

import { PatternTracker } from "../src/api.ts";
import { defaultConfig, type TrackerConfig } from "../src/config/mod.ts";
import { flushOutbox, type FlushReport } from "../src/delivery/flush.ts";
import { openStore } from "../src/store/mod.ts";
import { startPhase4Server } from "../tests/phase4_server.ts";
import { findRealServer, startRealServer } from "../tests/real_phase4.ts";

/** One request of the delivery. */
export interface Attempt {
  batch: number;
  latencyMs: number;
  timeoutMs: number;
  outcome: string;
  /** Versions delivered before this request (how deep into the history it starts). */
  depth: number;
}

/** One delivery measured. */
export interface Run {
  server: string;
  versions: number;
  seconds: number;
  eventsPerSecond: number;
  report: FlushReport;
  attempts: Attempt[];
}

async function recordHistory(dataDir: string, url: string, n: number): Promise<TrackerConfig> {
  const config: TrackerConfig = {
    ...defaultConfig(dataDir),
    dataDir,
    logFile: `${dataDir}/log.jsonl`,
    intelligenceUrl: url,
    autoFlush: false,
  };
  const tracker = new PatternTracker(config);
  let code = "def step():\n    return 0\n";
  await tracker.trackCreation(code, { filePath: "/bench/history.py" });
  for (let i = 1; i < n; i++) {
    const next = `def step():\n    return ${i}\n`;
    await tracker.trackModification(next, { filePath: "/bench/history.py", parentCode: code });
    code = next;
  }
  tracker.close();
  return config;
}

async function deliver(name: string, url: string, n: number): Promise<Run> {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-bench-real-" });
  try {
    const config = await recordHistory(dataDir, url, n);
    const attempts: Attempt[] = [];
    let depth = 0;
    const store = openStore(dataDir);
    const started = performance.now();
    let report: FlushReport | null = null;
    // Flush until everything is there (a flush stops early when the server stays unavailable).
    for (let round = 0; round < 10; round++) {
      report = await flushOutbox(store, config, {
        ignoreBreaker: true,
        deps: {
          log: (r) => {
            const rec = r as Record<string, unknown>;
            if (rec.event !== "delivery_attempt") return;
            attempts.push({
              batch: Number(rec.batch_size),
              latencyMs: Number(rec.latency_ms),
              timeoutMs: Number(rec.timeout_ms),
              outcome: String(rec.outcome) + (rec.message ? `: ${rec.message}` : ""),
              depth,
            });
            if (rec.outcome === "answered") depth += Number(rec.batch_size);
          },
        },
      });
      if (report.left === 0) break;
    }
    const seconds = (performance.now() - started) / 1000;
    store.close();
    return {
      server: name,
      versions: n,
      seconds,
      eventsPerSecond: n / seconds,
      report: report!,
      attempts,
    };
  } finally {
    Deno.removeSync(dataDir, { recursive: true });
  }
}

/** Delivery of one file's history to the stand-in and, when it can run here, to the real server. */
export interface HistoryDelivery {
  versions: number;
  runs: Run[];
  /** Why the real server was not measured, or null. */
  realSkipped: string | null;
}

/**
 * Measures the delivery of one file's `n`-version history to the stand-in and the real server.
 *
 * @example
 * ```ts
 * import { measureHistoryDelivery } from "./real_server.ts";
 * // const result = await measureHistoryDelivery(2000);
 * ```
 */
export async function measureHistoryDelivery(n: number): Promise<HistoryDelivery> {
  const runs: Run[] = [];
  const standIn = await startPhase4Server();
  try {
    runs.push(await deliver("stand-in", standIn.url, n));
  } finally {
    await standIn.close();
  }
  const setup = findRealServer();
  if ("missing" in setup) return { versions: n, runs, realSkipped: setup.missing };
  const real = await startRealServer(setup);
  try {
    runs.push(await deliver("real server", real.url, n));
  } finally {
    await real.stop();
  }
  return { versions: n, runs, realSkipped: null };
}

/**
 * The markdown of a {@linkcode HistoryDelivery}: totals, then the curve.
 *
 * @example
 * ```ts
 * import { renderHistoryDelivery } from "./real_server.ts";
 * renderHistoryDelivery({ versions: 0, runs: [], realSkipped: "no PostgreSQL" }).length > 0; // true
 * ```
 */
export function renderHistoryDelivery(d: HistoryDelivery): string[] {
  const lines = [
    `One file's ${d.versions}-version history (recorded through the library, \`track\`), delivered by \`flushOutbox\` with \`timeout_seconds\` 2 and \`batch_size\` 100 to a fresh server.${
      d.realSkipped ? ` The real server was not measured: ${d.realSkipped}.` : ""
    }`,
    "",
    "| server | seconds | events/s | requests | timed out | final batch size | left |",
    "| ------ | ------: | -------: | -------: | --------: | ---------------: | ---: |",
  ];
  for (const r of d.runs) {
    const timedOut = r.attempts.filter((a) => a.outcome.includes("no answer within")).length;
    lines.push(
      `| ${r.server} | ${r.seconds.toFixed(1)} | ${
        r.eventsPerSecond.toFixed(1)
      } | ${r.report.requests} | ${timedOut} | ${r.report.batchSize} | ${r.report.left} |`,
    );
  }
  lines.push(
    "",
    "The curve: requests answered while delivering versions [from, from + 100) of the history.",
    "",
    "| server | versions | requests | events | ms per 100 events | events/s |",
    "| ------ | -------- | -------: | -----: | ----------------: | -------: |",
  );
  for (const r of d.runs) lines.push(...curve(r));
  return lines;
}

function curve(run: Run): string[] {
  const buckets = [0, 500, 1000, 1500, 1900].filter((b) => b < run.versions);
  return buckets.map((from) => {
    const inBucket = run.attempts.filter((a) =>
      a.depth >= from && a.depth < from + 100 && a.outcome === "answered"
    );
    const events = inBucket.reduce((n, a) => n + a.batch, 0);
    const ms = inBucket.reduce((n, a) => n + a.latencyMs, 0);
    return `| ${run.server} | ${from}–${from + 100} | ${inBucket.length} | ${events} | ${
      events ? Math.round((ms / events) * 100) : "–"
    } | ${events ? Math.round(events / (ms / 1000)) : "–"} |`;
  });
}

if (import.meta.main) {
  const at = (flag: string) => {
    const i = Deno.args.indexOf(flag);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const result = await measureHistoryDelivery(Number(at("--versions") ?? 2000));
  console.log(renderHistoryDelivery(result).join("\n"));
  const json = at("--json");
  if (json) Deno.writeTextFileSync(json, JSON.stringify(result, null, 2));
}
