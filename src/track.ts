/**
 * The recording core: {@linkcode track} owns the whole chain for every caller — the hooks, the
 * library (`getTracker()`), `import` and the benchmark's phase-timed hook: enabled → path rules →
 * size cap → redaction (`prepareRecord`), then one store transaction that first replays the spill
 * journal and then records (`commitRecord`: pattern, version, lineage, execution, event, outbox).
 *
 * Never stall, never lose: a hook waits for the store at most `store_wait_ms`; when the store
 * cannot take the record (locked, full, read-only, a symlink, corrupt and not movable) the
 * already-redacted record goes to the spill journal and the hook returns. A corrupt database is
 * moved aside and recording goes on in a fresh store.
 *
 * @module
 */

import type { TrackerConfig } from "./config.ts";
import { type DataDirScan, scanDataDir } from "./data_dir.ts";
import {
  type CollectedJournal,
  collectJournal,
  ensureReserve,
  FALLBACK_LOG,
  JOURNAL_FORMAT,
  type JournalEntry,
  pendingJournalPlaces,
  removeJournalFiles,
  RESERVE_FILE,
  spillEntry,
  usableFallbackDir,
} from "./journal.ts";
import { appendLog, type LogRecord } from "./log.ts";
import {
  admit,
  type ChangeIds,
  type CommitOutcome,
  commitRecord,
  type HookRecord,
  type PreparedRecord,
  RecordRefused,
  shapeRecord,
  type TrackInput,
} from "./record.ts";
import { DB_FILE, type FileVersion, noteMovedAside, openStore, type Store } from "./store.ts";
import { classifyStoreError, describeStoreFailure, StoreError } from "./store_failure.ts";

/** Options of {@linkcode track}. */
export interface TrackOptions {
  /** The change's pattern IDs, when the caller started hashing early (the hook does). */
  ids?: Promise<ChangeIds>;
  /**
   * An open store to record into (import: the command's store). By default the data directory's
   * store is opened, waiting at most `waitMs` for its lock, and closed afterwards.
   */
  store?: Store;
  /** How long to wait for the store's lock, in ms (default: `store_wait_ms`, the hooks' budget). */
  waitMs?: number;
  /** Leave the store that `track` opened open (a hook about to exit: closing checkpoints the WAL). */
  keepOpen?: boolean;
  /** false: throw a store failure instead of spilling to the journal (import). Default true. */
  spill?: boolean;
  /** Queue Phase 4 events (default true; import: only with `--queue`). */
  queue?: boolean;
  /** After a commit that queued events, with the open store; returns a detail for the result. */
  onQueued?: (store: Store) => Promise<string | undefined> | string | undefined;
  /** After a spill (the post hook starts the flusher: it replays once the store is free). */
  onSpilled?: () => Promise<string | undefined> | string | undefined;
  /** Phase timing (the benchmark): called with each phase's name as it ends. */
  time?: (phase: string) => void;
  now?: () => Date;
  newId?: () => string;
  /** Where log records go (default: the configured log file). */
  log?: (record: LogRecord) => void;
}

/** What tracking did. */
export type TrackOutcome =
  | "disabled"
  | "excluded"
  | "intent"
  | "recorded"
  | "unchanged"
  | "duplicate"
  | "imported"
  | "spilled"
  | "lost";

/** Result of {@linkcode track}. */
export interface TrackResult {
  outcome: TrackOutcome;
  /** Why (spilled, lost, excluded), or what else happened (flusher started). */
  detail?: string;
  /** True when events were queued for delivery. */
  queued: boolean;
  /** Versions recorded (hooks and the library). */
  versions: FileVersion[];
  /** One outcome per input committed, in order (import tallies these). */
  commits: CommitOutcome[];
  /** Inputs left out by the path rules. */
  excluded: number;
  /** Spill-journal entries replayed into the store before this record. */
  replayed: number;
}

/**
 * Tracks one input (a hook payload, a library call) or many (an import, committed in one
 * transaction: all or nothing). See the module for the chain and what happens when the store fails.
 *
 * @example
 * ```ts
 * import { track } from "./track.ts";
 * import { defaultConfig } from "./config.ts";
 * import { parseHookObject } from "./payload.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const parsed = parseHookObject({
 *   hook_event_name: "PostToolUse", tool_name: "Write", tool_use_id: "toolu_1", session_id: "s",
 *   tool_input: { file_path: "/p/a.py", content: "x = 1\n" },
 *   tool_response: { type: "create", content: "x = 1\n", originalFile: null, structuredPatch: [] },
 * });
 * if (parsed.kind === "change") {
 *   (await track({ ...defaultConfig(dataDir), dataDir }, parsed)).outcome; // "recorded"
 * }
 * ```
 */
