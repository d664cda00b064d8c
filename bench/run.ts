/**
 * Pattern Tracker benchmark: `deno task bench [--quick] [--json FILE]`.
 *
 * Every speed figure is a ratio against a floor measured in the same run, interleaved with the
 * measured runs, because the machines we run on are small and noisy:
 * - hook latency (whole process, stdin to exit, through `sh -c` with the exact command line
 *   `install` writes) against `deno run` of an empty script with the same flags, with the Phase 4
 *   stand-in up, down and slow;
 * - the original Python stack's start-up against the same floor;
 * - 16 hooks at once; flush throughput; a store of 100,000 patterns.
 *
 * @module
 */

import { buildLineageEvent } from "../src/events.ts";
import { flushOutbox } from "../src/flush.ts";
import { defaultConfig } from "../src/config.ts";
import { hookCommands } from "../src/cli/install.ts";
import { renderFileLineage } from "../src/cli/lineage.ts";
import { explainCompileFailure } from "../src/cli/compile.ts";
import { openStore, type Store } from "../src/store.ts";
import { startPhase4Server } from "../tests/phase4_server.ts";
import { denoDirEnv } from "../tests/support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const QUICK = Deno.args.includes("--quick");
const JSON_OUT = Deno.args.includes("--json")
  ? Deno.args[Deno.args.indexOf("--json") + 1]
  : undefined;
const ITERATIONS = QUICK ? 8 : 40;
const PATH = Deno.env.get("PATH") ?? "/usr/bin:/bin";
/** Every child shares this process's Deno cache, as hooks share the user's. */
const DENO_DIR = denoDirEnv().DENO_DIR;

/** Median and 95th percentile of a sample, in ms. */
export function summarize(samples: readonly number[]): { median: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { median: at(0.5), p95: at(0.95) };
}

async function timeProcess(
  cmd: string,
  args: string[],
  input: Uint8Array,
  env: Record<string, string>,
): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    env: { DENO_DIR, ...env },
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(input);
  await w.close();
  await child.status;
  return performance.now() - started;
}

const fixture = (name: string) =>
  JSON.parse(Deno.readTextFileSync(`${ROOT}/tests/fixtures/${name}.json`));

/**
 * Fresh payloads per round, so each run records a new pattern: a Write creating `/bench/w<i>.py`,
 * then an Edit of that same file (its `originalFile` is what the Write wrote), as in the real session
 * captured from Claude Code.
 */
function payloads(i: number) {
  const content = `def add_${i}(a, b):\n    return a + b\n`;
  const preWrite = {
    ...fixture("01-pre-write"),
    tool_use_id: `toolu_w${i}`,
    tool_input: { file_path: `/bench/w${i}.py`, content },
  };
  const postWrite = {
    ...fixture("02-post-write"),
    tool_use_id: `toolu_w${i}`,
    tool_input: preWrite.tool_input,
    tool_response: {
      ...fixture("02-post-write").tool_response,
      filePath: `/bench/w${i}.py`,
      content,
    },
  };
  const edit = fixture("04-post-edit");
  const preEdit = {
    ...fixture("03-pre-edit"),
    tool_use_id: `toolu_e${i}`,
    tool_input: { ...edit.tool_input, file_path: `/bench/w${i}.py` },
  };
  const postEdit = {
    ...edit,
    tool_use_id: `toolu_e${i}`,
    tool_input: preEdit.tool_input,
    tool_response: {
      ...edit.tool_response,
      filePath: `/bench/w${i}.py`,
      // The Edit continues the file the Write of the same round created, as in the captured session.
      originalFile: content,
    },
  };
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  return {
    preWrite: enc(preWrite),
    postWrite: enc(postWrite),
    preEdit: enc(preEdit),
    postEdit: enc(postEdit),
  };
}

interface LatencyRow {
  scenario: string;
  hook: string;
  median: number;
  p95: number;
  floorMedian: number;
  floorP95: number;
}

