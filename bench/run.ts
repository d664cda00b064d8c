/**
 * Pattern Tracker benchmark: `deno task bench [--quick] [--json FILE]`.
 *
 * Every speed figure is a ratio against a floor measured in the same run, interleaved with the
 * measured runs (floor, hook, hook, floor, …), because the machines we run on are small and noisy:
 *
 * 1. hook latency, whole process from spawn to exit, through `sh -c` with the exact command lines
 *    `tracker.ts install` writes (`hookCommands`: the launcher `hooks/pattern-tracker.sh`), on the
 *    real Write and Edit payloads, against `deno run` of an empty script with the same flags; the
 *    launcher's own cost against the `deno run` lines it execs; with the Phase 4 stand-in up, down
 *    and slow, with the shipped `config.yaml` (what a default install reads) and without a config
 *    file; the
 *    original Python stack's start-up against the same floor; whether `deno compile` works here;
 * 2. 16 post hooks at once: wall time against 16 empty `deno run`s at once, and no lost event;
 * 3. flush throughput of 10,000 queued events to the stand-in, batch sizes 100 and 1000; delivery
 *    of one file's 2,000-version history to the real Phase 4 server (when PostgreSQL and its Python
 *    packages are here; `bench/real_server.ts`) next to the stand-in; the cost per event of the
 *    line attribution on a 2,000-version file, and flushes of it with and without
 *    (`bench/views.ts`);
 * 4. a store of 100,000 patterns: hook latency against the empty store, `lineage` of a file with
 *    1,000 versions, database size per pattern with `store_code` on and off; `blame` of a file with
 *    1,000 versions (`bench/views.ts`);
 * 5. where the hooks' time goes: import-only scripts and the phase-timed hook;
 * 6. store size (`bench/storage.ts`): bytes per version of a 163 KB file edited 300 times and of a
 *    small-file session, before and after delivery; the post hook on the 163 KB file; reading the
 *    newest and the oldest of 1,000 versions, and their `lineage`.
 *
 * `--quick` runs fewer iterations and a 20,000-pattern store (a smoke test); `--json FILE` writes
 * every result as JSON.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { flushOutbox } from "../src/delivery/flush.ts";
import { resolveConfig } from "../src/config/mod.ts";
import { renderFileLineage } from "../src/cli/lineage.ts";
import { blameFile } from "../src/views/blame_history.ts";
import { explainCompileFailure } from "../src/cli/compile.ts";
import { type BundledHooks, bundleHooks } from "../src/cli/bundle.ts";
import { directHookCommands, hookCommands, pluginHookCommands } from "../src/cli/install.ts";
import { DENO_PATH_FILE } from "../src/cli/launcher.ts";
import { parseHookPayload, type ToolChange } from "../src/record/payload.ts";
import { track } from "../src/record/track.ts";
import { openStore, type Store } from "../src/store/mod.ts";
import { type Phase4Server, startPhase4Server } from "../tests/phase4_server.ts";
import { measureHistoryDelivery, renderHistoryDelivery } from "./real_server.ts";
import { attributionBench, blameBench, renderAttributionBench, renderBlameBench } from "./views.ts";
import {
  type HistorySize,
  largeFileHistory,
  largeFileHook,
  type LargeHookResult,
  largeModule,
  measureHistory,
  oneLineEdit,
  type ReadResult,
  readVersions,
  smallFileSession,
} from "./storage.ts";
import {
  type Arm,
  DENO_DIR,
  fmt,
  type Install,
  install,
  interleave,
  PATH,
  type Payloads,
  payloads,
  type ProcessSpec,
  ratio,
  ROOT,
  shell,
  summarize,
  type Summary,
  timeProcess,
  waitForFlushers,
  withScript,
} from "./lib.ts";

/** Command-line options of the benchmark. */
export interface BenchOptions {
  quick: boolean;
  json: string | undefined;
}

/**
 * Parses `--quick` and `--json FILE`.
 *
 * @example
 * ```ts
 * import { parseBenchArgs } from "./run.ts";
 * parseBenchArgs(["--quick", "--json", "out.json"]); // { quick: true, json: "out.json" }
 * ```
 */
export function parseBenchArgs(args: readonly string[]): BenchOptions {
  const at = args.indexOf("--json");
  const json = at >= 0 ? args[at + 1] : undefined;
  if (at >= 0 && (json === undefined || json.startsWith("--"))) {
    throw new Error("--json needs a file name");
  }
  for (const [i, a] of args.entries()) {
    if (a !== "--quick" && a !== "--json" && !(i === at + 1 && at >= 0)) {
      throw new Error(`unknown argument ${a}; usage: deno task bench [--quick] [--json FILE]`);
    }
  }
  return { quick: args.includes("--quick"), json };
}

const SHIPPED_CONFIG = `${ROOT}/config.yaml`;
/** The flags of `deno task tracker` (deno.json), for the CLI measurements. */
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
const EMPTY = `${ROOT}/bench/empty.ts`;

const temps: string[] = [];
/** The bundled hooks (`install`'s default), made at the start of `main`; undefined if bundling failed. */
let HOOKS: BundledHooks | undefined;

function tempDir(prefix: string): string {
  const dir = Deno.makeTempDirSync({ prefix: `pt-bench-${prefix}-` });
  temps.push(dir);
  return dir;
}

/** One row of the hook latency tables. */
export interface LatencyRow {
  scenario: string;
  hook: string;
  hookMs: Summary;
  floorMs: Summary;
  medianRatio: number;
  p95Ratio: number;
}

function latencyRows(
  scenario: string,
  samples: Record<string, number[]>,
  floorNames: string[] = ["floor", "floor "],
): LatencyRow[] {
  const floor = summarize(floorNames.flatMap((n) => samples[n] ?? []));
  return Object.entries(samples).filter(([k]) => !floorNames.includes(k)).map(([hook, s]) => {
    const h = summarize(s);
    return {
      scenario,
      hook,
      hookMs: h,
      floorMs: floor,
      medianRatio: h.median / floor.median,
      p95Ratio: h.p95 / floor.p95,
    };
  });
}

/**
 * The arms of one hook-latency round: floor, pre/post Write, floor, pre/post Edit (the Edit
 * continues the file the round's Write created), and optionally the post Write again with
 * `auto_flush` off, which isolates what starting the background flusher costs the hook.
 */
function hookArms(
  inst: Install,
  key: string,
  withAutoFlushOff: boolean,
  withLargeEdit = false,
): Arm[] {
  const cache = new Map<number, Payloads>();
  const p = (round: number) => {
    let v = cache.get(round);
    if (!v) {
      v = payloads(`${key}${round + 10}`);
      cache.set(round, v);
    }
    return v;
  };
  const noFlush = { ...inst.env, PATTERN_TRACKER_AUTO_FLUSH: "false" };
  const arms: Arm[] = [
    { name: "floor", spec: () => shell(inst.floor, inst.env) },
    { name: "pre Write", spec: (r) => shell(inst.commands.pre, inst.env, p(r).preWrite) },
    { name: "post Write", spec: (r) => shell(inst.commands.post, inst.env, p(r).postWrite) },
    { name: "floor ", spec: () => shell(inst.floor, inst.env) },
    { name: "pre Edit", spec: (r) => shell(inst.commands.pre, inst.env, p(r).preEdit) },
    { name: "post Edit", spec: (r) => shell(inst.commands.post, inst.env, p(r).postEdit) },
    // UserPromptSubmit (prompt_hook.ts) on the captured payload, a session of its own per round.
    { name: "prompt", spec: (r) => shell(inst.commands.prompt!, inst.env, promptPayload(key, r)) },
  ];
  if (withLargeEdit) arms.push(...largeEditArms(inst, key));
  if (withAutoFlushOff) {
    const q = (r: number) => payloads(`${key}nf${r + 10}`).postWrite;
    arms.push({
      name: "post Write, auto_flush off",
      spec: (r) => shell(inst.commands.post, noFlush, q(r)),
    });
  }
  return arms;
}

