/**
 * The views' benchmarks (`bench/run.ts` sections 3c and 4b; alone:
 * `deno run -A bench/views.ts [--quick]`):
 *
 * - `blame` of a file with 1,000 versions (target < 100 ms): a 400-line module (≈ 14 KB, so kept
 *   as line patches against the version before, as the hooks keep it) edited a line or two at a
 *   time, every tenth change made outside Claude Code; in-process (`blameFile`) and as a whole
 *   `tracker.ts blame --stored` process against an empty script with the same flags;
 * - the line attribution each Phase 4 event carries, on a 2,000-version file: the cost per event of
 *   assembling the requests in the flusher's order with and without it, and a whole flush of that
 *   history to the loopback stand-in (target ≥ 5,000 events/s).
 *
 * @module
 */

import { AttributionCarrier, blameFile } from "../src/views/blame_history.ts";
import { defaultConfig, type TrackerConfig } from "../src/config/mod.ts";
import { eventForVersion } from "../src/delivery/events.ts";
import { flushOutbox } from "../src/delivery/flush.ts";
import { serverKey } from "../src/delivery/plan.ts";
import { versionEventBodies } from "../src/delivery/bodies.ts";
import { openStore, type Store } from "../src/store/mod.ts";
import { startPhase4Server } from "../tests/phase4_server.ts";
import { seeded } from "../tests/support.ts";
import { fmt, interleave, ratio, ROOT, summarize, type Summary } from "./lib.ts";

/** The file whose history the views' benchmarks read. */
export const EDITED_FILE = "/bench/views/edited.py";

/** The flags of `deno task tracker` (deno.json). */
const TASK_FLAGS = [
  "run",
  "--quiet",
  "--no-prompt",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net",
];

/**
 * Records an `n`-version history of a 400-line module into a store, through the Store methods the
 * recording core uses (the code of each version a line patch against the one before, as a post hook
 * stores a file over 8 KB), in one transaction; each version queued for delivery when `queue`.
 * Each change rewrites, inserts or deletes a line; every tenth is an `external` version.
 *
 * @example
 * ```ts
 * import { fillEditedHistory } from "./views.ts";
 * // fillEditedHistory(store, 1000, { queue: false });
 * ```
 */
export function fillEditedHistory(store: Store, n: number, options: { queue: boolean }): string {
  const random = seeded(1000 + n);
  const now = new Date().toISOString();
  const lines = Array.from(
    { length: 400 },
    (_, i) => `    value_${i} = compute(${i}, factor=${i % 7})  # line ${i}\n`,
  );
  const idOf = (i: number) => `b${i.toString(16).padStart(15, "0")}`;
  store.immediate(() => {
    let previous: string | null = null;
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        // Balanced: as many lines inserted as deleted, the rest rewritten in place.
        const at = random.next(lines.length);
        if (i % 4 === 0) lines.splice(at, 0, `    inserted_${i} = compute(${i}, factor=0)\n`);
        else if (i % 4 === 1) lines.splice(at, 1);
        else lines.splice(at, 1, `    value_${at} = compute(${at}, factor=${i})  # edit ${i}\n`);
      }
      const code = lines.join("");
      const id = idOf(i);
      store.insertPattern({
        patternId: id,
        language: "python",
        lineCount: lines.length,
        byteSize: code.length,
        code,
        firstSeenAt: now,
        parent: previous === null ? null : { patternId: idOf(i - 1), content: previous },
      });
      const external = i > 0 && i % 10 === 0;
      const versionId = store.insertVersion({
        filePath: EDITED_FILE,
        version: i + 1,
        patternId: id,
        parentPatternId: i === 0 ? null : idOf(i - 1),
        eventType: i === 0 ? "pattern_created" : "pattern_modified",
        transformationType: i === 0 ? null : "refactor",
        toolName: external ? "external" : i === 0 ? "Write" : "Edit",
        toolUseId: external ? null : `toolu_v${i}`,
        sessionId: "bench",
        correlationId: "c",
        reason: "bench",
        createdAt: now,
      });
      if (options.queue) store.enqueueVersion(versionId, now);
      previous = code;
    }
  });
  return EDITED_FILE;
}

/** Results of the blame measurement. */
export interface BlameBench {
  versions: number;
  lines: number;
  /** Stored forms of the versions' code (patch, text). */
  formats: Record<string, number>;
  inProcessMs: Summary;
  cliMs: Summary;
  /** `tracker.ts lineage` of the same file, for comparison. */
  lineageCliMs: Summary;
  cliFloorMs: Summary;
}