/** Hook latency against the floor, interleaved, for one server scenario. */
async function hookLatency(
  scenario: string,
  url: string,
  dataDir: string,
  iterations: number,
): Promise<LatencyRow[]> {
  const configPath = `${dataDir}/config.yaml`;
  const commands = hookCommands({ deno: Deno.execPath(), root: ROOT, dataDir, configPath });
  Deno.mkdirSync(dataDir, { recursive: true });
  const empty = `${ROOT}/bench/empty.ts`;
  // The floor: the post hook's command line with an empty script.
  const floorCommand = commands.post.replace(/'[^']*post_hook\.ts'$/, `'${empty}'`);
  const env = {
    PATH,
    HOME: dataDir,
    PATTERN_TRACKER_DATA_DIR: dataDir,
    PATTERN_TRACKER_CONFIG: configPath,
    PATTERN_TRACKER_INTELLIGENCE_URL: url,
  };
  const samples: Record<string, number[]> = {
    floor: [],
    "pre Write": [],
    "post Write": [],
    "pre Edit": [],
    "post Edit": [],
  };
  const none = new Uint8Array();
  for (let i = -2; i < iterations; i++) { // two warm-up rounds fill Deno's caches
    const p = payloads(i + 1000 * scenario.length);
    const round: [string, string, Uint8Array][] = [
      ["floor", floorCommand, none],
      ["pre Write", commands.pre, p.preWrite],
      ["post Write", commands.post, p.postWrite],
      ["floor", floorCommand, none],
      ["pre Edit", commands.pre, p.preEdit],
      ["post Edit", commands.post, p.postEdit],
    ];
    for (const [name, command, input] of round) {
      const ms = await timeProcess("sh", ["-c", command], input, env);
      if (i >= 0) samples[name]!.push(ms);
    }
  }
  const floor = summarize(samples.floor!);
  return Object.entries(samples).filter(([k]) => k !== "floor").map(([hook, s]) => ({
    scenario,
    hook,
    ...summarize(s),
    floorMedian: floor.median,
    floorP95: floor.p95,
  }));
}

async function pythonFloor(denoFloorMedian: number, iterations: number): Promise<string> {
  const probe = await new Deno.Command("python3", {
    args: ["-c", "import yaml"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (!probe) return "python3 not found";
  const code = probe.success ? "import yaml, hashlib, json, uuid" : "import hashlib, json, uuid";
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    samples.push(await timeProcess("python3", ["-c", code], new Uint8Array(), { PATH }));
  }
  const s = summarize(samples);
  const label = probe.success ? code : `${code} (PyYAML is not installed here)`;
  return `\`python3 -c "${label}"\`: median ${s.median.toFixed(1)} ms = ${
    (s.median / denoFloorMedian).toFixed(2)
  }× the Deno floor`;
}

async function concurrency(url: string): Promise<{ wallMs: number; recorded: number }> {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-bench-conc-" });
  const configPath = `${dataDir}/config.yaml`;
  const commands = hookCommands({ deno: Deno.execPath(), root: ROOT, dataDir, configPath });
  const env = {
    PATH,
    HOME: dataDir,
    PATTERN_TRACKER_DATA_DIR: dataDir,
    PATTERN_TRACKER_CONFIG: configPath,
    PATTERN_TRACKER_INTELLIGENCE_URL: url,
  };
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: 16 },
      (_, i) => timeProcess("sh", ["-c", commands.post], payloads(50_000 + i).postWrite, env),
    ),
  );
  const wallMs = performance.now() - started;
  const store = openStore(dataDir);
  const recorded = store.counts().versions;
  store.close();
  return { wallMs, recorded };
}

function fillOutbox(store: Store, n: number, withCode: boolean) {
  const now = new Date().toISOString();
  store.immediate(() => {
    for (let i = 0; i < n; i++) {
      const code = `def f_${i}(x):\n    return x * ${i}  # ${"pad ".repeat(100)}\n`;
      const id = `f${i.toString(16).padStart(15, "0")}`;
      const event = buildLineageEvent({
        eventType: "pattern_created",
        patternId: id,
        parentPatternId: null,
        transformationType: null,
        fileVersion: 1,
        filePath: `/bench/gen/f${i}.py`,
        language: "python",
        toolName: "Write",
        code: withCode ? code : null,
        codeOmitted: withCode ? null : "store_code_off",
        lineCount: 2,
        byteSize: code.length,
        sessionId: "bench",
        correlationId: crypto.randomUUID(),
        toolUseId: `toolu_g${i}`,
        timestamp: now,
        reason: "bench",
        linesAdded: 2,
        linesRemoved: 0,
        durationMs: 1,
      });
      store.enqueue({
        patternId: id,
        patternVersion: "1.0.0",
        parentPatternIds: [],
        body: JSON.stringify(event),
        createdAt: now,
      });
    }
  });
}

async function flushThroughput(
  batchSize: number,
): Promise<{ eventsPerSecond: number; held: number }> {
  const server = await startPhase4Server();
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-bench-flush-" });
  const store = openStore(dataDir);
  fillOutbox(store, 10_000, true);
  const config = {
    ...defaultConfig(dataDir),
    dataDir,
    intelligenceUrl: server.url,
    batchSize,
    timeoutSeconds: 30,
  };
  const started = performance.now();
  const report = await flushOutbox(store, config);
  const seconds = (performance.now() - started) / 1000;
  store.close();
  const held = server.events().length;
  await server.close();
  return { eventsPerSecond: report.sent / seconds, held };
}