export async function track(
  config: TrackerConfig,
  input: TrackInput | readonly TrackInput[],
  options: TrackOptions = {},
): Promise<TrackResult> {
  const inputs: readonly TrackInput[] = Array.isArray(input) ? input : [input as TrackInput];
  const result: TrackResult = {
    outcome: "disabled",
    queued: false,
    versions: [],
    commits: [],
    excluded: 0,
    replayed: 0,
  };
  if (!config.enabled) return result;
  const time = options.time ?? (() => {});
  const admitted: TrackInput[] = [];
  for (const one of inputs) {
    const admission = admit(config, one);
    if (admission.kind === "admitted") admitted.push(one);
    else if (admission.kind === "excluded") {
      result.excluded++;
      result.detail = `${admission.filePath} matches the path rules`;
    }
  }
  time("path rules");
  if (admitted.length === 0) {
    result.outcome = "excluded";
    return result;
  }
  // Hashing (WebCrypto, off the main thread) goes on while the store opens; the rest of the
  // shaping (measures, size cap, redaction) runs when awaited.
  const shaping = Promise.all(admitted.map((one) =>
    shapeRecord(config, one, {
      ids: inputs.length === 1 ? options.ids : undefined,
      now: options.now,
      newId: options.newId,
    })
  ));
  shaping.catch(() => {}); // awaited below on every path; never an unhandled rejection
  const log = options.log ?? ((r: LogRecord) => void appendLog(logPath(config), r));
  const now = options.now ?? (() => new Date());
  try {
    await recordInStore(config, shaping, options, result, log, now, time);
    return result;
  } catch (error) {
    if (error instanceof RecordRefused) throw error;
    const failure = describeStoreFailure(
      error,
      `${config.dataDir}/${DB_FILE}`,
      options.waitMs ?? config.storeWaitMs,
    );
    const records = await shaping;
    if (options.spill === false || !records.every(isHookRecord)) throw failure;
    spillRecords(config, records as HookRecord[], failure, result, log, now);
    time("spill to journal");
    if (result.outcome === "spilled" && options.onSpilled) {
      const detail = await options.onSpilled();
      if (detail) result.detail = `${result.detail}; ${detail}`;
    }
    return result;
  }
}

function isHookRecord(r: PreparedRecord): r is HookRecord {
  return r.kind === "intent" || r.kind === "failure" || r.kind === "change";
}

/** Opens (unless given) the store, replays the journal and commits, in one transaction. */
async function recordInStore(
  config: TrackerConfig,
  shaping: Promise<PreparedRecord[]>,
  options: TrackOptions,
  result: TrackResult,
  log: (r: LogRecord) => void,
  now: () => Date,
  time: (phase: string) => void,
): Promise<void> {
  const waitMs = options.waitMs ?? config.storeWaitMs;
  for (let attempt = 0;; attempt++) {
    let scan: DataDirScan | null = null;
    let store = options.store;
    const opened = store === undefined;
    if (store === undefined) {
      scan = scanDataDir(config.dataDir);
      store = openStore(config.dataDir, {
        busyTimeoutMs: waitMs,
        scan,
        now,
        onMovedAside: movedAsideLogger(log),
      });
      time("open store");
    }
    try {
      const records = await shaping;
      time("shape record (hashes, size cap, redaction)");
      const places = pendingJournalPlaces(
        config.dataDir,
        scan?.entries ?? listNames(config.dataDir),
      );
      // The journal is taken (renamed) only under the write lock: a hook that cannot get the lock
      // appends to it instead of splitting it into one file per spill.
      const { commits, journal } = store.immediate(() => {
        let journal: CollectedJournal<HookRecord> | null = null;
        if (places.length > 0) {
          journal = collectJournal<HookRecord>(places, now());
          result.replayed = replayEntries(store!, journal.entries, log, now);
        }
        const imported = new Set<string>();
        const queuedNow = new Set<string>();
        const commits = records.map((record) =>
          commitRecord(store!, record, { queue: options.queue ?? true, imported, queuedNow })
        );
        return { commits, journal };
      });
      time("record (transaction)");
      if (journal) {
        removeJournalFiles(journal.files);
        reportReplay(journal, result.replayed, log);
        time("replay journal");
      }
      // The disk-full reserve: made with a new store, and again after a replay (a full disk may
      // have released it). Not on every hook: a disk too full for it would cost each one a write.
      if (scan && !scan.entries.has(RESERVE_FILE) && (journal || !scan.entries.has(DB_FILE))) {
        ensureReserve(config.dataDir);
      }
      summarize(result, commits);
      if (result.queued && options.onQueued) {
        const detail = await options.onQueued(store);
        if (detail) result.detail = detail;
      }
      if (opened && !options.keepOpen) store.close();
      return;
    } catch (error) {
      if (classifyStoreError(error) === "corrupt" && attempt === 0) {
        // Damage met while writing (a data page): move the database aside and record afresh.
        const at = now();
        const aside = store.moveAsideAsCorrupt(at);
        const reason = String((error as Error)?.message ?? error);
        if (aside !== null) {
          movedAsideLogger(log)(aside, reason);
          const fresh = openStore(config.dataDir, { busyTimeoutMs: waitMs, now });
          noteMovedAside(fresh, aside, reason, at);
          fresh.close();
        }
        if (!opened) throw error; // the caller's store is gone; it reopens
        continue;
      }
      if (opened && !options.keepOpen) store.close();
      throw error;
    }
  }
}

