/**
 * The `tracker.ts` command line: parses arguments and runs one command. Each command's logic lives
 * in its own module; this file only wires them to the store and the terminal.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CONFIG_PATH_ENV, loadConfig } from "../config.ts";
import { openStore } from "../store/mod.ts";
import { DEMO_FILE, replaySession } from "./demo.ts";
import { hookCommands } from "./install.ts";
import { installCommand, uninstallCommand } from "./install_command.ts";
import { CliError, describeError } from "./errors.ts";
import {
  fileLineageJson,
  patternLineage,
  renderAncestry,
  renderFileLineage,
  resolveLineageTarget,
} from "./lineage.ts";
import { renderChecks, runSelftest } from "./selftest.ts";
import {
  configFields,
  journalStatus,
  lastErrorInLog,
  openForStatus,
  readLogTail,
  renderStatus,
  type StatusReport,
  storageFields,
} from "./status.ts";
import { homeDir } from "../config.ts";
import { flushOutbox, type FlushReport, runBackgroundFlusher, serverKey } from "../flush.ts";
import { parsePace } from "../delivery_plan.ts";
import { waitForFlusherLock } from "../flusher.ts";
import { appendLog } from "../log.ts";
import { journalWaiting, openAndReplay } from "../record/spill.ts";
import { QUICK_CHECK_EVERY_MS, replayAndCheckStore } from "../store/health.ts";
import { ROOT } from "../runtime.ts";
import { compileBinaries } from "./compile.ts";
import { bundleState } from "./bundle.ts";
import { type BreakerState, parseBreaker } from "../breaker.ts";

export { CliError } from "./errors.ts";

export const USAGE =
  `Pattern Tracker — records the code Claude Code writes as patterns with lineage.

Usage: tracker.ts <command> [options]

Commands:
  demo                          Replay a bundled real Claude Code session through the hooks and print its lineage
  status [--json]               Store counts, outbox depth, dead letters, last error, data dir
  lineage <file|pattern-id> [--json | --format text|json|mermaid|dot]
                                The chain of versions of a file, or the ancestry of a pattern
  blame <file> [--json] [--stored]
                                Every line with its origin: the Claude tool call that wrote it, outside Claude Code, or before tracking
  stats [--session ID | --file PATH] [--stored] [--json]
                                Lines Claude wrote, AI share of the current files, what people rewrote; calls and failures
  report [--session ID | --file PATH] [--code] [--out FILE]
                                A self-contained HTML page: files, lineage graphs, execution metrics
  export [--format jsonl|agent-trace] [--out FILE]
                                The store as JSON lines (or Agent Trace records) for other tools
  import FILE [--queue]         Read an export back, without duplicates (--queue: deliver it too)
  recover FILE [--json]         Copy every readable row of a moved-aside corrupt store into the current one
  classify [--explain]          JSON lines {before, after, intent?} on stdin -> {transformation_type} lines
  install [--settings PATH] [--deno PATH] [--no-bundle | --compiled [--hooks-dir DIR]]
                                Add the hooks to Claude Code's settings.json (default ~/.claude/settings.json),
                                run by hooks/pattern-tracker.sh with a Deno that lasts (--deno: this one),
                                bundled into build/ for a faster start (--no-bundle: run the .ts scripts);
                                --compiled copies the binaries from dist/ to ~/.claude/hooks and uses them
  compile [--out DIR]           Build pattern-tracker-pre, pattern-tracker-post, pattern-tracker with deno compile
  uninstall [--settings PATH]   Remove only our hook entries
  flush [--retry-dead] [--json] Deliver the outbox to the Phase 4 API now; report sent, skipped, left
  prune [--older-than 90d] [--dry-run] [--json]
                                Drop the code of delivered versions older than that (default: retention_days),
                                keeping hashes, sizes, lineage and metrics; compact and VACUUM the store
  selftest                      Check configuration, IDs, store and service, one line each
  help                          This text

Configuration: environment (PATTERN_TRACKER_*) > config.yaml > defaults; see README.md.`;

/**
 * Runs the CLI; returns the exit code.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * Deno.exit(await main(["status"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  // A promise nobody awaited must not end the process with a stack trace either.
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    reportError(event.reason, command).then((code) => Deno.exit(code));
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  try {
    return await run(command, rest);
  } catch (error) {
    return await reportError(error, command);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onRejection);
  }
}

async function run(command: string | undefined, rest: string[]): Promise<number> {
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return 0;
    case "status":
      return await status(rest);
    case "lineage":
      return await lineage(rest);
    case "install":
      return await installCommand(rest);
    case "uninstall":
      return uninstallCommand(rest);
    case "selftest":
      return await selftest();
    case "demo":
      return await demo();
    case "flush":
      return await flush(rest);
    case "compile":
      return await compile(rest);
    case "blame":
      return await (await import("./blame.ts")).blameCommand(rest);
    case "stats":
      return await (await import("./stats.ts")).statsCommand(rest);
    case "report":
      return await (await import("./views.ts")).reportCommand(rest);
    case "export":
      return await (await import("./views.ts")).exportCommand(rest);
    case "import":
      return await (await import("./views.ts")).importCommand(rest);
    case "recover":
      return await (await import("./recover.ts")).recoverCommand(rest);
    case "prune":
      return await (await import("./prune.ts")).pruneCommand(rest);
    case "classify":
      return await (await import("./classify.ts")).classifyCommand(rest);
    default:
      throw new CliError(`unknown command "${command}". Run "tracker.ts help" for the list.`, 2);
  }
}

/**
 * Prints a failure as one line on stderr and returns its exit code; an unexpected one also goes to
 * the JSON-lines log, with its stack, when the log can be written.
 *
 * @example
 * ```ts
 * import { reportError } from "./main.ts";
 * const code = await reportError(new Error("boom"), "status"); // "error: unexpected Error: boom. …"; 1
 * ```
 */
