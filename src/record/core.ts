/**
 * The recording core: {@linkcode trackWith} owns the whole chain for every caller — the hooks, the
 * library (`getTracker()`), `import` and the benchmark's phase-timed hook: enabled → path rules
 * (`admit`, before the store is touched) → size cap → redaction (the recorder's `shape`, while the
 * store opens), then one store transaction that first replays the spill journal and then records
 * (the recorder's `commit`: pattern, version with its change's metrics, lineage, execution, and the
 * version queued in the outbox; the flusher builds the request from those rows when it sends).
 *
 * Never stall, never lose: a hook waits for the store at most `store_wait_ms`; when the store
 * cannot take the record (locked, full, read-only, a symlink, corrupt and not movable) the
 * already-redacted record goes to the spill journal and the hook returns. A corrupt database is
 * moved aside and recording goes on in a fresh store.
 *
 * The records' own code comes with the {@linkcode Recorder}, and the journal's replay and spill
 * are loaded only when they run, so that a hook loads only the code its usual path runs
 * (`track.ts` gives the core every kind of record).
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import { type DataDirScan, listNames, scanDataDir } from "../store/data_dir.ts";
import { pendingJournalPlaces, RESERVE_FILE } from "./journal.ts";
import { appendLog, logPath, type LogRecord } from "../log.ts";
import type {
  CommitOutcome,
  HookRecord,
  ImportRecord,
  PreparedRecord,
  TrackInput,
} from "./records.ts";
import type { StoreConnection } from "../store/connection.ts";
import { DB_FILE, noteMovedAside } from "../store/open.ts";
import { classifyStoreError, describeStoreFailure, movedAsideLogger } from "../store/failure.ts";
import { admit } from "./admit.ts";
import { isImportInput, RecordRefused } from "./inputs.ts";
import type { ImportHandlers, Recorder, TrackOptions, TrackResult } from "./recorder.ts";

/**
 * The WAL must stay short. A process that opens the store alone (every hook) rebuilds its index of
 * the WAL by reading every frame — 1 to 2 ms per MiB here — and cannot tell which frames were
 * checkpointed already, so the WAL of processes that never close (hooks: closing costs a
 * checkpoint) is never reset: 150 post hooks without a flusher made 6.6 MiB of WAL and cost about
 * 3 ms more CPU per hook on average; beyond 4 MiB SQLite's auto-checkpoint copies the whole WAL on
 * every commit. Whoever closes the store last (the flusher, a command) checkpoints and deletes it.
 *
 * Above {@linkcode WAL_HANDOFF_BYTES} a hook asks for that to happen off its path (the post hook
 * starts the flusher, which closes the store when it is done — but a close empties the WAL only
 * when no hook has the store open at that moment); above {@linkcode WAL_LIMIT_BYTES} (auto-flush
 * off, or a flusher that kept meeting hooks) the hook checkpoints and truncates it itself: two
 * fsyncs and the copy, several ms, so rarely (each hook adds 40 to 80 KiB).
 */
export const WAL_HANDOFF_BYTES = 256 * 1024;
/** See {@linkcode WAL_HANDOFF_BYTES}. */
export const WAL_LIMIT_BYTES = 1024 * 1024;

/**
 * Tracks one input (a hook payload, a library call) or many (an import, committed in one
 * transaction: all or nothing). See the module for the chain and what happens when the store fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trackWith } from "./core.ts";
 * import { INTENT_RECORDER } from "./pre.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { parseHookObject } from "./payload.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const parsed = parseHookObject({
 *   hook_event_name: "PreToolUse", tool_name: "Write", tool_use_id: "toolu_1", session_id: "s",
 *   tool_input: { file_path: "/p/a.py", content: "x = 1\n" },
 * });
 * assert.equal(parsed.kind, "intent");
 * if (parsed.kind === "intent") {
 *   const result = await trackWith(INTENT_RECORDER, { ...defaultConfig(dataDir), dataDir }, parsed);
 *   assert.equal(result.outcome, "intent");
 * }
 * ```
 */