/**
 * `blame` of the 1,000-version file, in-process (a fresh walk each round) and as a whole process.
 *
 * @example
 * ```ts
 * import { blameBench } from "./views.ts";
 * // const r = await blameBench(dataDir, 30);
 * ```
 */
export async function blameBench(dataDir: string, rounds: number): Promise<BlameBench> {
  const store = openStore(dataDir);
  fillEditedHistory(store, 1000, { queue: false });
  const formats = Object.fromEntries(
    store.selectRows("SELECT format, COUNT(*) AS n FROM pattern_code GROUP BY format").map((
      r,
    ) => [String(r.format), Number(r.n)]),
  );
  const samples: number[] = [];
  let lines = 0;
  for (let i = 0; i < rounds + 2; i++) {
    const started = performance.now();
    const { walk } = blameFile(store, EDITED_FILE);
    const ms = performance.now() - started;
    if (i >= 2) samples.push(ms); // two warm-up rounds (the code's first run compiles it)
    lines = walk.state.lines.length;
  }
  store.close();
  const env = { HOME: dataDir, PATTERN_TRACKER_DATA_DIR: dataDir };
  const cli = await interleave([
    {
      name: "floor",
      spec: () => ({ cmd: Deno.execPath(), args: [...TASK_FLAGS, `${ROOT}/bench/empty.ts`], env }),
    },
    {
      name: "lineage",
      spec: () => ({
        cmd: Deno.execPath(),
        args: [...TASK_FLAGS, `${ROOT}/tracker.ts`, "lineage", EDITED_FILE],
        env,
      }),
    },
    {
      name: "blame",
      spec: () => ({
        cmd: Deno.execPath(),
        args: [...TASK_FLAGS, `${ROOT}/tracker.ts`, "blame", EDITED_FILE, "--stored"],
        env,
      }),
    },
  ], Math.max(5, Math.round(rounds / 2)));
  return {
    versions: 1000,
    lines,
    formats,
    inProcessMs: summarize(samples),
    cliMs: summarize(cli.blame!),
    lineageCliMs: summarize(cli.lineage!),
    cliFloorMs: summarize(cli.floor!),
  };
}

/**
 * The blame figures as Markdown lines.
 *
 * @example
 * ```ts
 * import { renderBlameBench } from "./views.ts";
 * // renderBlameBench(result).join("\n");
 * ```
 */
export function renderBlameBench(r: BlameBench): string[] {
  return [
    `\`blame ${EDITED_FILE} --stored\`: ${r.versions} versions of a module that ends with ${r.lines} lines (code kept as ${
      Object.entries(r.formats).map(([f, n]) => `${n} ${f}`).join(", ")
    }; every tenth version from outside Claude Code): \`blameFile\` in-process median ${
      fmt(r.inProcessMs.median)
    } ms, p95 ${
      fmt(r.inProcessMs.p95)
    } ms (target < 100 ms, ${r.inProcessMs.n} rounds); the whole CLI process median ${
      fmt(r.cliMs.median)
    } ms = ${ratio(r.cliMs.median, r.cliFloorMs.median)} an empty script with the same flags (${
      fmt(r.cliFloorMs.median)
    } ms), \`lineage\` of the same file ${fmt(r.lineageCliMs.median)} ms.`,
  ];
}

/** Results of the attribution measurement. */
export interface AttributionBench {
  versions: number;
  /** Assembling every request, in the flusher's order and batches, with the attribution. */
  withUsPerEvent: Summary;
  /** The same without it (the event alone, as before). */
  withoutUsPerEvent: Summary;
  /** Whole flushes of the history to the stand-in, events per second, with the attribution … */
  flushWith: Summary;
  /** … and without it (the carrier switched off), interleaved with them. */
  flushWithout: Summary;
  /** Events the stand-in held after each flush with the attribution. */
  held: number;
}

/** A fresh store holding the queued `n`-version history, and its configuration. */
function queuedHistory(n: number, url: string): { config: TrackerConfig; dir: string } {
  const dir = Deno.makeTempDirSync({ prefix: "pt-bench-attr-" });
  const config: TrackerConfig = {
    ...defaultConfig(dir),
    dataDir: dir,
    logFile: `${dir}/log.jsonl`,
    intelligenceUrl: url,
    autoFlush: false,
    batchSize: 100,
  };
  const store = openStore(dir);
  fillEditedHistory(store, n, { queue: true });
  store.close();
  return { config, dir };
}