const PROMPT_FIXTURE = JSON.parse(
  Deno.readTextFileSync(`${ROOT}/tests/fixtures/10-user-prompt-submit.json`),
) as Record<string, unknown>;

/** The captured UserPromptSubmit payload with a session ID of its own. */
function promptPayload(key: string, round: number): Uint8Array {
  const session = `${key}-${round}-${PROMPT_FIXTURE.session_id}`;
  return new TextEncoder().encode(JSON.stringify({ ...PROMPT_FIXTURE, session_id: session }));
}

/**
 * A one-line Edit of a 163 KB module (`bench/storage.ts` `largeModule`): the pre hook, then the
 * post hook with the whole file before it in the payload (`originalFile`, as Claude Code sends it),
 * one Edit per round continuing the same file, so from the second round on the store patches the
 * new version against its parent.
 */
function largeEditArms(inst: Install, key: string): Arm[] {
  const file = `/bench/${key}big_module.ts`;
  let text = largeModule();
  const enc = (x: string) => new TextEncoder().encode(x);
  let post: Uint8Array | null = null;
  return [
    {
      name: "pre Edit, 163 KB file",
      spec: (round) => {
        const edit = oneLineEdit(file, text, 7919 * (round + 10), `toolu_big_${key}${round}`);
        text = edit.after;
        post = enc(edit.payload);
        const pre = JSON.parse(edit.payload) as Record<string, unknown>;
        delete pre.tool_response;
        return shell(
          inst.commands.pre,
          inst.env,
          enc(JSON.stringify({ ...pre, hook_event_name: "PreToolUse" })),
        );
      },
    },
    {
      name: "post Edit, 163 KB file",
      spec: () => shell(inst.commands.post, inst.env, post as Uint8Array),
    },
  ];
}

/** Results of the launcher section: each arm against the floor, and launcher minus direct. */
export interface LauncherResult {
  rows: { name: string; ms: Summary; ratio: number }[];
  floor: Summary;
  /** Median over rounds of the launcher arm minus the same hook run directly, in ms. */
  overhead: { hook: string; ms: number }[];
}

/**
 * What the launcher (`hooks/pattern-tracker.sh`) costs: the hooks as `install` writes them (the
 * launcher with the values it resolved) against the `deno run` lines it execs, written out; and the
 * plugin's launcher (no values: it reads the Deno that SessionStart remembered) against the same
 * `.ts` hook run directly. All interleaved with the floor.
 */
async function launcherCost(rounds: number, server: Phase4Server): Promise<LauncherResult> {
  const inst = install(tempDir("launch"), SHIPPED_CONFIG, server.url, {}, HOOKS);
  const pluginData = tempDir("launch-plugin");
  Deno.writeTextFileSync(`${pluginData}/${DENO_PATH_FILE}`, `${Deno.execPath()}\n`);
  const pluginEnv = {
    HOME: pluginData,
    CLAUDE_PLUGIN_ROOT: ROOT,
    CLAUDE_PLUGIN_DATA: pluginData,
    PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
  };
  const directSources = directHookCommands({
    deno: Deno.execPath(),
    root: ROOT,
    dataDir: pluginData,
    configPath: `${pluginData}/config.yaml`,
  });
  const directSourcesEnv = {
    ...pluginEnv,
    PATTERN_TRACKER_DATA_DIR: pluginData,
    PATTERN_TRACKER_CONFIG: `${pluginData}/config.yaml`,
  };
  const p = (prefix: string) => (r: number) => payloads(`${prefix}${r + 10}`);
  const arms: Arm[] = [
    { name: "floor", spec: () => shell(inst.floor, inst.env) },
    {
      name: "empty script, launcher",
      spec: () => shell(withScript(inst.commands.post, EMPTY), inst.env),
    },
    {
      name: "pre Write, direct",
      spec: (r) => shell(inst.direct.pre, inst.env, p("lpd")(r).preWrite),
    },
    {
      name: "pre Write, launcher",
      spec: (r) => shell(inst.commands.pre, inst.env, p("lpl")(r).preWrite),
    },
    { name: "floor ", spec: () => shell(inst.floor, inst.env) },
    {
      name: "post Write, direct",
      spec: (r) => shell(inst.direct.post, inst.env, p("lpd")(r).postWrite),
    },
    {
      name: "post Write, launcher",
      spec: (r) => shell(inst.commands.post, inst.env, p("lpl")(r).postWrite),
    },
    {
      name: "post Write .ts, direct",
      spec: (r) => shell(directSources.post, directSourcesEnv, p("lsd")(r).postWrite),
    },
    {
      name: "post Write .ts, plugin launcher",
      spec: (r) => shell(pluginHookCommands().post, pluginEnv, p("lsp")(r).postWrite),
    },
  ];
  const s = await interleave(arms, rounds);
  const floor = summarize([...s.floor!, ...s["floor "]!]);
  const rows = Object.entries(s).filter(([k]) => !k.startsWith("floor")).map(([name, v]) => {
    const ms = summarize(v);
    return { name, ms, ratio: ms.median / floor.median };
  });
  // Per round, launcher minus direct (both ran in the same round): the median of those differences
  // is steadier on a noisy machine than a difference of medians.
  const paired = (launched: string, direct: string) =>
    summarize(s[launched]!.map((ms, round) => ms - s[direct]![round]!)).median;
  const overhead = [
    { hook: "empty script", ms: paired("empty script, launcher", "floor") },
    { hook: "pre Write", ms: paired("pre Write, launcher", "pre Write, direct") },
    { hook: "post Write", ms: paired("post Write, launcher", "post Write, direct") },
    {
      hook: "post Write .ts (plugin)",
      ms: paired("post Write .ts, plugin launcher", "post Write .ts, direct"),
    },
  ];
  return { rows, floor, overhead };
}

/** Result of the locked-store measurement. */
export interface LockedResult {
  rows: LatencyRow[];
  spilled: number;
  replayed: number;
}

/**
 * Post hooks against a store whose write lock another process holds for the whole run: the
 * default `store_wait_ms` (wait, then spill) and 0 (the journal's own cost), with the floor.
 */