export async function trackWith<S extends StoreConnection>(
  recorder: Recorder<S>,
  config: TrackerConfig,
  input: TrackInput | readonly TrackInput[],
  options: TrackOptions<S> = {},
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
  let refused = 0;
  for (const one of inputs) {
    const admission = admit(config, one);
    if (admission.kind === "admitted") admitted.push(one);
    else if (admission.kind === "excluded") {
      result.excluded++;
      result.detail = `${admission.filePath} matches the path rules`;
    } else if (admission.kind === "refused") {
      refused++;
      result.excluded++;
      result.detail = admission.reason;
      logRefusedPath(config, admission, options.log);
    }
  }
  time("path rules");
  if (admitted.length === 0) {
    result.outcome = refused === inputs.length && refused === 1 ? "invalid" : "excluded";
    return result;
  }
  // Hashing (WebCrypto, off the main thread) goes on while the store opens; the rest of the
  // shaping (measures, size cap, redaction) runs when awaited.
  const shape = (one: TrackInput): Promise<PreparedRecord> =>
    isImportInput(one) ? importer(options).shape(config, one) : recorder.shape(config, one, {
      ids: inputs.length === 1 ? options.ids : undefined,
      now: options.now,
      newId: options.newId,
    });
  const shaping = admitted.length === 1
    ? shape(admitted[0] as TrackInput).then((record) => [record])
    : Promise.all(admitted.map(shape));
  shaping.catch(() => {}); // awaited below on every path; never an unhandled rejection
  const log = options.log ?? ((r: LogRecord) => void appendLog(logPath(config), r));
  const now = options.now ?? (() => new Date());
  try {
    await recordInStore(
      recorder,
      config,
      shaping,
      admitted.map(contentBefore),
      options,
      result,
      log,
      now,
      time,
    );
    return result;
  } catch (error) {
    // Out of line: a hook compiles only the code it runs, and this one rarely does.
    return await spillAfterFailure(error, config, shaping, options, result, log, now, time);
  }
}

/** Out of `track`: a hook compiles only the code it runs. */
function logRefusedPath(
  config: TrackerConfig,
  refusal: { reason: string; toolUseId: string | null },
  log: ((r: LogRecord) => void) | undefined,
): void {
  const record: LogRecord = {
    level: "error",
    event: "path_refused",
    tool_use_id: refusal.toolUseId,
    reason: refusal.reason,
  };
  if (log) return log(record);
  try {
    Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  } catch { /* the log says nothing then; the record is refused all the same */ }
  appendLog(logPath(config), record);
}

/** The store could not take the records: to the spill journal (import: the error goes on). */
async function spillAfterFailure<S extends StoreConnection>(
  error: unknown,
  config: TrackerConfig,
  shaping: Promise<PreparedRecord[]>,
  options: TrackOptions<S>,
  result: TrackResult,
  log: (r: LogRecord) => void,
  now: () => Date,
  time: (phase: string) => void,
): Promise<TrackResult> {
  if (error instanceof RecordRefused) throw error;
  const failure = describeStoreFailure(
    error,
    `${config.dataDir}/${DB_FILE}`,
    options.waitMs ?? config.storeWaitMs,
  );
  const records = await shaping;
  if (options.spill === false || !records.every(isHookRecord)) throw failure;
  const { spillRecords } = await import("./rare.ts");
  spillRecords(config, records as HookRecord[], failure, result, log, now);
  time("spill to journal");
  if (result.outcome === "spilled" && options.onSpilled) {
    const detail = await options.onSpilled();
    if (detail) result.detail = `${result.detail}; ${detail}`;
  }
  return result;
}

async function moveAsideAfterDamage<S extends StoreConnection>(
  recorder: Recorder<S>,
  store: S,
  error: unknown,
  dataDir: string,
  waitMs: number,
  log: (r: LogRecord) => void,
  now: () => Date,
): Promise<void> {
  const at = now();
  const aside = store.moveAsideAsCorrupt(at);
  if (aside === null) return; // another process moved it already
  const reason = String((error as Error)?.message ?? error);
  movedAsideLogger(log)(aside, reason);
  const fresh = await recorder.open(dataDir, { busyTimeoutMs: waitMs, now });
  noteMovedAside(fresh, aside, reason, at);
  fresh.close();
}

/** The content before a change as the payload carried it (unredacted: never spilled). */
function contentBefore(input: TrackInput): string | null {
  return input.kind === "change" && typeof input.before === "string" ? input.before : null;
}

