/**
 * When the store cannot take a record, and after: the records go to the spill journal (or, when
 * no journal can take them, are reported lost where that can be said), and the next process that
 * can write the store replays the journal in order, each entry exactly once, in its own
 * transaction. The commands use {@linkcode openAndReplay}.
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import { listNames, scanDataDir } from "../store/data_dir.ts";
import {
  FALLBACK_LOG,
  JOURNAL_FORMAT,
  type JournalEntry,
  type JournalPlace,
  pendingJournalPlaces,
  RESERVE_FILE,
  usableFallbackDir,
} from "./journal.ts";
import {
  type CollectedJournal,
  collectJournal,
  ensureReserve,
  removeJournalFiles,
  spillEntry,
} from "./journal_files.ts";
import { appendLog, logPath, type LogRecord } from "../log.ts";
import { commitRecord, type HookRecord } from "./records.ts";
import { COMMAND_BUSY_TIMEOUT_MS } from "../store/open.ts";
import type { RecordingStore } from "../store/recording.ts";
import { openStore, type Store } from "../store/store.ts";
import {
  classifyStoreError,
  describeStoreFailure,
  movedAsideLogger,
  StoreError,
} from "../store/failure.ts";
import type { TrackResult } from "./recorder.ts";

/** A journal taken and applied in a transaction, waiting for {@linkcode finishReplay}. */
export interface Replay extends CollectedJournal<HookRecord> {
  replayed: number;
}

/**
 * Takes the waiting journal files and applies their entries, inside the caller's transaction
 * (the caller commits, then calls {@linkcode finishReplay}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finishReplay, journalWaiting, replayPlaces } from "./spill.ts";
 * import { pendingJournalPlaces } from "./journal.ts";
 * import { spillEntry } from "./journal_files.ts";
 * import { shapeIntent } from "./intent.ts";
 * import { openStore } from "../store/mod.ts";
 * import { listNames } from "../store/data_dir.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const record = shapeIntent({
 *   kind: "intent", hookEvent: "PreToolUse", toolName: "Write", toolUseId: "toolu_1",
 *   sessionId: "s", cwd: "/p", filePath: "/p/a.py", contentAfter: "x = 1\n",
 * });
 * spillEntry(dataDir, {
 *   journal: 1, id: crypto.randomUUID(), spilled_at: new Date().toISOString(), reason: "locked",
 *   record,
 * });
 * const store = openStore(dataDir);
 * const places = pendingJournalPlaces(dataDir, listNames(dataDir));
 * const log = () => {};
 * const replay = store.immediate(() => replayPlaces(store, places, log, () => new Date()));
 * assert.equal(replay.replayed, 1);
 * finishReplay(replay, log);
 * assert.equal(journalWaiting(dataDir), false);
 * assert.equal(store.execution("s", "toolu_1")?.filePath, "/p/a.py");
 * store.close();
 * ```
 */
export function replayPlaces(
  store: RecordingStore,
  places: readonly JournalPlace[],
  log: (r: LogRecord) => void,
  now: () => Date,
): Replay {
  const collected = collectJournal<HookRecord>(places, now());
  return { ...collected, replayed: replayEntries(store, collected.entries, log, now) };
}

/**
 * After the transaction that applied a replay committed: deletes its files, logs what happened.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finishReplay, journalWaiting, replayPlaces } from "./spill.ts";
 * import { pendingJournalPlaces } from "./journal.ts";
 * import { spillEntry } from "./journal_files.ts";
 * import { openStore } from "../store/mod.ts";
 * import { listNames } from "../store/data_dir.ts";
 * const dataDir = Deno.makeTempDirSync();
 * spillEntry(dataDir, {
 *   journal: 1, id: crypto.randomUUID(), spilled_at: new Date().toISOString(), reason: "locked",
 *   record: { kind: "intent", toolUseId: "toolu_1", sessionId: "s", toolName: "Write",
 *     filePath: "/p/a.py", at: new Date().toISOString(), correlationId: crypto.randomUUID() },
 * });
 * const store = openStore(dataDir);
 * const places = pendingJournalPlaces(dataDir, listNames(dataDir));
 * const replay = store.immediate(() => replayPlaces(store, places, () => {}, () => new Date()));
 * assert.equal(journalWaiting(dataDir), true); // applied, but the files are still there
 * const logged: Record<string, unknown>[] = [];
 * finishReplay(replay, (r) => logged.push(r));
 * assert.equal(journalWaiting(dataDir), false);
 * assert.ok(logged.length > 0); // says what it replayed
 * store.close();
 * ```
 */