export async function lockedStore(rounds: number): Promise<LockedResult> {
  const inst = install(tempDir("locked"), SHIPPED_CONFIG, "http://127.0.0.1:9", {
    PATTERN_TRACKER_AUTO_FLUSH: "false",
  }, HOOKS);
  const first = await timeProcess(shell(inst.commands.post, inst.env, payloads("lk").postWrite));
  if (first.code !== 0) throw new Error(`the first hook exited ${first.code}`);
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { DatabaseSync } from "node:sqlite";
       const db = new DatabaseSync(Deno.args[0]); db.exec("BEGIN IMMEDIATE"); console.log("locked");
       await new Promise((r) => setTimeout(r, 3_600_000));`,
      `${inst.dataDir}/patterns.db`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = holder.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  let spilled = 0;
  const s = await (async () => {
    try {
      return await interleave([
        { name: "floor", spec: () => shell(inst.floor, inst.env) },
        {
          name: "post Write, store locked (store_wait_ms 250, then the journal)",
          spec: (r) => {
            spilled++;
            return shell(inst.commands.post, inst.env, payloads(`lkw${r + 10}`).postWrite);
          },
        },
        {
          name: "post Write, store locked, store_wait_ms 0 (the journal alone)",
          spec: (r) => {
            spilled++;
            return shell(
              inst.commands.post,
              { ...inst.env, PATTERN_TRACKER_STORE_WAIT_MS: "0" },
              payloads(`lkz${r + 10}`).postWrite,
            );
          },
        },
        { name: "floor ", spec: () => shell(inst.floor, inst.env) },
      ], rounds);
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
    }
  })();
  const status = await new Deno.Command(Deno.execPath(), {
    args: [...TASK_FLAGS, `${ROOT}/tracker.ts`, "status", "--json"],
    env: { PATH, DENO_DIR, ...inst.env },
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).output();
  const report = JSON.parse(new TextDecoder().decode(status.stdout)) as {
    journal: { replayed: number };
  };
  return { rows: latencyRows("locked", s), spilled, replayed: report.journal.replayed };
}

/** Python start-up (the original stack) against the Deno floor, interleaved. */
async function pythonFloor(
  rounds: number,
): Promise<{ label: string; note: string; ms: Summary; floorMs: Summary } | { skipped: string }> {
  const probe = await new Deno.Command("python3", {
    args: ["-c", "import yaml"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (!probe) return { skipped: "python3 is not installed" };
  const code = probe.success ? "import yaml, hashlib, json, uuid" : "import hashlib, json, uuid";
  const note = probe.success
    ? ""
    : " (PyYAML is not installed here: `import yaml` fails, so the stack is measured without it)";
  const inst = install(tempDir("py"), SHIPPED_CONFIG, "http://127.0.0.1:9", {}, HOOKS);
  const s = await interleave([
    { name: "floor", spec: () => shell(inst.floor, inst.env) },
    { name: "python", spec: () => ({ cmd: "python3", args: ["-c", code], env: {} }) },
  ], rounds);
  return {
    label: `python3 -c "${code}"`,
    note,
    ms: summarize(s.python!),
    floorMs: summarize(s.floor!),
  };
}

function compileProbe(): string {
  const dir = tempDir("compile");
  Deno.writeTextFileSync(`${dir}/e.ts`, "");
  const r = new Deno.Command(Deno.execPath(), {
    args: ["compile", "--quiet", `--output=${dir}/e`, `${dir}/e.ts`],
    env: { DENO_DIR },
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  if (!r.success) {
    return `skipped (${explainCompileFailure(new TextDecoder().decode(r.stderr)).trim()})`;
  }
  return "available (an empty script compiled; measure the hooks with `deno task compile`)";
}

/** Counts in a store, read with node:sqlite directly (not through our Store). */
function countStore(dataDir: string): Record<string, number> {
  const db = new DatabaseSync(`${dataDir}/patterns.db`, { readOnly: true });
  try {
    const n = (sql: string) => Number((db.prepare(sql).get() as { n: number } | undefined)?.n ?? 0);
    return {
      versions: n("SELECT COUNT(*) AS n FROM file_versions"),
      executions: n("SELECT COUNT(*) AS n FROM executions WHERE finished_at IS NOT NULL"),
      outbox: n("SELECT COUNT(*) AS n FROM outbox"),
      delivered: n("SELECT COUNT(*) AS n FROM delivered"),
      deadLetters: n("SELECT COUNT(*) AS n FROM dead_letters"),
      // Every version must have its event queued, delivered or dead-lettered: none may vanish.
      versionsWithoutEvent: n(`SELECT COUNT(*) AS n FROM file_versions v
        WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.version_id = v.id)
          AND NOT EXISTS (SELECT 1 FROM delivered d WHERE d.version_id = v.id)
          AND NOT EXISTS (SELECT 1 FROM dead_letters l WHERE l.version_id = v.id)`),
    };
  } finally {
    db.close();
  }
}

/** Result of the 16-at-once measurement. */
export interface ConcurrencyResult {
  reps: number;
  hookBurstMs: Summary;
  floorBurstMs: Summary;
  recorded: number[];
  lostEvents: number;
  counts: Record<string, number>[];
  heldByServer: number;
  expected: number;
}

/** 16 post hooks at once (16 files and tool_use_ids), alternated with 16 empty `deno run`s at once. */
async function concurrency(reps: number): Promise<ConcurrencyResult> {
  const server = await startPhase4Server();
  const hookBursts: number[] = [];
  const floorBursts: number[] = [];
  const dirs: string[] = [];
  const burst = async (specs: ProcessSpec[]) => {
    const started = performance.now();
    await Promise.all(specs.map((s) => timeProcess(s)));
    return performance.now() - started;
  };
  for (let rep = -1; rep < reps; rep++) {
    const inst = install(tempDir("conc"), SHIPPED_CONFIG, server.url, {}, HOOKS);
    floorBursts.push(
      await burst(Array.from({ length: 16 }, () => shell(inst.floor, inst.env))),
    );
    const ms = await burst(
      Array.from(
        { length: 16 },
        (_, i) => shell(inst.commands.post, inst.env, payloads(`c${rep + 1}_${i}`).postWrite),
      ),
    );
    if (rep >= 0) {
      hookBursts.push(ms);
      dirs.push(inst.dataDir);
    } else floorBursts.pop(); // the warm-up pair is discarded
  }
  for (const d of dirs) await waitForFlushers(d, 20_000);
  const counts = dirs.map(countStore);
  await server.close();
  return {
    reps,
    hookBurstMs: summarize(hookBursts),
    floorBurstMs: summarize(floorBursts),
    recorded: counts.map((c) => c.versions!),
    lostEvents: counts.reduce(
      (sum, c) => sum + (16 - c.versions!) + c.versionsWithoutEvent!,
      0,
    ),
    counts,
    heldByServer: server.patternIds().size,
    expected: 16 * (reps + 1), // the warm-up repetition's events are delivered too
  };
}

/**
 * Queues `n` versions (one new file each, ≈ 500 bytes of code) as the recording does: pattern,
 * version and outbox entry, in one transaction. The flusher builds each request from these rows.
 */
function fillOutbox(store: Store, n: number): void {
  const now = new Date().toISOString();
  store.immediate(() => {
    for (let i = 0; i < n; i++) {
      const code = `def f_${i}(x):\n    return x * ${i}  # ${"pad ".repeat(100)}\n`;
      const id = `f${i.toString(16).padStart(15, "0")}`;
      store.insertPattern({
        patternId: id,
        language: "python",
        lineCount: 2,
        byteSize: code.length,
        code,
        firstSeenAt: now,
      });
      const versionId = store.insertVersion({
        filePath: `/bench/gen/f${i}.py`,
        version: 1,
        patternId: id,
        parentPatternId: null,
        eventType: "pattern_created",
        transformationType: null,
        toolName: "Write",
        toolUseId: `toolu_g${i}`,
        sessionId: "bench",
        correlationId: crypto.randomUUID(),
        reason: "bench",
        createdAt: now,
        changeLinesAdded: 2,
        changeLinesRemoved: 0,
        changeDurationMs: 1,
      });
      store.enqueueVersion(versionId, now);
    }
  });
}