/**
 * True when spill-journal files wait in the data directory or its fallback (a listing each; reads
 * nothing).
 *
 * @example
 * ```ts
 * import { journalWaiting } from "./track.ts";
 * journalWaiting(Deno.makeTempDirSync()); // false
 * ```
 */
export function journalWaiting(dataDir: string): boolean {
  return pendingJournalPlaces(dataDir, listNames(dataDir)).length > 0;
}

/**
 * The log file: `log_file`, inside the data directory when relative (a configuration built in code
 * from `defaultConfig` has not been through `resolveConfig`, which does the same).
 */
function logPath(config: Pick<TrackerConfig, "dataDir" | "logFile">): string {
  return /^(?:\/|[A-Za-z]:[\\/])/.test(config.logFile)
    ? config.logFile
    : `${config.dataDir}/${config.logFile}`;
}

function movedAsideLogger(log: (r: LogRecord) => void) {
  return (aside: string, reason: string) =>
    log({
      level: "error",
      event: "store_moved_aside",
      moved_to: aside,
      reason,
      salvage: `tracker.ts recover ${aside}`,
    });
}

function listNames(dir: string): Map<string, boolean> {
  try {
    return new Map([...Deno.readDirSync(dir)].map((e) => [e.name, e.isSymlink]));
  } catch {
    return new Map();
  }
}

/**
 * Applies spilled entries in order, each in its own savepoint and at most once (the store keeps
 * their IDs). An entry that cannot be applied for a reason of its own (not the store's) is logged,
 * counted as lost, and marked so that it does not block the ones after it.
 */
function replayEntries(
  store: Store,
  entries: readonly { entry: JournalEntry<HookRecord>; file: string }[],
  log: (r: LogRecord) => void,
  now: () => Date,
): number {
  let applied = 0;
  for (const { entry, file } of entries) {
    if (store.journalApplied(entry.id)) continue;
    const mark = (reason: string) =>
      store.markJournalApplied({
        entryId: entry.id,
        spilledAt: entry.spilled_at,
        reason,
        place: file,
        replayedAt: now().toISOString(),
      });
    try {
      store.savepoint(() => {
        commitRecord(store, entry.record, { queue: true });
        mark(entry.reason);
      });
      applied++;
    } catch (error) {
      if (error instanceof StoreError || classifyStoreError(error) !== "unavailable") throw error;
      log({
        level: "error",
        event: "record_lost",
        reason: `spilled record ${entry.id} could not be replayed: ${(error as Error).message}`,
        spilled_at: entry.spilled_at,
        journal: file,
      });
      mark(`not replayable: ${(error as Error).message}`);
    }
  }
  return applied;
}

function reportReplay(
  journal: { files: string[]; torn: number; problems: string[] },
  replayed: number,
  log: (r: LogRecord) => void,
): void {
  if (replayed > 0) {
    log({ level: "info", event: "journal_replayed", entries: replayed, files: journal.files });
  }
  if (journal.torn > 0) {
    log({
      level: "error",
      event: "record_lost",
      reason: `${journal.torn} torn line(s) in the spill journal (a hook was killed while writing)`,
      files: journal.files,
    });
  }
  for (const problem of journal.problems) {
    log({ level: "error", event: "journal_unreadable", reason: problem });
  }
}

