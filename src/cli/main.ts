/**
 * The `tracker.ts` command line: parses arguments and runs one command. Each command's logic lives
 * in its own module; this file only wires them to the store and the terminal.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CONFIG_PATH_ENV, loadConfig } from "../config.ts";
import { openStore } from "../store.ts";
import { DEMO_FILE, replaySession } from "./demo.ts";
import {
  binaryCommands,
  hookCommands,
  mergeHookSettings,
  readSettings,
  removeHookSettings,
  writeSettings,
} from "./install.ts";
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
} from "./status.ts";
import { homeDir } from "../config.ts";
import { flushOutbox, type FlushReport, runBackgroundFlusher } from "../flush.ts";
import { waitForFlusherLock } from "../flusher.ts";
import { appendLog } from "../log.ts";
import { maintainStore, QUICK_CHECK_EVERY_MS } from "../recovery.ts";
import { journalWaiting, openAndReplay } from "../spill.ts";
import { BINARIES, ROOT } from "../runtime.ts";
import { compileBinaries } from "./compile.ts";
import { BUNDLE_DIR, type BundledHooks, bundleHooks, bundleState } from "./bundle.ts";
import { type BreakerState, parseBreaker } from "../breaker.ts";

/**
 * An error the user can act on: printed without a stack, exit code 1 (2 for usage).
 *
 * @example
 * ```ts
 * import { CliError } from "./main.ts";
 * throw new CliError("lineage takes one file path or pattern ID", 2);
 * ```
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "CliError";
  }
}

export const USAGE =
  `Pattern Tracker — records the code Claude Code writes as patterns with lineage.

Usage: tracker.ts <command> [options]

Commands:
  demo                          Replay a bundled real Claude Code session through the hooks and print its lineage
  status [--json]               Store counts, outbox depth, dead letters, last error, data dir
  lineage <file|pattern-id> [--json | --format text|json|mermaid|dot]
                                The chain of versions of a file, or the ancestry of a pattern
  report [--session ID | --file PATH] [--code] [--out FILE]
                                A self-contained HTML page: files, lineage graphs, execution metrics
  export [--format jsonl|agent-trace] [--out FILE]
                                The store as JSON lines (or Agent Trace records) for other tools
  import FILE [--queue]         Read an export back, without duplicates (--queue: deliver it too)
  recover FILE [--json]         Copy every readable row of a moved-aside corrupt store into the current one
  install [--settings PATH] [--no-bundle | --compiled [--hooks-dir DIR]]
                                Add the hooks to Claude Code's settings.json (default ~/.claude/settings.json),
                                bundled into build/ for a faster start (--no-bundle: run the .ts scripts);
                                --compiled copies the binaries from dist/ to ~/.claude/hooks and uses them
  compile [--out DIR]           Build pattern-tracker-pre, pattern-tracker-post, pattern-tracker with deno compile
  uninstall [--settings PATH]   Remove only our hook entries
  flush [--retry-dead] [--json] Deliver the outbox to the Phase 4 API now; report sent, skipped, left
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
  try {
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
        return await install(rest);
      case "uninstall":
        return await uninstall(rest);
      case "selftest":
        return await selftest();
      case "demo":
        return await demo();
      case "flush":
        return await flush(rest);
      case "compile":
        return await compile(rest);
      case "report":
        return await (await import("./views.ts")).reportCommand(rest);
      case "export":
        return await (await import("./views.ts")).exportCommand(rest);
      case "import":
        return await (await import("./views.ts")).importCommand(rest);
      case "recover":
        return await (await import("./recover.ts")).recoverCommand(rest);
      default:
        throw new CliError(`unknown command "${command}". Run "tracker.ts help" for the list.`, 2);
    }
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`error: ${error.message}`);
      return error.exitCode;
    }
    if (
      error instanceof TypeError &&
      /Unknown option|Unexpected argument|argument missing/i.test(error.message)
    ) {
      console.error(`error: ${error.message}. Run "tracker.ts help".`);
      return 2;
    }
    throw error;
  }
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" } } });
  const { config, problems, configPath } = await loadConfig();
  const { store, problem, integrity } = openForStatus(config);
  try {
    const counts = store?.counts() ?? EMPTY_COUNTS;
    const report: StatusReport = {
      ...configFields(config),
      database: store?.path ?? `${config.dataDir}/patterns.db`,
      schema_version: store?.schemaVersion() ?? 0,
      config_path: configPath,
      config_problems: problems.map((p) => `${p.key}: ${p.reason}`),
      counts,
      oldest_pending_age_seconds: counts.oldestOutboxAt
        ? (Date.now() - Date.parse(counts.oldestOutboxAt)) / 1000
        : null,
      last_success: store?.meta("last_success") ?? null,
      last_error: store?.meta("last_error") ?? lastErrorInLog(readLogTail(config.logFile)),
      breaker: describeBreaker(parseBreaker(store?.meta("breaker"))),
      hooks_bundle: await bundleState(ROOT),
      store_problem: problem,
      journal: journalStatus(config, store),
      integrity,
    };
    console.log(values.json ? JSON.stringify(report, null, 2) : renderStatus(report));
    return 0;
  } finally {
    store?.close();
  }
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
          `no tracked file or pattern matches "${target}" in ${store.path}. "tracker.ts status" shows what is recorded.`,
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

/** Flags of install and uninstall (uninstall accepts install's, so a copied command line works). */
const INSTALL_OPTIONS = {
  settings: { type: "string" },
  compiled: { type: "boolean" },
  "hooks-dir": { type: "string" },
  "no-bundle": { type: "boolean" },
} as const;