/** Events per second of one whole flush of a queued history to a fresh stand-in. */
async function flushOnce(
  n: number,
  attribution: boolean,
): Promise<{ perSecond: number; held: number }> {
  const server = await startPhase4Server();
  const { config, dir } = queuedHistory(n, server.url);
  const original = AttributionCarrier.prototype.attributionOf;
  if (!attribution) AttributionCarrier.prototype.attributionOf = () => null;
  try {
    const store = openStore(dir);
    const started = performance.now();
    const report = await flushOutbox(store, config);
    const seconds = (performance.now() - started) / 1000;
    store.close();
    if (report.sent !== n) {
      throw new Error(`the flush sent ${report.sent} of ${n}: ${report.stopped}`);
    }
    const held = server.events().filter((e) =>
      attribution === ("line_attribution" in (e.pattern_data as object))
    ).length;
    return { perSecond: n / seconds, held };
  } finally {
    AttributionCarrier.prototype.attributionOf = original;
    await server.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * The attribution's cost per event on an `n`-version file, and whole flushes of that history with
 * and without it, interleaved.
 *
 * @example
 * ```ts
 * import { attributionBench } from "./views.ts";
 * // const r = await attributionBench(2000, 5);
 * ```
 */
export async function attributionBench(n: number, rounds: number): Promise<AttributionBench> {
  const { config, dir } = queuedHistory(n, "http://127.0.0.1:9");
  const store = openStore(dir);
  const ids = store.queuedVersions(serverKey(config.intelligenceUrl), n).map((q) => q.versionId);
  const batches: number[][] = [];
  for (let i = 0; i < ids.length; i += 100) batches.push(ids.slice(i, i + 100));
  const withSamples: number[] = [];
  const withoutSamples: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    let started = performance.now();
    const carrier = new AttributionCarrier(store);
    for (const batch of batches) versionEventBodies(store, batch, true, carrier);
    const withMs = performance.now() - started;
    started = performance.now();
    for (const batch of batches) {
      for (const v of store.versionsById(batch)) {
        JSON.stringify(eventForVersion(v, store.pattern(v.patternId), { storeCode: true }));
      }
    }
    const withoutMs = performance.now() - started;
    if (round === 0) continue; // warm-up
    withSamples.push(withMs * 1000 / ids.length);
    withoutSamples.push(withoutMs * 1000 / ids.length);
  }
  store.close();
  Deno.removeSync(dir, { recursive: true });
  const flushWith: number[] = [];
  const flushWithout: number[] = [];
  let held = 0;
  for (let round = 0; round < Math.max(1, Math.round(rounds / 2)); round++) {
    // Alternate which goes first, so that both see the machine alike.
    for (const attribution of round % 2 === 0 ? [true, false] : [false, true]) {
      const r = await flushOnce(n, attribution);
      (attribution ? flushWith : flushWithout).push(r.perSecond);
      if (attribution) held = r.held;
    }
  }
  return {
    versions: n,
    withUsPerEvent: summarize(withSamples),
    withoutUsPerEvent: summarize(withoutSamples),
    flushWith: summarize(flushWith),
    flushWithout: summarize(flushWithout),
    held,
  };
}

/**
 * The attribution figures as Markdown lines.
 *
 * @example
 * ```ts
 * import { renderAttributionBench } from "./views.ts";
 * // renderAttributionBench(result).join("\n");
 * ```
 */
export function renderAttributionBench(r: AttributionBench): string[] {
  const extra = r.withUsPerEvent.median - r.withoutUsPerEvent.median;
  const rate = (x: number) => Math.round(x).toLocaleString("en");
  return [
    `One file's ${
      r.versions.toLocaleString("en")
    }-version history (the module above, ≈ 20 KB) queued: assembling every request in the flusher's order and batches of 100 (median of ${r.withUsPerEvent.n} rounds) takes ${
      r.withUsPerEvent.median.toFixed(1)
    } µs per event with \`pattern_data.line_attribution\` (each file's blame carried from one version to the next) and ${
      r.withoutUsPerEvent.median.toFixed(1)
    } µs without: ${
      extra.toFixed(1)
    } µs per event for the attribution. Whole flushes of that history to the loopback stand-in (${r.flushWith.n} each, interleaved): ${
      rate(r.flushWith.median)
    } events/s with the attribution, ${
      rate(r.flushWithout.median)
    } without; the stand-in held ${r.held} events with it.`,
  ];
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const dir = Deno.makeTempDirSync({ prefix: "pt-bench-views-" });
  try {
    const blame = await blameBench(dir, quick ? 8 : 30);
    console.log(renderBlameBench(blame).join("\n"));
    const attribution = await attributionBench(2000, quick ? 2 : 6);
    console.log(renderAttributionBench(attribution).join("\n"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