/** Fills a store with `n` patterns (1,000 of them versions of one file) in a few transactions. */
function fillStore(dataDir: string, n: number, withCode: boolean): void {
  const store = openStore(dataDir);
  const now = new Date().toISOString();
  const chunk = 10_000;
  for (let start = 0; start < n; start += chunk) {
    store.immediate(() => {
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        const id = `e${i.toString(16).padStart(15, "0")}`;
        const code = `def f_${i}(x):\n    return x * ${i}\n${"# filler line of code\n".repeat(20)}`;
        store.insertPattern({
          patternId: id,
          language: "python",
          lineCount: 22,
          byteSize: code.length,
          code: withCode ? code : null,
          firstSeenAt: now,
        });
        const inChain = i < 1000;
        const parent = inChain && i > 0 ? `e${(i - 1).toString(16).padStart(15, "0")}` : null;
        store.insertVersion({
          filePath: inChain ? "/bench/long_history.py" : `/bench/gen/f${i}.py`,
          version: inChain ? i + 1 : 1,
          patternId: id,
          parentPatternId: parent,
          eventType: parent ? "pattern_modified" : "pattern_created",
          transformationType: parent ? "refactor" : null,
          toolName: "Edit",
          toolUseId: `toolu_s${i}`,
          sessionId: "bench",
          correlationId: "c",
          reason: "bench",
          createdAt: now,
        });
        if (parent) {
          store.insertEdge({
            child: id,
            parent,
            edgeType: "modified_from",
            transformationType: "refactor",
            filePath: "/bench/long_history.py",
            createdAt: now,
          });
        }
      }
    });
  }
  store.close();
}

function dbSize(dataDir: string): number {
  let size = 0;
  for (const f of ["patterns.db", "patterns.db-wal"]) {
    try {
      size += Deno.statSync(`${dataDir}/${f}`).size;
    } catch { /* absent */ }
  }
  return size;
}

