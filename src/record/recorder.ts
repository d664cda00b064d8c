/**
 * What the recording core (`core.ts`) is given and gives back: the recorder of a hook's kinds of
 * record, the journal replayer, the options of a tracking call, and its outcome. Types only.
 *
 * @module
 */

import type { LogRecord } from "../log.ts";
import type { StoreConnection } from "../store/connection.ts";
import type { OpenStoreOptions } from "../store/open.ts";
import type { FileVersion } from "../store/rows.ts";
import type { JournalPlace } from "./journal.ts";
import type {
  ChangeIds,
  CommitOptions,
  CommitOutcome,
  HookInput,
  HookRecord,
  ImportInput,
  ImportRecord,
  RecordRules,
  ShapeOptions,
} from "./records.ts";
import type { Replay } from "./spill.ts";

/**
 * What the core needs of the records it handles: which store they go in, and how each is shaped
 * and written. A hook passes only its own kinds (`record/pre.ts`: intents; `record/post.ts`:
 * changes and failures), so it loads only their code; `track.ts` passes every kind.
 */
export interface Recorder<S extends StoreConnection> {
  /** Opens the data directory's store: the layer of it that `commit` queries. */
  open(dataDir: string, options: OpenStoreOptions): S | Promise<S>;
  /** Size cap → redaction of one admitted hook input (see `record.ts`). */
  shape(rules: RecordRules, input: HookInput, options: ShapeOptions): Promise<HookRecord>;
  /** Writes one record inside the caller's transaction. */
  commit(store: S, record: HookRecord, options: CommitOptions): CommitOutcome;
  /**
   * Loads the spill journal's replay, which runs first in the same transaction; absent, the journal
   * is left to the next process that replays (the pre hook: an intent orders nothing, and the
   * post hook that follows replays).
   */
  replayer?: () => Promise<JournalReplayer<S>>;
}

/** Replaying the spill journal (`spill.ts`), loaded only when a journal waits. */
export interface JournalReplayer<S extends StoreConnection> {
  /** Takes the waiting journal files and applies their entries, inside the caller's transaction. */
  apply(
    store: S,
    places: readonly JournalPlace[],
    log: (r: LogRecord) => void,
    now: () => Date,
  ): Replay;
  /** After the commit: deletes the replayed files and logs what happened. */
  finish(replay: Replay, log: (r: LogRecord) => void): void;
}

/** Options of {@linkcode track}. */
export interface TrackOptions<S extends StoreConnection = StoreConnection> {
  /** The change's pattern IDs, when the caller started hashing early (the hook does). */
  ids?: Promise<ChangeIds>;
  /**
   * An open store to record into (import: the command's store). By default the data directory's
   * store is opened, waiting at most `waitMs` for its lock, and closed afterwards.
   */
  store?: S;
  /** How long to wait for the store's lock, in ms (default: `store_wait_ms`, the hooks' budget). */
  waitMs?: number;
  /** Leave the store that `track` opened open (a hook about to exit: closing checkpoints the WAL). */
  keepOpen?: boolean;
  /** false: throw a store failure instead of spilling to the journal (import). Default true. */
  spill?: boolean;
  /** Queue Phase 4 events (default true; import: only with `--queue`). */
  queue?: boolean;
  /** After a commit that queued events, with the open store; returns a detail for the result. */
  onQueued?: (store: S) => Promise<string | undefined> | string | undefined;
  /**
   * When the WAL of a store left open by `keepOpen` has grown: arrange for a process that closes
   * the store to run (the post hook starts the flusher). Past `WAL_LIMIT_BYTES` `track` truncates
   * it itself.
   */
  onLongWal?: (store: S) => Promise<void> | void;
  /** After a spill (the post hook starts the flusher: it replays once the store is free). */
  onSpilled?: () => Promise<string | undefined> | string | undefined;
  /**
   * How an export's records are shaped and written (`record_import.ts`; `importRecords` passes
   * them): given by import, so that the hooks do not load that code.
   */
  imports?: ImportHandlers<S>;
  /** Phase timing (the benchmark): called with each phase's name as it ends. */
  time?: (phase: string) => void;
  now?: () => Date;
  newId?: () => string;
  /** Where log records go (default: the configured log file). */
  log?: (record: LogRecord) => void;
}

/** The import half of the core (`record_import.ts`). */
export interface ImportHandlers<S extends StoreConnection = StoreConnection> {
  shape(rules: RecordRules, input: ImportInput): Promise<ImportRecord>;
  commit(store: S, record: ImportRecord, options: CommitOptions): CommitOutcome;
}

/** What tracking did. */
export type TrackOutcome =
  | "disabled"
  | "excluded"
  /** The file path is not a file's (empty, relative, a directory…): logged as `path_refused`. */
  | "invalid"
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
  /** Inputs left out by the path rules (refused paths included). */
  excluded: number;
  /** Spill-journal entries replayed into the store before this record. */
  replayed: number;
}