function settingsPathFrom(args: string[]): string {
  const { values } = parseArgs({
    args,
    options: INSTALL_OPTIONS,
  });
  return values.settings ?? `${homeDir()}/.claude/settings.json`;
}

async function install(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: INSTALL_OPTIONS,
  });
  const settingsPath = values.settings ?? `${homeDir()}/.claude/settings.json`;
  const { config, problems, configPath } = await loadConfig();
  for (const p of problems) {
    console.error(`warning: ${p.source}: ${p.key}: ${p.reason} (default used)`);
  }
  let commands;
  let scriptsNote = "";
  if (values.compiled) {
    const hooksDir = values["hooks-dir"] ?? `${homeDir()}/.claude/hooks`;
    Deno.mkdirSync(hooksDir, { recursive: true });
    for (const name of Object.values(BINARIES)) {
      const from = `${ROOT}/dist/${name}`;
      try {
        Deno.copyFileSync(from, `${hooksDir}/${name}`);
        Deno.chmodSync(`${hooksDir}/${name}`, 0o755);
      } catch (error) {
        throw new CliError(
          `cannot copy ${from} (${
            (error as Error).message
          }). Build the binaries first: deno task compile`,
        );
      }
    }
    commands = binaryCommands(hooksDir);
  } else {
    // Bundled hooks start faster; the scripts themselves are the fallback, and --no-bundle's choice.
    let scripts: BundledHooks | undefined;
    if (!values["no-bundle"]) {
      try {
        scripts = await bundleHooks({ deno: Deno.execPath(), root: ROOT });
        scriptsNote = `Bundled the hooks from the current sources into ${ROOT}/${BUNDLE_DIR}.`;
      } catch (error) {
        console.error(
          `warning: the hooks were not bundled (${
            (error as Error).message
          }); they run from the TypeScript sources, about 1.7 ms slower per run. Run install again to retry.`,
        );
      }
    }
    commands = hookCommands({
      deno: Deno.execPath(),
      root: ROOT,
      dataDir: config.dataDir,
      configPath,
      scripts,
    });
  }
  const before = readSettings(settingsPath);
  const after = mergeHookSettings(before, commands);
  // The hooks' read/write permission covers the data directory only, so it must exist first.
  Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (scriptsNote) console.log(scriptsNote);
  if (JSON.stringify(before) === JSON.stringify(after)) {
    console.log(`Already installed in ${settingsPath}; settings unchanged.`);
    return 0;
  }
  const backup = writeSettings(settingsPath, after);
  console.log(
    `Installed Pattern Tracker hooks in ${settingsPath}${backup ? ` (backup: ${backup})` : ""}`,
  );
  console.log(`  PreToolUse           ${commands.pre}`);
  console.log(`  PostToolUse(Failure) ${commands.post}`);
  console.log(
    `Data directory: ${config.dataDir}. If you change data_dir or ${CONFIG_PATH_ENV}, run install again.`,
  );
  return 0;
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

function uninstall(args: string[]): number {
  const settingsPath = settingsPathFrom(args);
  const before = readSettings(settingsPath);
  const after = removeHookSettings(before);
  if (JSON.stringify(before) === JSON.stringify(after)) {
    console.log(`No Pattern Tracker hooks in ${settingsPath}; nothing changed.`);
    return 0;
  }
  const backup = writeSettings(settingsPath, after);
  console.log(
    `Removed Pattern Tracker hooks from ${settingsPath}${
      backup ? ` (backup: ${backup})` : ""
    }. Your data stays in place.`,
  );
  return 0;
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
    `Sent ${r.sent} event(s)${
      r.alreadyExisted ? ` (${r.alreadyExisted} already on the server)` : ""
    } in ${r.requests} request(s).`,
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
    // spill) and, now and then, an integrity check; then delivery.
    // A hook that spilled while this flusher lingered saw its lock held and started none: look
    // at the journal again after the lock is released.
    for (let round = 0; round < 3; round++) {
      await maintainStore(config, {
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
