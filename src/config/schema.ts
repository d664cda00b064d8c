/**
 * The configuration's schema: every setting (its YAML key, environment variable and kind), the
 * resolved shape, and the defaults. Pure data; also where the default data directory is named.
 *
 * @module
 */

import { DEFAULT_EXCLUDES } from "../record/path_rules.ts";

/** The tracker's settings after resolution. */
export interface TrackerConfig {
  /** Base URL of the intelligence service (Phase 4 API). */
  intelligenceUrl: string;
  /** When false, hooks return at once and record nothing. */
  enabled: boolean;
  /** Bound on every HTTP request, in seconds. */
  timeoutSeconds: number;
  /** Retries per event per flush before it waits for the next flush. */
  maxRetries: number;
  /** Events per batch request (1..1000). */
  batchSize: number;
  /** Directory holding the SQLite store and the log. */
  dataDir: string;
  /** JSON-lines log file; relative paths are inside `dataDir`. */
  logFile: string;
  /** Keep the code itself in the store and in events; false keeps hashes, sizes and lineage only. */
  storeCode: boolean;
  /** Let hooks start the background flusher when they queue events. */
  autoFlush: boolean;
  /** Replace secrets in code with `[REDACTED:kind]` before storing or sending. */
  redactSecrets: boolean;
  /** Globs of files to track; empty tracks every file not excluded. */
  includePaths: string[];
  /** Globs of files never tracked. */
  excludePaths: string[];
  /** Larger patterns keep hash, size and lineage, but not their code. */
  maxPatternBytes: number;
  /**
   * Drop the code of delivered versions older than this many days (hashes, sizes, lineage and
   * metrics stay); 0 keeps everything. Applied by the background flusher and `tracker.ts prune`.
   */
  retentionDays: number;
  /**
   * How long a hook waits for the store's write lock before it writes its record to the spill
   * journal instead (milliseconds; the CLI and the flusher wait longer).
   */
  storeWaitMs: number;
  /**
   * Also keep the text of each request (redacted like code) beside its intent label; false keeps
   * only what the words give the classifier (the label and four scores), never the text.
   */
  storePrompts: boolean;
}

/** A value that could not be used, and why. */
export interface ConfigProblem {
  key: string;
  source: string;
  reason: string;
}

/** Result of {@linkcode resolveConfig}. */
export interface ResolvedConfig {
  config: TrackerConfig;
  problems: ConfigProblem[];
}

export type Kind =
  | "url"
  | "boolean"
  | "seconds"
  | "count"
  | "batch"
  | "path"
  | "dir"
  | "globs"
  | "bytes"
  | "days"
  | "millis";

/** Every setting: its YAML key, its environment variable and its kind. */
export const SETTINGS: ReadonlyArray<
  { key: keyof TrackerConfig; yaml: string; env: string; kind: Kind }
> = [
  {
    key: "intelligenceUrl",
    yaml: "intelligence_url",
    env: "PATTERN_TRACKER_INTELLIGENCE_URL",
    kind: "url",
  },
  { key: "enabled", yaml: "enabled", env: "PATTERN_TRACKER_ENABLED", kind: "boolean" },
  {
    key: "timeoutSeconds",
    yaml: "timeout_seconds",
    env: "PATTERN_TRACKER_TIMEOUT_SECONDS",
    kind: "seconds",
  },
  { key: "maxRetries", yaml: "max_retries", env: "PATTERN_TRACKER_MAX_RETRIES", kind: "count" },
  { key: "batchSize", yaml: "batch_size", env: "PATTERN_TRACKER_BATCH_SIZE", kind: "batch" },
  { key: "dataDir", yaml: "data_dir", env: "PATTERN_TRACKER_DATA_DIR", kind: "dir" },
  { key: "logFile", yaml: "log_file", env: "PATTERN_TRACKER_LOG_FILE", kind: "path" },
  { key: "storeCode", yaml: "store_code", env: "PATTERN_TRACKER_STORE_CODE", kind: "boolean" },
  { key: "autoFlush", yaml: "auto_flush", env: "PATTERN_TRACKER_AUTO_FLUSH", kind: "boolean" },
  {
    key: "redactSecrets",
    yaml: "redact_secrets",
    env: "PATTERN_TRACKER_REDACT_SECRETS",
    kind: "boolean",
  },
  {
    key: "includePaths",
    yaml: "include_paths",
    env: "PATTERN_TRACKER_INCLUDE_PATHS",
    kind: "globs",
  },
  {
    key: "excludePaths",
    yaml: "exclude_paths",
    env: "PATTERN_TRACKER_EXCLUDE_PATHS",
    kind: "globs",
  },
  {
    key: "maxPatternBytes",
    yaml: "max_pattern_bytes",
    env: "PATTERN_TRACKER_MAX_PATTERN_BYTES",
    kind: "bytes",
  },
  {
    key: "retentionDays",
    yaml: "retention_days",
    env: "PATTERN_TRACKER_RETENTION_DAYS",
    kind: "days",
  },
  {
    key: "storeWaitMs",
    yaml: "store_wait_ms",
    env: "PATTERN_TRACKER_STORE_WAIT_MS",
    kind: "millis",
  },
  {
    key: "storePrompts",
    yaml: "store_prompts",
    env: "PATTERN_TRACKER_STORE_PROMPTS",
    kind: "boolean",
  },
];

/** Environment variable naming the config file. */
export const CONFIG_PATH_ENV = "PATTERN_TRACKER_CONFIG";

/**
 * The defaults, for a given home directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "./schema.ts";
 * assert.equal(defaultConfig("/home/dev").dataDir, "/home/dev/.claude/pattern-tracker");
 * ```
 */
export function defaultConfig(home: string): TrackerConfig {
  return {
    intelligenceUrl: "http://localhost:8053",
    enabled: true,
    timeoutSeconds: 2.0,
    maxRetries: 3,
    batchSize: 100,
    dataDir: defaultDataDir(home),
    logFile: "pattern-tracker.log.jsonl",
    storeCode: true,
    autoFlush: true,
    redactSecrets: true,
    includePaths: [],
    excludePaths: [...DEFAULT_EXCLUDES],
    maxPatternBytes: 1024 * 1024,
    retentionDays: 0,
    storeWaitMs: 250,
    storePrompts: false,
  };
}

/**
 * The data directory when none is configured: `~/.claude/pattern-tracker`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultDataDir } from "./schema.ts";
 * assert.equal(defaultDataDir("/home/dev/"), "/home/dev/.claude/pattern-tracker");
 * ```
 */
export function defaultDataDir(home: string): string {
  return `${home.replace(/[\\/]+$/, "")}/.claude/pattern-tracker`;
}

/**
 * The config file of a program without a checkout beside it (a compiled binary): `config.yaml` in
 * the default data directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataDirConfigPath } from "./schema.ts";
 * assert.equal(dataDirConfigPath("/home/dev"), "/home/dev/.claude/pattern-tracker/config.yaml");
 * ```
 */
export function dataDirConfigPath(home: string): string {
  return `${defaultDataDir(home)}/config.yaml`;
}