export function finishReplay(replay: Replay, log: (r: LogRecord) => void): void {
  removeJournalFiles(replay.files);
  reportReplay(replay, replay.replayed, log);
}

/**
 * True when spill-journal files wait in the data directory or its fallback (a listing each; reads
 * nothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { journalWaiting } from "./spill.ts";
 * import { spillEntry } from "./journal_files.ts";
 * const dataDir = Deno.makeTempDirSync();
 * assert.equal(journalWaiting(dataDir), false);
 * spillEntry(dataDir, { journal: 1, id: "a", spilled_at: "t", reason: "locked", record: {} });
 * assert.equal(journalWaiting(dataDir), true);
 * ```
 */
export function journalWaiting(dataDir: string): boolean {
  return pendingJournalPlaces(dataDir, listNames(dataDir)).length > 0;
}

/**
 * Applies spilled entries in order, each in its own savepoint and at most once (the store keeps
 * their IDs). An entry that cannot be applied for a reason of its own (not the store's) is logged,
 * counted as lost, and marked so that it does not block the ones after it.
 */
function replayEntries(
  store: RecordingStore,
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

/**
 * Writes the records to the spill journal; "lost" (said where it can be) when none takes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spillRecords } from "./spill.ts";
 * import { waitingEntries } from "./journal_files.ts";
 * import { shapeIntent } from "./intent.ts";
 * import type { TrackResult } from "./recorder.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { StoreError } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const record = shapeIntent({
 *   kind: "intent", hookEvent: "PreToolUse", toolName: "Write", toolUseId: "toolu_1",
 *   sessionId: "s", cwd: "/p", filePath: "/p/a.py", contentAfter: "x = 1\n",
 * });
 * const result: TrackResult = {
 *   outcome: "intent", queued: false, versions: [], commits: [], excluded: 0, replayed: 0,
 * };
 * const failure = new StoreError("locked", `${dataDir}/patterns.db is locked; try again`);
 * spillRecords({ ...defaultConfig(dataDir), dataDir }, [record], failure, result, () => {}, () =>
 *   new Date());
 * assert.equal(result.outcome, "spilled");
 * assert.equal(waitingEntries(dataDir).entries.length, 1);
 * ```
 */
export function spillRecords(
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
 * import assert from "node:assert/strict";
 * import { openAndReplay } from "./spill.ts";
 * import { spillEntry } from "./journal_files.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * spillEntry(dataDir, {
 *   journal: 1, id: crypto.randomUUID(), spilled_at: new Date().toISOString(), reason: "locked",
 *   record: { kind: "intent", toolUseId: "toolu_1", sessionId: "s", toolName: "Write",
 *     filePath: "/p/a.py", at: new Date().toISOString(), correlationId: crypto.randomUUID() },
 * });
 * const { store, replayed, replayFailure } = openAndReplay({ ...defaultConfig(dataDir), dataDir }, {
 *   log: () => {},
 * });
 * assert.equal(replayed, 1);
 * assert.equal(replayFailure, null);
 * store.close();
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
    busyTimeoutMs: options.waitMs ?? COMMAND_BUSY_TIMEOUT_MS,
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
    replayFailure = describeStoreFailure(
      error,
      store.path,
      options.waitMs ?? COMMAND_BUSY_TIMEOUT_MS,
    );
  }
  return { store, replayed, replayFailure };
}