function isHookRecord(r: PreparedRecord): r is HookRecord {
  return r.kind === "intent" || r.kind === "failure" || r.kind === "change";
}

function isImportRecord(r: PreparedRecord): r is ImportRecord {
  return !isHookRecord(r);
}

/** The import's handlers, or a clear error when an export's records come without them. */
function importer<S extends StoreConnection>(options: TrackOptions<S>): ImportHandlers<S> {
  if (!options.imports) {
    throw new Error("an export's records are tracked with options.imports (see export.ts)");
  }
  return options.imports;
}

/**
 * Opens (unless given) the store, replays the journal and commits, in one transaction.
 *
 * Longer than most on purpose: it is the hook's path in the order it runs, with a timing mark
 * between phases (`bench/profile_hook.ts` reads them), and its steps share the open store, the
 * data directory's scan and the attempt loop (damage met while writing moves the database aside
 * and records afresh, once).
 */
async function recordInStore<S extends StoreConnection>(
  recorder: Recorder<S>,
  config: TrackerConfig,
  shaping: Promise<PreparedRecord[]>,
  /** Per record, the content before as the payload carried it (see `CommitOptions.beforeText`). */
  beforeTexts: readonly (string | null)[],
  options: TrackOptions<S>,
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
      store = await recorder.open(config.dataDir, {
        busyTimeoutMs: waitMs,
        scan,
        now,
        onMovedAside: (aside, reason) => movedAsideLogger(log)(aside, reason),
      });
      time("open store");
    }
    try {
      const records = await shaping;
      time("shape record (hashes, size cap, redaction)");
      const places = recorder.replayer
        ? pendingJournalPlaces(config.dataDir, scan?.entries ?? listNames(config.dataDir))
        : [];
      // Loaded only when a journal waits: the usual hook never runs it.
      const replayer = places.length > 0 ? await recorder.replayer!() : null;
      // The journal is taken (renamed) only under the write lock: a hook that cannot get the lock
      // appends to it instead of splitting it into one file per spill.
      const { commits, journal } = store.immediate(() => {
        const journal = replayer ? replayer.apply(store!, places, log, now) : null;
        if (journal) result.replayed = journal.replayed;
        const commitOptions = {
          queue: options.queue ?? true,
          imported: new Set<string>(),
          queuedNow: new Set<string>(),
          queuedAt: now().toISOString(),
        };
        const commits = records.map((record, i) =>
          isImportRecord(record)
            ? importer(options).commit(store!, record, commitOptions)
            : recorder.commit(store!, record, {
              ...commitOptions,
              beforeText: beforeTexts[i] ?? null,
            })
        );
        return { commits, journal };
      });
      time("record (transaction)");
      if (journal) {
        replayer!.finish(journal, log);
        time("replay journal");
      }
      // The disk-full reserve: made with a new store, and again after a replay (a full disk may
      // have released it). Not on every hook: a disk too full for it would cost each one a write.
      if (scan && !scan.entries.has(RESERVE_FILE) && (journal || !scan.entries.has(DB_FILE))) {
        (await import("./rare.ts")).ensureReserve(config.dataDir);
      }
      summarize(result, commits);
      if (result.queued && options.onQueued) {
        const detail = await options.onQueued(store);
        if (detail) result.detail = detail;
      }
      // Keep the WAL short (see WAL_HANDOFF_BYTES). A store this call closes is checkpointed by
      // the close; one left open (a hook) hands it off, or truncates it when it cannot.
      const wal = scan?.files.get(`${DB_FILE}-wal`)?.size ?? 0;
      if (opened && options.keepOpen && wal > WAL_HANDOFF_BYTES) {
        if (wal > WAL_LIMIT_BYTES) {
          // Not handed off, or the one it was handed to could not close the store alone.
          store.truncateWal(waitMs);
          time("truncate WAL");
        } else await options.onLongWal?.(store);
      }
      if (opened && !options.keepOpen) store.close();
      return;
    } catch (error) {
      if (classifyStoreError(error) === "corrupt" && attempt === 0) {
        // Damage met while writing (a data page): move the database aside and record afresh.
        await moveAsideAfterDamage(recorder, store, error, config.dataDir, waitMs, log, now);
        if (!opened) throw error; // the caller's store is gone; it reopens
        continue;
      }
      if (opened && !options.keepOpen) store.close();
      throw error;
    }
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
