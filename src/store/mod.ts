/**
 * The store's public face: open it (`openStore`), its query layers and rows, its schema, and how
 * its failures are told. Commands, delivery and the views import from here.
 *
 * The hooks do not: each imports the few modules it runs (`connection.ts`, `recording.ts`,
 * `open.ts`), because a hook process loads — and pays for — every module in its graph on every
 * tool call, and this face brings in the whole store (delivery, upkeep, history). The store's
 * other tools are imported from their own modules by the commands that use them: compaction
 * (`code_maintenance.ts`), retention (`retention.ts`), recovery (`recovery.ts`), code storage
 * (`code_storage.ts`), the data directory (`data_dir.ts`).
 *
 * @module
 */

export { StoreConnection } from "./connection.ts";
export {
  COMMAND_BUSY_TIMEOUT_MS,
  DB_FILE,
  type LazyStoreKind,
  MigrationsNeeded,
  MOVED_ASIDE_META,
  noteMovedAside,
  openStoreAs,
  openStoreLazily,
  type OpenStoreOptions,
  SCHEMA_VERSION,
  type StoreKind,
} from "./open.ts";
export { RecordingStore } from "./recording.ts";
export { OutboxStore } from "./outbox.ts";
export { type CodeStorageStats, type DatabaseSize, MaintainedStore } from "./maintenance.ts";
export {
  openStore,
  type ReplaySummary,
  Store,
  type StoreCounts,
  type VersionWithMetrics,
} from "./store.ts";
export { MIGRATIONS } from "./schema.ts";
export {
  type CodeRow,
  type LineageEdgeRow,
  type NewPatternRow,
  PATTERN_WITH_CODE,
  type PatternParent,
  type PatternRow,
  StoredCodeError,
  toCodeRow,
  toPattern,
} from "./pattern_rows.ts";
export {
  type DeadLetter,
  type ExecutionRow,
  type FileVersion,
  type JournalReplay,
  type ParentState,
  type QueuedVersion,
  type ServerDeliveryCounts,
  toExecution,
  toVersion,
} from "./rows.ts";
export {
  classifyStoreError,
  describeStoreFailure,
  StoreError,
  type StoreFailureKind,
} from "./failure.ts";