export async function reportError(error: unknown, command: string | undefined): Promise<number> {
  const report = describeError(error, command ?? "tracker.ts");
  let where = "";
  if (report.unexpected) {
    const logFile = await logFileForErrors();
    const record = {
      level: "error" as const,
      event: "cli_error",
      command: command ?? null,
      error: error as Error,
      stack: error instanceof Error ? error.stack ?? null : null,
    };
    if (logFile && appendedTo(logFile, () => appendLog(logFile, record))) {
      where = ` Its stack is in ${logFile} (event "cli_error").`;
    }
  }
  console.error(`error: ${report.message}${where}`);
  return report.exitCode;
}

/** The configured log file, or none when even the configuration cannot be read. */
async function logFileForErrors(): Promise<string | null> {
  try {
    return (await loadConfig()).config.logFile;
  } catch {
    return null;
  }
}

/** Whether `write` made the file grow: the log never throws, so this is how we know it wrote. */
function appendedTo(path: string, write: () => void): boolean {
  const size = () => {
    try {
      return Deno.statSync(path).size;
    } catch {
      return -1;
    }
  };
  const before = size();
  write();
  return size() > before;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" } } });
  const { config, problems, configPath } = await loadConfig();
  const { store, problem, integrity } = openForStatus(config);
  try {
    const counts = readable(() => store.counts()) ?? EMPTY_COUNTS;
    const report: StatusReport = {
      ...configFields(config),
      database: store.path,
      schema_version: store.schemaVersion(),
      config_path: configPath,
      config_problems: problems.map((p) => `${p.key}: ${p.reason}`),
      counts,
      oldest_pending_age_seconds: counts.oldestOutboxAt
        ? (Date.now() - Date.parse(counts.oldestOutboxAt)) / 1000
        : null,
      last_success: store.meta("last_success") ?? null,
      last_error: store.meta("last_error") ?? lastErrorInLog(readLogTail(config.logFile)),
      breaker: describeBreaker(parseBreaker(store.meta("breaker"))),
      delivery: readable(() => deliveryStatus(store, config.intelligenceUrl, config.batchSize)) ??
        noDelivery(config.intelligenceUrl),
      hooks_bundle: await bundleState(ROOT),
      ...(readable(() => storageFields(store, config.retentionDays, new Date())) ??
        { storage: null, prune: null }),
      store_problem: problem,
      journal: journalStatus(config, store),
      integrity,
    };
    console.log(values.json ? JSON.stringify(report, null, 2) : renderStatus(report));
    return 0;
  } finally {
    store.close();
  }
}

/**
 * A figure of the store `status` opened, or null when it cannot be read (a store in a read-only
 * directory, still at an older schema): `status` reports what it can.
 */
function readable<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

/** Delivery when the store's delivery tables could not be read: nothing known. */
function noDelivery(intelligenceUrl: string): StatusReport["delivery"] {
  return {
    server: serverKey(intelligenceUrl),
    queued: 0,
    in_doubt: 0,
    servers: [],
    legacy_events: 0,
    pace: null,
  };
}