/** One flush measurement. */
export interface FlushRow {
  batchSize: number;
  how: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  held: number;
  left: number;
}

/**
 * 10,000 queued events delivered to a fresh stand-in, by `flushOutbox` in-process (configuration
 * resolved from `PATTERN_TRACKER_BATCH_SIZE`) or by a `tracker.ts flush` process (whole process).
 */
async function flushThroughput(
  batchSize: number,
  how: "in-process" | "process",
  n: number,
): Promise<FlushRow> {
  const server = await startPhase4Server();
  const dataDir = tempDir("flush");
  const env = {
    HOME: dataDir,
    PATTERN_TRACKER_DATA_DIR: dataDir,
    PATTERN_TRACKER_CONFIG: SHIPPED_CONFIG,
    PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
    PATTERN_TRACKER_BATCH_SIZE: String(batchSize),
  };
  const store = openStore(dataDir);
  fillOutbox(store, n);
  let seconds: number;
  if (how === "in-process") {
    const { config, problems } = resolveConfig({ env, file: null, filePath: "", home: dataDir });
    if (problems.length > 0) throw new Error(JSON.stringify(problems));
    const started = performance.now();
    const report = await flushOutbox(store, config);
    seconds = (performance.now() - started) / 1000;
    if (report.sent !== n) throw new Error(`flush sent ${report.sent} of ${n}: ${report.stopped}`);
    store.close();
  } else {
    store.close();
    const r = await timeProcess({
      cmd: Deno.execPath(),
      args: [...TASK_FLAGS, `${ROOT}/tracker.ts`, "flush"],
      env,
    });
    if (r.code !== 0) throw new Error(`tracker.ts flush exited ${r.code}`);
    seconds = r.ms / 1000;
  }
  const left = countStore(dataDir).outbox!;
  const held = server.patternIds().size;
  await server.close();
  return { batchSize, how, events: n, seconds, eventsPerSecond: n / seconds, held, left };
}

const LONG_FILE = "/bench/long_history.py";

/**
 * Fills a store with `n` patterns through Store methods in transactions of 10,000: 1,000 of them
 * are the versions of one file (a chain of modifications), the rest one version of a file each.
 */