function summarize(result: TrackResult, commits: CommitOutcome[]): void {
  result.commits = commits;
  for (const c of commits) {
    if (c.kind === "recorded") result.versions.push(...c.versions);
    if (c.kind === "imported" && c.queued > 0) result.queued = true;
  }
  if (result.versions.length > 0) result.queued = true;
  const first = commits[0];
  if (commits.length !== 1 || first === undefined) {
    result.outcome = "imported";
    return;
  }
  switch (first.kind) {
    case "intent":
      result.outcome = first.recorded ? "intent" : "duplicate";
      return;
    case "failure":
      result.outcome = first.recorded ? "recorded" : "duplicate";
      return;
    case "duplicate":
    case "unchanged":
    case "recorded":
      result.outcome = first.kind;
      return;
    case "imported":
      result.outcome = "imported";
      return;
    default: {
      const unreachable: never = first;
      throw new Error(`unhandled commit ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Writes the records to the spill journal; "lost" (said where it can be) when none takes them. */
function spillRecords(
  config: TrackerConfig,
  records: HookRecord[],
  failure: StoreError,
  result: TrackResult,
  log: (r: LogRecord) => void,
  now: () => Date,
): void {
  for (const record of records) {
    const entry: JournalEntry<HookRecord> = {
      journal: JOURNAL_FORMAT,
      id: crypto.randomUUID(),
      spilled_at: now().toISOString(),
      reason: failure.message,
      record,
    };
    try {
      const place = spillEntry(config.dataDir, entry);
      result.outcome = "spilled";
      result.detail = failure.message;
      log({
        level: "warn",
        event: "record_spilled",
        kind: failure.kind,
        reason: failure.message,
        journal: place.file,
        ...(place.releasedReserve ? { released: RESERVE_FILE } : {}),
        file_path: record.filePath,
        tool_use_id: record.toolUseId,
      });
    } catch (error) {
      result.outcome = "lost";
      result.detail = `${failure.message}; ${(error as Error).message}`;
      reportLost(config, {
        level: "error",
        event: "record_lost",
        reason: result.detail,
        file_path: record.filePath,
        tool_use_id: record.toolUseId,
      });
    }
  }
}

/**
 * Says that a record was lost where it can: the log, else a log beside the fallback journal, else
 * one line on stderr (the last resort; stdout stays empty).
 */
function reportLost(config: TrackerConfig, record: LogRecord): void {
  if (appendLog(logPath(config), record)) return;
  const fallback = usableFallbackDir(config.dataDir);
  if (fallback && appendLog(`${fallback}/${FALLBACK_LOG}`, record)) return;
  try {
    const line = `pattern-tracker: a record was lost: ${String(record.reason)}\n`;
    Deno.stderr.writeSync(new TextEncoder().encode(line));
  } catch { /* nowhere at all */ }
}

/**
 * Opens the store for a command (the CLI, the flusher) and replays the spill journal into it
 * first, waiting up to `waitMs` (10 s) for the lock. A journal that cannot be replayed yet (the
 * store is still locked) is left for the next opener; the store is returned either way.
 *
 * @example
 * ```ts
 * import { openAndReplay } from "./track.ts";
 * // const { store, replayed, replayFailure } = openAndReplay(config);
 * ```
 */
export function openAndReplay(
  config: TrackerConfig,
  options: { waitMs?: number; log?: (r: LogRecord) => void; now?: () => Date } = {},
): { store: Store; replayed: number; replayFailure: StoreError | null } {
  const log = options.log ?? ((r: LogRecord) => void appendLog(logPath(config), r));
  const now = options.now ?? (() => new Date());
  const scan = scanDataDir(config.dataDir);
  const store = openStore(config.dataDir, {
    busyTimeoutMs: options.waitMs ?? 10_000,
    scan,
    now,
    onMovedAside: movedAsideLogger(log),
  });
  let replayed = 0;
  let replayFailure: StoreError | null = null;
  try {
    const places = pendingJournalPlaces(config.dataDir, scan?.entries ?? new Map());
    if (places.length > 0) {
      const journal = store.immediate(() => {
        const collected = collectJournal<HookRecord>(places, now());
        replayed = replayEntries(store, collected.entries, log, now);
        return collected;
      });
      removeJournalFiles(journal.files);
      reportReplay(journal, replayed, log);
    }
    ensureReserve(config.dataDir);
  } catch (error) {
    replayFailure = describeStoreFailure(error, store.path, options.waitMs ?? 10_000);
  }
  return { store, replayed, replayFailure };
}