function deliveryStatus(
  store: ReturnType<typeof openStore>,
  intelligenceUrl: string,
  batchSize: number,
): StatusReport["delivery"] {
  const server = serverKey(intelligenceUrl);
  const outbox = store.outboxCounts();
  const paceText = store.meta(`delivery_pace ${server}`);
  const pace = paceText === undefined ? null : parsePace(paceText, batchSize);
  return {
    server,
    queued: outbox.queued,
    in_doubt: outbox.inDoubt,
    servers: store.deliveryByServer()
      .map((s) => ({ ...s, current: s.server === server }))
      .sort((a, b) => Number(b.current) - Number(a.current)),
    legacy_events: store.legacyEventCount(),
    pace: pace && { size: pace.size, ms_per_event: pace.msPerEvent },
  };
}

const EMPTY_COUNTS = {
  patterns: 0,
  versions: 0,
  files: 0,
  edges: 0,
  executions: 0,
  failedExecutions: 0,
  outbox: 0,
  oldestOutboxAt: null,
  deadLetters: 0,
  delivered: 0,
};

async function lineage(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" }, format: { type: "string" } },
    allowPositionals: true,
  });
  const format = values.format ?? (values.json ? "json" : "text");
  if (!["text", "json", "mermaid", "dot"].includes(format)) {
    throw new CliError(`--format must be text, json, mermaid or dot, got "${format}"`, 2);
  }
  const target = positionals[0];
  if (!target || positionals.length > 1) {
    throw new CliError(
      "lineage takes one file path or pattern ID, e.g. tracker.ts lineage src/app.py",
      2,
    );
  }
  const { config } = await loadConfig();
  const { store } = openAndReplay(config);
  try {
    const resolved = resolveLineageTarget(store, target, Deno.cwd());
    switch (resolved.kind) {
      case "file": {
        const history = store.fileHistory(resolved.filePath);
        const graph = format === "mermaid" || format === "dot" ? await import("../graph.ts") : null;
        console.log(
          format === "json"
            ? JSON.stringify(fileLineageJson(resolved.filePath, history), null, 2)
            : format === "mermaid"
            ? graph!.renderMermaid(resolved.filePath, history)
            : format === "dot"
            ? graph!.renderDot(resolved.filePath, history)
            : renderFileLineage(resolved.filePath, history),
        );
        return 0;
      }
      case "pattern": {
        const result = patternLineage(store, resolved.patternId);
        const graph = format === "mermaid" || format === "dot" ? await import("../graph.ts") : null;
        console.log(
          format === "json"
            ? JSON.stringify(result, null, 2)
            : format === "mermaid"
            ? graph!.renderAncestryMermaid(result)
            : format === "dot"
            ? graph!.renderAncestryDot(result)
            : renderAncestry(result),
        );
        return 0;
      }
      case "ambiguous":
        throw new CliError(
          `"${target}" matches ${resolved.candidates.length} entries; be more specific:\n  ${
            resolved.candidates.join("\n  ")
          }`,
        );
      case "unknown":
        throw new CliError(
          `no tracked file or pattern matches "${target}" in the store ${store.path}. "tracker.ts status" shows what is recorded.`,
        );
      default: {
        const unreachable: never = resolved;
        throw new CliError(`unexpected ${JSON.stringify(unreachable)}`);
      }
    }
  } finally {
    store.close();
  }
}