function fillStore(dataDir: string, n: number, withCode: boolean): void {
  const store = openStore(dataDir);
  const now = new Date().toISOString();
  const chunk = 10_000;
  const idOf = (i: number) => `e${i.toString(16).padStart(15, "0")}`;
  for (let start = 0; start < n; start += chunk) {
    store.immediate(() => {
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        const id = idOf(i);
        const code = `def f_${i}(x):\n    return x * ${i}\n${"# filler line of code\n".repeat(20)}`;
        const inChain = i < 1000;
        const parent = inChain && i > 0 ? idOf(i - 1) : null;
        store.insertPattern({
          patternId: id,
          language: "python",
          lineCount: 22,
          byteSize: code.length,
          code: withCode ? code : null,
          firstSeenAt: now,
          // As the hook stores a modification: a patch against the parent's text.
          parent: parent === null ? null : {
            patternId: parent,
            content: `def f_${i - 1}(x):\n    return x * ${i - 1}\n${
              "# filler line of code\n".repeat(20)
            }`,
          },
        });
        store.insertVersion({
          filePath: inChain ? LONG_FILE : `/bench/gen/f${i}.py`,
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
            filePath: LONG_FILE,
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

/**
 * Bytes per pattern when `n` Writes (≈ 500-byte files) are recorded by the real `track`,
 * with `store_code` resolved from `PATTERN_TRACKER_STORE_CODE`: pattern, version, execution and
 * queued event, as the post hook stores them.
 */
async function realSizePerPattern(
  n: number,
  storeCode: boolean,
  server: Phase4Server,
): Promise<{ queued: number; delivered: number }> {
  const dataDir = tempDir("size");
  const { config } = resolveConfig({
    env: { PATTERN_TRACKER_STORE_CODE: String(storeCode), PATTERN_TRACKER_DATA_DIR: dataDir },
    file: null,
    filePath: "",
    home: dataDir,
  });
  const store = openStore(dataDir);
  const template = JSON.parse(
    new TextDecoder().decode(payloads("size").postWrite),
  ) as Record<string, Record<string, unknown>>;
  for (let i = 0; i < n; i++) {
    const file = `/bench/size/m${i}.py`;
    const content = `def f_${i}(x):\n    return x * ${i}\n${"# filler line of code\n".repeat(20)}`;
    const parsed = parseHookPayload(JSON.stringify({
      ...template,
      tool_use_id: `toolu_size_${i}`,
      tool_input: { file_path: file, content },
      tool_response: { ...template.tool_response, filePath: file, content },
    }));
    if (parsed.kind !== "change") throw new Error(`size payload parsed as ${parsed.kind}`);
    await track(config, parsed as ToolChange, { store });
  }
  const cfg = { ...config, intelligenceUrl: server.url, batchSize: 1000 };
  store.close(); // checkpoints the WAL into the database file
  const queued = dbSize(dataDir) / n;
  // Steady state: the events delivered (their outbox rows deleted).
  const again = openStore(dataDir);
  const report = await flushOutbox(again, cfg);
  if (report.sent !== n) throw new Error(`size flush sent ${report.sent} of ${n}`);
  again.close();
  // VACUUM needs an attached database, which Deno's node:sqlite does not allow: count the pages in
  // use instead (free pages are reused by later inserts).
  const db = new DatabaseSync(`${dataDir}/patterns.db`, { readOnly: true });
  const pragma = (name: string) =>
    Number(Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0] ?? 0);
  const live = (pragma("page_count") - pragma("freelist_count")) * pragma("page_size");
  db.close();
  return { queued, delivered: live / n };
}

/** Results of the store-at-scale section. */
export interface ScaleResult {
  patterns: number;
  rows: { hook: string; empty: Summary; full: Summary; floor: Summary; growth: number }[];
  queryMs: Summary;
  renderMs: Summary;
  queryAndRenderMs: Summary;
  /** `blameFile` of the same 1,000-version file. */
  blameMs: Summary;
  versions: number;
  cliMs: Summary;
  cliFloorMs: Summary;
  /** A process that only loads the CLI's module graph. */
  cliGraphMs: Summary;
  bytesPerPattern: {
    fillWithCode: number;
    fillWithoutCode: number;
    recordWithCode: { queued: number; delivered: number };
    recordWithoutCode: { queued: number; delivered: number };
  };
}

async function storeAtScale(
  n: number,
  rounds: number,
  server: Phase4Server,
  sizeN: number,
): Promise<ScaleResult> {
  const big = tempDir("big");
  fillStore(big, n, true);
  const fillWithCode = dbSize(big) / n;
  const noCode = tempDir("nocode");
  fillStore(noCode, n, false);
  const fillWithoutCode = dbSize(noCode) / n;
  Deno.removeSync(noCode, { recursive: true });

  const empty = install(tempDir("empty"), SHIPPED_CONFIG, server.url, {}, HOOKS);
  const full = install(big, SHIPPED_CONFIG, server.url, {}, HOOKS);
  const pe = hookArms(empty, "se", false);
  const pf = hookArms(full, "sf", false);
  const arm = (arms: Arm[], name: string, as: string): Arm => {
    const a = arms.find((x) => x.name === name)!;
    return { name: as, spec: a.spec };
  };
  const arms: Arm[] = [pe[0]!];
  for (const h of ["pre Write", "post Write", "pre Edit", "post Edit"]) {
    arms.push(arm(pe, h, `${h} | empty`), arm(pf, h, `${h} | full`));
    if (h === "post Write") arms.push(arm(pe, "floor ", "floor "));
  }
  const s = await interleave(arms, rounds);
  const floor = summarize([...s.floor!, ...s["floor "]!]);
  const rows = ["pre Write", "post Write", "pre Edit", "post Edit"].map((hook) => {
    const e = summarize(s[`${hook} | empty`]!);
    const f = summarize(s[`${hook} | full`]!);
    return { hook, empty: e, full: f, floor, growth: (f.median - e.median) / e.median };
  });

  // `lineage` of the 1,000-version file: the query and the rendering in-process ...
  await waitForFlushers(big, 20_000);
  const store = openStore(big);
  const q: number[] = [];
  const r: number[] = [];
  const qr: number[] = [];
  let versions = 0;
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const history = store.fileHistory(LONG_FILE);
    const t1 = performance.now();
    renderFileLineage(LONG_FILE, history);
    const t2 = performance.now();
    q.push(t1 - t0);
    r.push(t2 - t1);
    qr.push(t2 - t0);
    versions = history.length;
  }
  // `blame` of the same file: its 22-line versions are kept whole (under 8 KB), so each is read
  // and diffed against the one before.
  const bl: number[] = [];
  for (let i = 0; i < 32; i++) {
    const t0 = performance.now();
    blameFile(store, LONG_FILE);
    if (i >= 2) bl.push(performance.now() - t0);
  }
  store.close();
  // ... and the whole CLI process against an empty script with the same flags.
  const cliEnv = {
    HOME: big,
    PATTERN_TRACKER_DATA_DIR: big,
    PATTERN_TRACKER_CONFIG: SHIPPED_CONFIG,
  };
  const cli = await interleave([
    {
      name: "floor",
      spec: () => ({ cmd: Deno.execPath(), args: [...TASK_FLAGS, EMPTY], env: cliEnv }),
    },
    {
      name: "cli graph",
      spec: () => ({
        cmd: Deno.execPath(),
        args: [...TASK_FLAGS, `${ROOT}/bench/imports/cli.ts`],
        env: cliEnv,
      }),
    },
    {
      name: "lineage",
      spec: () => ({
        cmd: Deno.execPath(),
        args: [...TASK_FLAGS, `${ROOT}/tracker.ts`, "lineage", LONG_FILE],
        env: cliEnv,
      }),
    },
  ], Math.max(5, Math.round(rounds / 2)));

  return {
    patterns: n,
    rows,
    queryMs: summarize(q),
    renderMs: summarize(r),
    queryAndRenderMs: summarize(qr),
    blameMs: summarize(bl),
    versions,
    cliMs: summarize(cli.lineage!),
    cliFloorMs: summarize(cli.floor!),
    cliGraphMs: summarize(cli["cli graph"]!),
    bytesPerPattern: {
      fillWithCode,
      fillWithoutCode,
      recordWithCode: await realSizePerPattern(sizeN, true, server),
      recordWithoutCode: await realSizePerPattern(sizeN, false, server),
    },
  };
}

/** Results of the profile section. */
export interface ProfileResult {
  processes: { name: string; ms: Summary; overFloor: number }[];
  floor: Summary;
  phases: { hook: string; runs: number; phase: string; medianMs: number; present: number }[];
}

/**
 * Where the time goes: (a) whole processes that only load parts of the hook, interleaved with the
 * floor; (b) the phase-timed hook (`bench/profile_hook.ts`) run with the hook's flags.
 */
async function profile(rounds: number, server: Phase4Server): Promise<ProfileResult> {
  const inst = install(tempDir("prof"), SHIPPED_CONFIG, server.url, {}, HOOKS);
  const noCfg = install(
    tempDir("prof-nocfg"),
    `${tempDir("nocfg")}/config.yaml`,
    server.url,
    {},
    HOOKS,
  );
  const cache = new Map<number, Payloads>();
  const p = (r: number) => {
    let v = cache.get(r);
    if (!v) cache.set(r, v = payloads(`prof${r + 10}`));
    return v;
  };
  // Partial hooks (imports only, the phase-timed copy) run as bare `deno run`s, like the floor.
  const post = inst.direct.post;
  const arms: Arm[] = [
    { name: "floor", spec: () => shell(inst.floor, inst.env) },
    {
      name: "empty script, bare `deno run` (no --config, no permissions)",
      spec: () => ({ cmd: Deno.execPath(), args: ["run", "--quiet", EMPTY], env: {} }),
    },
    {
      name: "import node:sqlite only",
      spec: () => shell(withScript(post, `${ROOT}/bench/imports/sqlite.ts`), inst.env),
    },
    {
      name: "import js-yaml only",
      spec: () => shell(withScript(post, `${ROOT}/bench/imports/yaml.ts`), inst.env),
    },
    {
      name: "import the hook's module graph only",
      spec: () => shell(withScript(post, `${ROOT}/bench/imports/hook.ts`), inst.env),
    },
    { name: "floor ", spec: () => shell(inst.floor, inst.env) },
    {
      name: "post Write (default install: bundled, shipped config.yaml)",
      spec: (r) => shell(inst.commands.post, inst.env, p(r).postWrite),
    },
    {
      name: "post Write, .ts sources (install --no-bundle)",
      spec: (r) =>
        shell(
          hookCommands({
            deno: Deno.execPath(),
            root: ROOT,
            dataDir: inst.dataDir,
            configPath: inst.configPath,
          }).post,
          inst.env,
          payloads(`profsrc${r + 10}`).postWrite,
        ),
    },
    {
      name: "post Write, no config file",
      spec: (r) => shell(noCfg.commands.post, noCfg.env, p(r).postWrite),
    },
    {
      name: "post Write without the launcher, --no-code-cache",
      spec: (r) =>
        shell(
          post.replace(" 'run' ", " 'run' '--no-code-cache' "),
          inst.env,
          payloads(`profncc${r + 10}`).postWrite,
        ),
    },
  ];
  const s = await interleave(arms, rounds);
  const floor = summarize([...s.floor!, ...s["floor "]!]);
  const processes = Object.entries(s).filter(([k]) => !k.startsWith("floor")).map((
    [name, v],
  ) => {
    const ms = summarize(v);
    return { name, ms, overFloor: ms.median - floor.median };
  });

  const phases: ProfileResult["phases"] = [];
  for (
    const [hook, kind, pick] of [["post Write", "post", "postWrite"], [
      "pre Write",
      "pre",
      "preWrite",
    ]] as const
  ) {
    const runs: Record<string, number>[] = [];
    const profInst = install(tempDir("prof-phases"), SHIPPED_CONFIG, server.url, {}, HOOKS);
    const cmd = `${withScript(profInst.direct.post, `${ROOT}/bench/profile_hook.ts`)} ${kind}`;
    for (let i = -2; i < rounds; i++) {
      const child = new Deno.Command("sh", {
        args: ["-c", cmd],
        env: { PATH, DENO_DIR, ...profInst.env },
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(payloads(`ph${kind}${i + 10}`)[pick]);
      await w.close();
      const out = await child.output();
      if (i < 0) continue;
      try {
        runs.push(JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>);
      } catch { /* a failed run is left out */ }
    }
    const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
    for (const phase of names) {
      const values = runs.map((r) => r[phase]).filter((v): v is number => v !== undefined);
      phases.push({
        hook,
        runs: runs.length,
        phase,
        medianMs: summarize(values).median,
        present: values.length,
      });
    }
  }
  return { processes, floor, phases };
}

async function machine(): Promise<{ nproc: string; cpu: string }> {
  const run = async (c: string) =>
    new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", c], stdout: "piped", stderr: "null" }).output())
        .stdout,
    ).trim();
  return {
    nproc: await run("nproc"),
    // Deno needs --allow-all to read /proc; a subprocess reads it within --allow-run.
    cpu: (await run("grep -m1 'model name' /proc/cpuinfo")).replace(/^[^:]*:\s*/, "") ||
      "unknown CPU",
  };
}

function table(header: string[], align: ("l" | "r")[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => align[i] === "r" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join(
        " | ",
      )
    } |`;
  return [
    line(header),
    `| ${
      widths.map((w, i) => align[i] === "r" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)).join(" | ")
    } |`,
    ...rows.map(line),
  ];
}

async function main(options: BenchOptions): Promise<void> {
  const rounds = options.quick ? 8 : 40;
  // What `tracker.ts install` does by default: bundle the hooks into build/.
  try {
    HOOKS = await bundleHooks({ deno: Deno.execPath(), root: ROOT });
  } catch (error) {
    console.error(`Bundling failed (${(error as Error).message}); measuring the .ts sources.`);
  }
  const lines: string[] = [];
  const out = (s = "") => {
    console.log(s);
    lines.push(s);
  };
  const m = await machine();
  const date = new Date().toISOString();
  out(`# Pattern Tracker benchmark — ${date.slice(0, 10)}`);
  out();
  out(
    `Machine: ${m.nproc} cores (nproc), ${m.cpu}; Deno ${Deno.version.deno}, V8 ${Deno.version.v8}. ` +
      `${rounds} interleaved rounds per figure${options.quick ? " (--quick)" : ""}.`,
  );
  out();

  // 1. Hook latency.
  const server = await startPhase4Server();
  const slow = await startPhase4Server({ mode: "slow", slowMs: 5000 });
  const gone = await startPhase4Server();
  const downUrl = gone.url;
  await gone.close(); // nothing listens there now
  const scenarios: [string, string, string, typeof HOOKS][] = [
    ["up", server.url, SHIPPED_CONFIG, HOOKS],
    ["down", downUrl, SHIPPED_CONFIG, HOOKS],
    ["slow (5 s)", slow.url, SHIPPED_CONFIG, HOOKS],
    ["up, no config file", server.url, "", HOOKS],
    ["up, .ts sources (--no-bundle)", server.url, SHIPPED_CONFIG, undefined],
  ];
  const latency: LatencyRow[] = [];
  for (const [scenario, url, config, scripts] of scenarios) {
    const dir = tempDir("lat");
    const inst = install(dir, config || `${dir}/absent-config.yaml`, url, {}, scripts);
    // The 163 KB Edit where the headline figures are: the default install, and the .ts sources.
    const large = scenario === "up" || scripts === undefined;
    const s = await interleave(
      hookArms(inst, `l${latency.length}_`, config !== "", large),
      rounds,
    );
    latency.push(...latencyRows(scenario, s));
  }
  out("## 1. Hook latency: whole process as Claude Code runs it, vs an empty `deno run`");
  out();
  out(
    "`sh -c <hookCommands(...) line>` with the payload on stdin, spawn to exit. Floor: the post hook's `deno run` line (what the launcher execs) with `bench/empty.ts` as the script, interleaved (floor, pre, post, floor, pre, post, prompt). `prompt` is the UserPromptSubmit hook (`prompt_hook.ts`) on the captured payload. Default install = what `tracker.ts install` writes: the hooks bundled into `build/` (`deno bundle`), reading the shipped `config.yaml` (resolved once, then from the data directory's config cache). `.ts sources` = `install --no-bundle`.",
  );
  out();
  out(
    table(
      [
        "Phase 4 server",
        "hook",
        "median ms",
        "p95 ms",
        "floor median",
        "floor p95",
        "median ratio (≤ 1.5×)",
        "p95 ratio (≤ 2×)",
      ],
      ["l", "l", "r", "r", "r", "r", "r", "r"],
      latency.map((r) => [
        r.scenario,
        r.hook,
        fmt(r.hookMs.median),
        fmt(r.hookMs.p95),
        fmt(r.floorMs.median),
        fmt(r.floorMs.p95),
        `${r.medianRatio.toFixed(2)}×${r.medianRatio > 1.5 ? " ✗" : ""}`,
        `${r.p95Ratio.toFixed(2)}×${r.p95Ratio > 2 ? " ✗" : ""}`,
      ]),
    ).join("\n"),
  );
  out();
  const py = await pythonFloor(rounds);
  if ("skipped" in py) out(`Python stack floor: skipped (${py.skipped}).`);
  else {
    out(
      `Python stack floor: \`${py.label}\`${py.note}: median ${fmt(py.ms.median)} ms, p95 ${
        fmt(py.ms.p95)
      } ms = ${ratio(py.ms.median, py.floorMs.median)} the Deno floor's median (${
        fmt(py.floorMs.median)
      } ms, interleaved).`,
    );
  }
  const compiled = compileProbe();
  out();
  out(`Compiled binaries: ${compiled}.`);
  out();

  const launcher = await launcherCost(rounds, server);
  out("### The launcher's cost");
  out();
  out(
    "Every hook runs through `hooks/pattern-tracker.sh` (settings.json and the plugin alike), which execs the `deno run` line. Interleaved in the same rounds: the launcher lines `install` writes against those `deno run` lines written out (`directHookCommands`), and the plugin's launcher (no values: it reads the Deno its SessionStart hook remembered) against the same `.ts` hook run directly.",
  );
  out();
  out(
    table(
      ["arm", "median ms", "p95 ms", "median / floor"],
      ["l", "r", "r", "r"],
      launcher.rows.map((r) => [r.name, fmt(r.ms.median), fmt(r.ms.p95), `${r.ratio.toFixed(2)}×`]),
    ).join("\n"),
  );
  out();
  out(
    `Floor ${
      fmt(launcher.floor.median)
    } ms. Launcher minus direct, median of the per-round differences: ${
      launcher.overhead.map((o) => `${o.hook} ${o.ms >= 0 ? "+" : ""}${o.ms.toFixed(2)} ms`).join(
        ", ",
      )
    }.`,
  );
  out();

  // 1b. The spill path: a hook that finds the store locked.
  const locked = await lockedStore(rounds);
  out("## 1b. A hook that finds the store locked (the spill journal's path)");
  out();
  out(
    `Another process holds the store's write lock (\`BEGIN IMMEDIATE\`, as a sqlite3 shell or a backup would) for the whole run. The post hook waits \`store_wait_ms\`, then appends its redacted record to the spill journal (one fsync'd line) and exits 0; with \`store_wait_ms: 0\` the figure is the journal's own cost. Default install, auto-flush off, interleaved with the floor. Afterwards one \`tracker.ts status\` replayed ${locked.replayed} of the ${locked.spilled} spilled records.`,
  );
  out();
  out(
    table(
      ["hook", "median ms", "p95 ms", "floor median", "median above the floor", "median ratio"],
      ["l", "r", "r", "r", "r", "r"],
      locked.rows.map((r) => [
        r.hook,
        fmt(r.hookMs.median),
        fmt(r.hookMs.p95),
        fmt(r.floorMs.median),
        `+${fmt(r.hookMs.median - r.floorMs.median)} ms`,
        `${r.medianRatio.toFixed(2)}×`,
      ]),
    ).join("\n"),
  );
  out();

  // 2. Concurrency.
  const conc = await concurrency(options.quick ? 2 : 5);
  out("## 2. 16 post hooks at once");
  out();
  out(
    `16 Writes of 16 files (16 tool_use_ids) started together, ${conc.reps} repetitions, each alternated with 16 empty \`deno run\`s started together. Hook burst wall time median ${
      fmt(conc.hookBurstMs.median)
    } ms (p95 ${fmt(conc.hookBurstMs.p95)}) vs floor burst ${fmt(conc.floorBurstMs.median)} ms = ${
      ratio(conc.hookBurstMs.median, conc.floorBurstMs.median)
    }. Versions recorded per repetition: ${
      conc.recorded.join(", ")
    } of 16; events lost: ${conc.lostEvents} (every version's event is in the outbox, delivered or dead-lettered: counted with node:sqlite after the flushers finished); the stand-in holds ${conc.heldByServer} of the ${conc.expected} events (warm-up repetition included).`,
  );
  out();

  // 3. Flush throughput.
  const flushN = 10_000;
  const flushes: FlushRow[] = [];
  for (const size of [100, 1000]) {
    for (const how of ["in-process", "process"] as const) {
      flushes.push(await flushThroughput(size, how, flushN));
    }
  }
  out(
    `## 3. Flush throughput: ${
      flushN.toLocaleString("en")
    } queued events to the loopback stand-in (target ≥ 5,000/s)`,
  );
  out();
  out(
    table(
      ["batch_size", "how", "seconds", "events/s", "held by the stand-in", "left in outbox"],
      ["r", "l", "r", "r", "r", "r"],
      flushes.map((f) => [
        String(f.batchSize),
        f.how === "in-process" ? "`flushOutbox` in-process" : "`tracker.ts flush` (whole process)",
        f.seconds.toFixed(2),
        Math.round(f.eventsPerSecond).toLocaleString("en"),
        f.held.toLocaleString("en"),
        String(f.left),
      ]),
    ).join("\n"),
  );
  out();

  // 3b. A long history to the real server, next to the stand-in.
  const history = await measureHistoryDelivery(options.quick ? 300 : 2000);
  out("### 3b. Delivery of a long history: the real Phase 4 server next to the stand-in");
  out();
  out(renderHistoryDelivery(history).join("\n"));
  out();

  // 3c. The line attribution each event carries.
  const attribution = await attributionBench(options.quick ? 1000 : 2000, options.quick ? 2 : 6);
  out("### 3c. The line attribution in each event (`pattern_data.line_attribution`)");
  out();
  out(renderAttributionBench(attribution).join("\n"));
  out();

  // 4. Store at scale.
  const n = options.quick ? 20_000 : 100_000;
  const sizeN = options.quick ? 1000 : 5000;
  const scale = await storeAtScale(n, rounds, server, sizeN);
  out(`## 4. Store at scale: ${n.toLocaleString("en")} patterns, one file with 1,000 versions`);
  out();
  out("Empty-store and full-store hooks interleaved in the same rounds with the same floor.");
  out();
  out(
    table(
      [
        "hook",
        "empty store ms",
        "full store ms",
        "floor ms",
        "empty ratio",
        "full ratio",
        "growth (≤ 10 %)",
      ],
      ["l", "r", "r", "r", "r", "r", "r"],
      scale.rows.map((r) => [
        r.hook,
        fmt(r.empty.median),
        fmt(r.full.median),
        fmt(r.floor.median),
        ratio(r.empty.median, r.floor.median),
        ratio(r.full.median, r.floor.median),
        `${(r.growth * 100).toFixed(1)} %${r.growth > 0.1 ? " ✗" : ""}`,
      ]),
    ).join("\n"),
  );
  out();
  out(
    `\`lineage ${LONG_FILE}\` (${scale.versions} versions): \`Store.fileHistory\` median ${
      fmt(scale.queryMs.median)
    } ms (p95 ${fmt(scale.queryMs.p95)}), rendering ${fmt(scale.renderMs.median)} ms, both ${
      fmt(scale.queryAndRenderMs.median)
    } ms (p95 ${
      fmt(scale.queryAndRenderMs.p95)
    }; target < 50 ms); \`blameFile\` of it (its 22-line versions kept whole) ${
      fmt(scale.blameMs.median)
    } ms (p95 ${
      fmt(scale.blameMs.p95)
    }; target < 100 ms). Whole CLI process (\`deno task tracker\` flags) median ${
      fmt(scale.cliMs.median)
    } ms = ${
      ratio(scale.cliMs.median, scale.cliFloorMs.median)
    } an empty script with the same flags (${
      fmt(scale.cliFloorMs.median)
    } ms); a process that only loads the CLI's module graph (\`bench/imports/cli.ts\`) takes ${
      fmt(scale.cliGraphMs.median)
    } ms.`,
  );
  out();
  const blame = await blameBench(tempDir("blame"), rounds);
  out(renderBlameBench(blame).join("\n"));
  out();
  const b = scale.bytesPerPattern;
  out(
    table(
      ["database bytes per pattern", "store_code on", "store_code off"],
      ["l", "r", "r"],
      [
        [
          `Store fill (pattern + version + edge), ${
            n.toLocaleString("en")
          } patterns of ≈ 470 bytes`,
          String(Math.round(b.fillWithCode)),
          String(Math.round(b.fillWithoutCode)),
        ],
        [
          `\`track\` of ${sizeN.toLocaleString("en")} Writes (+ execution), events queued`,
          String(Math.round(b.recordWithCode.queued)),
          String(Math.round(b.recordWithoutCode.queued)),
        ],
        [
          "same, after the events were delivered (pages in use)",
          String(Math.round(b.recordWithCode.delivered)),
          String(Math.round(b.recordWithoutCode.delivered)),
        ],
      ],
    ).join("\n"),
  );
  out();

  // 5. Profile.
  const prof = await profile(rounds, server);
  out("## 5. Where the hook's time goes");
  out();
  out(
    `Whole processes with the post hook's flags, interleaved with the floor (${
      fmt(prof.floor.median)
    } ms):`,
  );
  out();
  out(
    table(
      ["process", "median ms", "p95 ms", "above the floor"],
      ["l", "r", "r", "r"],
      prof.processes.map((r) => [
        r.name,
        fmt(r.ms.median),
        fmt(r.ms.p95),
        `${r.overFloor >= 0 ? "+" : ""}${fmt(r.overFloor)} ms`,
      ]),
    ).join("\n"),
  );
  out();
  out(
    "Phases inside the phase-timed hook (`bench/profile_hook.ts`: dynamic imports, then the real `runHook` with its timing callback; shipped config, server up; median of the runs where the phase occurred):",
  );
  out();
  out(
    table(
      ["hook", "phase", "median ms", "runs"],
      ["l", "l", "r", "r"],
      prof.phases.map((r) => [
        r.hook,
        r.phase,
        r.phase.endsWith("(count)") ? String(r.medianMs) : fmt(r.medianMs),
        `${r.present}/${r.runs}`,
      ]),
    ).join("\n"),
  );
  out();

  // 6. Store size.
  const storage = await storageSection(rounds, server, options.quick);
  out("## 6. Store size: versions kept as line patches");
  out();
  for (const line of renderStorage(storage)) out(line);
  out();

  // Let lingering flushers finish before their servers and directories go away.
  for (const d of temps) await waitForFlushers(d, 15_000);
  await server.close();
  await slow.close();
  removeTemps();
  if (options.json) {
    Deno.writeTextFileSync(
      options.json,
      JSON.stringify(
        {
          date,
          machine: m,
          deno: Deno.version,
          quick: options.quick,
          rounds,
          latency,
          python: py,
          locked,
          compiled,
          launcher,
          concurrency: conc,
          flush: flushes,
          history,
          attribution,
          scale,
          blame,
          profile: prof,
          storage,
          markdown: lines.join("\n"),
        },
        null,
        2,
      ) + "\n",
    );
  }
}

/** Results of the store-size section. */
export interface StorageResult {
  largeFile: { bytes: number; lines: number; edits: number };
  large: HistorySize;
  small: HistorySize;
  hook: LargeHookResult;
  reads: ReadResult;
}

const BIG_FILE = "/bench/big_module.ts";

/**
 * Section 6: the large file's and a small-file session's sizes, the post hook on the large file,
 * and reading 1,000 versions.
 *
 * @example
 * ```ts
 * import { renderStorage, storageSection } from "./run.ts";
 * // console.log(renderStorage(await storageSection(8, server, true)).join("\n"));
 * ```
 */
export async function storageSection(
  rounds: number,
  server: Phase4Server,
  quick: boolean,
): Promise<StorageResult> {
  const edits = 300;
  const history = largeFileHistory(BIG_FILE, edits);
  const first = history.texts[0] as string;
  const largeDir = tempDir("size-large");
  const large = await measureHistory(largeDir, history.payloads, server);
  const small = await measureHistory(tempDir("size-small"), smallFileSession(), server);
  // The post hook on the store that holds the large file's history (delivered and compacted).
  const inst = install(largeDir, SHIPPED_CONFIG, server.url, {}, HOOKS);
  const hook = await largeFileHook(inst, BIG_FILE, history.texts.at(-1) as string, rounds);
  await waitForFlushers(largeDir, 20_000);
  const reads = await readVersions(tempDir("reads"), BIG_FILE, quick ? 5 : 15);
  return {
    largeFile: {
      bytes: new TextEncoder().encode(first).length,
      lines: first.split("\n").length - 1,
      edits,
    },
    large,
    small,
    hook,
    reads,
  };
}

/**
 * Section 6 as Markdown lines.
 *
 * @example
 * ```ts
 * import { renderStorage } from "./run.ts";
 * // renderStorage(result).join("\n")
 * ```
 */
export function renderStorage(r: StorageResult): string[] {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const mb = (n: number) => n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : kb(n);
  const row = (label: string, f: (h: HistorySize) => number) => [
    label,
    mb(f(r.large)),
    `${Math.round(f(r.large) / r.large.versions).toLocaleString("en")}`,
    mb(f(r.small)),
    `${Math.round(f(r.small) / r.small.versions).toLocaleString("en")}`,
  ];
  const h = r.hook;
  const x = (a: Summary) => ratio(a.median, h.floor.median);
  const reads = r.reads;
  return [
    `Large file: a ${r.largeFile.lines.toLocaleString("en")}-line TypeScript module of ${
      kb(r.largeFile.bytes)
    } (the project's own code), written, then edited ${r.largeFile.edits} times, one line each time (${r.large.versions} versions). Small-file session: 12 files of 1–6 KB, each written, then edited 9 times (${r.small.versions} versions). Both recorded by the real \`track\` (the post hook's write path), delivered to the stand-in, then compacted as the background flusher does (\`compactCode\`, free pages returned).`,
    "",
    ...table(
      ["database", "large file", "bytes/version", "small files", "bytes/version"],
      ["l", "r", "r", "r", "r"],
      [
        row("before delivery: file and log", (x) => x.queued.fileBytes),
        row("— code (`patterns`, `pattern_code`)", (x) => x.queued.codeBytes),
        row("— outbox (request bodies, copies of the code)", (x) => x.queued.outboxBytes),
        row("— the rest (versions, edges, executions, indexes)", (x) => x.queued.otherBytes),
        row("before delivery: pages in use (the outbox holds references)", (x) => x.withReferences),
        row("after delivery and compaction: pages in use", (x) => x.delivered.pagesInUse),
        row("— code", (x) => x.delivered.codeBytes),
        row("the versions as whole files (what the code took before)", (x) => x.textBytes),
      ],
    ),
    "",
    `Post hook, whole process, on the store holding that history: a one-line Edit of the large file median ${
      fmt(h.largeEdit.median)
    } ms (p95 ${fmt(h.largeEdit.p95)}) = ${x(h.largeEdit)} the floor (${
      fmt(h.floor.median)
    } ms, interleaved); a small file's Edit in the same store ${fmt(h.smallEdit.median)} ms = ${
      x(h.smallEdit)
    }.`,
    "",
    `${
      reads.versions.toLocaleString("en")
    } versions of the large file stored as the hook stores them, compacted (code ${
      mb(reads.codeBytes)
    }; ${
      mb(reads.textBytes)
    } as whole files). Reading the newest version: a new process (open + read) median ${
      fmt(reads.processNewest.median)
    } ms, in-process ${fmt(reads.newest.median)} ms; the oldest: ${
      fmt(reads.processOldest.median)
    } ms (decompression included), in-process ${
      fmt(reads.oldest.median)
    } ms (target < 50 ms). \`lineage\` (fileHistory and rendering) ${
      fmt(reads.lineage.median)
    } ms.`,
  ];
}

function removeTemps(): void {
  for (const d of temps.splice(0)) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
}

if (import.meta.main) {
  // Ctrl-C and failures must not leave stores behind in the temporary directory either.
  Deno.addSignalListener("SIGINT", () => {
    removeTemps();
    Deno.exit(130);
  });
  try {
    await main(parseBenchArgs(Deno.args));
  } finally {
    removeTemps();
  }
}