function compileProbe(): string {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/e.ts`, "");
  const r = new Deno.Command(Deno.execPath(), {
    args: ["compile", "--quiet", `--output=${dir}/e`, `${dir}/e.ts`],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  return r.success
    ? "available"
    : `skipped (${explainCompileFailure(new TextDecoder().decode(r.stderr))})`;
}

const fmt = (ms: number) => ms.toFixed(1);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

if (import.meta.main) {
  const lines: string[] = [];
  const out = (s = "") => {
    console.log(s);
    lines.push(s);
  };
  // /proc needs --allow-all in Deno; a subprocess reads it within --allow-run.
  const cpuInfo = new Deno.Command("sh", {
    args: ["-c", "grep -m1 'model name' /proc/cpuinfo"],
    stdout: "piped",
  })
    .outputSync();
  const cpu = new TextDecoder().decode(cpuInfo.stdout).replace(/.*:\s*/, "").trim() ||
    "unknown CPU";
  out(`# Pattern Tracker benchmark — ${new Date().toISOString().slice(0, 10)}`);
  out(
    `Machine: ${navigator.hardwareConcurrency} cores, ${cpu}; Deno ${Deno.version.deno}. ${ITERATIONS} interleaved runs per figure.`,
  );
  out();

  // 1. Hook latency, server up / down / slow.
  const server = await startPhase4Server();
  const slow = await startPhase4Server({ mode: "slow", slowMs: 5000 });
  const downServer = await startPhase4Server();
  const downUrl = downServer.url;
  await downServer.close(); // nothing listens there now
  const rows: LatencyRow[] = [];
  for (
    const [scenario, url] of [["server up", server.url], ["server down", downUrl], [
      "server slow (5 s)",
      slow.url,
    ]] as const
  ) {
    rows.push(
      ...await hookLatency(
        scenario,
        url,
        Deno.makeTempDirSync({ prefix: "pt-bench-" }),
        ITERATIONS,
      ),
    );
  }
  out(
    "## Hook latency (whole process, as Claude Code runs it) vs `deno run` of an empty script with the same flags",
  );
  out();
  out(
    "| scenario | hook | median ms | p95 ms | floor median | floor p95 | median ratio (≤ 1.5×) | p95 ratio (≤ 2×) |",
  );
  out("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    out(
      `| ${r.scenario} | ${r.hook} | ${fmt(r.median)} | ${fmt(r.p95)} | ${fmt(r.floorMedian)} | ${
        fmt(r.floorP95)
      } | ${ratio(r.median, r.floorMedian)} | ${ratio(r.p95, r.floorP95)} |`,
    );
  }
  out();
  const floorMedian = rows[0]!.floorMedian;
  out(`Python stack floor: ${await pythonFloor(floorMedian, ITERATIONS)}.`);
  out(`Compiled binaries: ${compileProbe()}.`);
  out();

  // 2. Concurrency.
  const conc = await concurrency(server.url);
  out(
    `## 16 hooks at once\n\nWall time ${fmt(conc.wallMs)} ms (${
      ratio(conc.wallMs, floorMedian)
    } one floor run); ${conc.recorded} of 16 recorded, ${16 - conc.recorded} lost.`,
  );
  out();

  // 3. Flush throughput.
  out("## Flush throughput to the loopback Phase 4 stand-in (10,000 events, target ≥ 5,000/s)\n");
  out("| batch_size | events/s | held by the server |");
  out("| ---: | ---: | ---: |");
  for (const size of [100, 1000]) {
    const f = await flushThroughput(size);
    out(`| ${size} | ${Math.round(f.eventsPerSecond)} | ${f.held} |`);
  }
  out();

  // 4. Store at scale.
  const big = Deno.makeTempDirSync({ prefix: "pt-bench-big-" });
  const n = QUICK ? 20_000 : 100_000;
  fillStore(big, n, true);
  const sizeWith = dbSize(big) / n;
  const bigNoCode = Deno.makeTempDirSync({ prefix: "pt-bench-nocode-" });
  fillStore(bigNoCode, QUICK ? 20_000 : 100_000, false);
  const sizeWithout = dbSize(bigNoCode) / n;
  Deno.removeSync(bigNoCode, { recursive: true });
  const empty = await hookLatency(
    "empty store",
    server.url,
    Deno.makeTempDirSync({ prefix: "pt-bench-" }),
    ITERATIONS,
  );
  const full = await hookLatency(`${n.toLocaleString("en")} patterns`, server.url, big, ITERATIONS);
  const store = openStore(big);
  const queryTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    renderFileLineage("/bench/long_history.py", store.fileHistory("/bench/long_history.py"));
    queryTimes.push(performance.now() - t);
  }
  store.close();
  const cliTimes: number[] = [];
  const cliFloor: number[] = [];
  for (let i = 0; i < (QUICK ? 5 : 15); i++) {
    cliFloor.push(
      await timeProcess(
        Deno.execPath(),
        ["run", "-A", `${ROOT}/bench/empty.ts`],
        new Uint8Array(),
        { PATH, HOME: big },
      ),
    );
    cliTimes.push(
      await timeProcess(
        Deno.execPath(),
        ["run", "-A", `${ROOT}/tracker.ts`, "lineage", "/bench/long_history.py"],
        new Uint8Array(),
        { PATH, HOME: big, PATTERN_TRACKER_DATA_DIR: big },
      ),
    );
  }
  out(`## Store at scale (${n.toLocaleString("en")} patterns, one file with 1,000 versions)\n`);
  out("| hook | ratio, empty store | ratio, full store | growth (≤ 10 %) |");
  out("| --- | ---: | ---: | ---: |");
  for (let i = 0; i < empty.length; i++) {
    const e = empty[i]!;
    const f = full[i]!;
    const re = e.median / e.floorMedian;
    const rf = f.median / f.floorMedian;
    out(
      `| ${e.hook} | ${re.toFixed(2)}× | ${rf.toFixed(2)}× | ${
        (((rf - re) / re) * 100).toFixed(1)
      } % |`,
    );
  }
  out();
  const q = summarize(queryTimes);
  const c = summarize(cliTimes);
  const cf = summarize(cliFloor);
  out(
    `\`lineage\` of the 1,000-version file: query and render in-process median ${
      fmt(q.median)
    } ms, p95 ${fmt(q.p95)} ms (target < 50 ms); whole CLI process ${fmt(c.median)} ms = ${
      ratio(c.median, cf.median)
    } an empty \`deno run\`.`,
  );
  out(
    `Database size per pattern: ${Math.round(sizeWith)} bytes with code (≈ 500-byte files), ${
      Math.round(sizeWithout)
    } bytes with \`store_code: false\`.`,
  );
  Deno.removeSync(big, { recursive: true });
  await server.close();
  await slow.close();
  if (JSON_OUT) Deno.writeTextFileSync(JSON_OUT, JSON.stringify({ rows, conc, lines }, null, 2));
}