async function compile(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, "hooks-dir": { type: "string" } },
  });
  const { config } = await loadConfig();
  const outDir = values.out ?? `${ROOT}/dist`;
  const configPath = Deno.env.get(CONFIG_PATH_ENV) ||
    `${homeDir()}/.claude/pattern-tracker/config.yaml`;
  try {
    const made = await compileBinaries({
      root: ROOT,
      outDir,
      hooksDir: values["hooks-dir"] ?? `${homeDir()}/.claude/hooks`,
      dataDir: config.dataDir,
      configPath,
      intelligenceUrl: config.intelligenceUrl,
    });
    console.log(
      `Built:\n  ${made.join("\n  ")}\nInstall them with: deno task tracker install --compiled`,
    );
    return 0;
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

async function selftest(): Promise<number> {
  const checks = await runSelftest();
  console.log(renderChecks(checks));
  return checks.every((c) => c.ok) ? 0 : 1;
}

async function demo(): Promise<number> {
  const dataDir = Deno.makeTempDirSync({ prefix: "pattern-tracker-demo-" });
  const configPath = `${ROOT}/config.yaml`;
  const commands = hookCommands({ deno: Deno.execPath(), root: ROOT, dataDir, configPath });
  console.log(
    "Replaying a real Claude Code 2.1.330 session (Write, Edit, Write, Edit of app.py) through the hooks,",
  );
  console.log(`with the command lines "install --no-bundle" writes, into ${dataDir}\n`);
  const results = await replaySession(commands, {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: homeDir(),
    PATTERN_TRACKER_DATA_DIR: dataDir,
    PATTERN_TRACKER_CONFIG: configPath,
    // The demo's events stay local: no delivery to a real service.
    PATTERN_TRACKER_AUTO_FLUSH: "false",
  });
  const bad = results.filter((r) => r.code !== 0 || r.stdout !== "");
  if (bad.length > 0) throw new CliError(`a hook misbehaved: ${JSON.stringify(bad)}`);
  console.log(`${results.length} hook runs, all exit 0 with empty stdout.\n`);
  const store = openStore(dataDir);
  try {
    console.log(renderFileLineage(DEMO_FILE, store.fileHistory(DEMO_FILE)));
    const c = store.counts();
    console.log(
      `\n${c.patterns} patterns, ${c.executions} executions, ${c.outbox} Phase 4 events in the outbox.`,
    );
    console.log(`Try: PATTERN_TRACKER_DATA_DIR=${dataDir} deno task tracker lineage app.py`);
  } finally {
    store.close();
  }
  return 0;
}

/**
 * Renders a flush report for people (pure).
 *
 * @example
 * ```ts
 * import { renderFlushReport } from "./main.ts";
 * // console.log(renderFlushReport(await flushOutbox(store, config)));
 * ```
 */
export function renderFlushReport(r: FlushReport): string {
  const lines = [
    `Sent ${r.sent} event(s) to ${r.server}${
      r.alreadyExisted ? ` (${r.alreadyExisted} already on the server)` : ""
    } in ${r.requests} request(s).`,
    ...(r.confirmed
      ? [`Found ${r.confirmed} event(s) in doubt already on the server: not sent again.`]
      : []),
    ...(r.restored
      ? [`Queued ${r.restored} earlier version(s) again: the server lacked a parent.`]
      : []),
    ...(r.requeued ? [`Put ${r.requeued} dead letter(s) back in the outbox.`] : []),
    `Dead-lettered ${r.deadLettered}; held back ${r.heldBack} (parent in dead letters); ${r.left} left in the outbox.`,
    `Breaker ${r.breaker.state}${
      r.breaker.state === "open" ? ` until ${new Date(r.breaker.openUntil).toISOString()}` : ""
    }.`,
  ];
  if (r.stopped) {
    lines.push(`Stopped early: ${r.stopped}. Events stay in the outbox for the next flush.`);
  }
  return lines.join("\n");
}

async function flush(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "retry-dead": { type: "boolean" },
      background: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const { config } = await loadConfig();
  if (!config.enabled) {
    if (!values.background) console.log("Tracking is disabled (enabled: false); nothing to flush.");
    return 0;
  }
  Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const log = (record: Parameters<typeof appendLog>[1]) => appendLog(config.logFile, record);
  if (values.background) {
    // Detached, started by a hook: first the spill journal (waiting for a lock that made hooks
    // spill) and, now and then, an integrity check; then delivery, and the code's compaction and
    // retention (src/store/code_maintenance.ts) while it holds the flusher lock.
    // A hook that spilled while this flusher lingered saw its lock held and started none: look
    // at the journal again after the lock is released.
    for (let round = 0; round < 3; round++) {
      await replayAndCheckStore(config, {
        patienceMs: 60_000,
        quickCheckEveryMs: QUICK_CHECK_EVERY_MS,
        log,
      });
      try {
        await runBackgroundFlusher(config, { log });
      } catch (error) {
        // A store locked past the busy timeout, say: the journal check below still runs.
        log({ level: "error", event: "flusher_failed", error: error as Error });
      }
      if (!journalWaiting(config.dataDir)) break;
    }
    return 0;
  }
  const lock = await waitForFlusherLock(config.dataDir, 60_000);
  if (!lock) {
    throw new CliError(
      `another flusher has held ${config.dataDir}/flusher.lock for 60 s; try again later.`,
    );
  }
  const { store } = openAndReplay(config, { log });
  try {
    const report = await flushOutbox(store, config, {
      retryDead: values["retry-dead"],
      ignoreBreaker: true,
      deps: { log },
    });
    log({
      level: "info",
      event: "flush",
      mode: "manual",
      ...report,
      breaker: report.breaker.state,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : renderFlushReport(report));
    return report.stopped || report.deadLettered > 0 ? 1 : 0;
  } finally {
    store.close();
    lock.close();
  }
}

function describeBreaker(b: BreakerState): string {
  if (b.state !== "open") return "closed (requests go through)";
  const when = new Date(b.openUntil).toISOString();
  return `open after ${b.failures} failed flush(es); next probe after ${when}`;
}
