/**
 * Configuration: environment variables > `config.yaml` > defaults. Resolution is pure and returns
 * problems as values; a bad value is reported with its key and reason and the default is used.
 *
 * @module
 */

import { DEFAULT_EXCLUDES } from "./record/path_rules.ts";
import { parseFlatYaml } from "./flat_yaml.ts";

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

type Kind =
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
];

/** Environment variable naming the config file. */
export const CONFIG_PATH_ENV = "PATTERN_TRACKER_CONFIG";

/**
 * The defaults, for a given home directory.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * defaultConfig("/home/dev").dataDir; // "/home/dev/.claude/pattern-tracker"
 * ```
 */
export function defaultConfig(home: string): TrackerConfig {
  return {
    intelligenceUrl: "http://localhost:8053",
    enabled: true,
    timeoutSeconds: 2.0,
    maxRetries: 3,
    batchSize: 100,
    dataDir: `${home.replace(/[\\/]+$/, "")}/.claude/pattern-tracker`,
    logFile: "pattern-tracker.log.jsonl",
    storeCode: true,
    autoFlush: true,
    redactSecrets: true,
    includePaths: [],
    excludePaths: [...DEFAULT_EXCLUDES],
    maxPatternBytes: 1024 * 1024,
    retentionDays: 0,
    storeWaitMs: 250,
  };
}

/** Inputs of {@linkcode resolveConfig}: everything it reads, so it stays pure. */
export interface ConfigSources {
  env: Readonly<Record<string, string | undefined>>;
  /** Parsed YAML document, or null when there is no file. */
  file: unknown;
  /** Where the file was read from, for messages. */
  filePath: string;
  home: string;
}

/**
 * Resolves the configuration from its sources: environment > file > defaults.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * const { config, problems } = resolveConfig({
 *   env: { PATTERN_TRACKER_MAX_RETRIES: "5" },
 *   file: { max_retries: 1, timeout_seconds: "soon" },
 *   filePath: "config.yaml",
 *   home: "/home/dev",
 * });
 * config.maxRetries; // 5
 * config.timeoutSeconds; // 2 (the default)
 * problems[0]?.key; // "timeout_seconds"
 * ```
 */
export function resolveConfig(sources: ConfigSources): ResolvedConfig {
  const defaults = defaultConfig(sources.home);
  const config: TrackerConfig = { ...defaults };
  const problems: ConfigProblem[] = [];
  let fileValues: Record<string, unknown> = {};
  if (sources.file !== null && sources.file !== undefined) {
    if (typeof sources.file === "object" && !Array.isArray(sources.file)) {
      fileValues = sources.file as Record<string, unknown>;
      const known = new Set(SETTINGS.map((s) => s.yaml));
      for (const key of Object.keys(fileValues)) {
        if (!known.has(key)) {
          problems.push({
            key,
            source: sources.filePath,
            reason: `unknown key; known keys: ${[...known].join(", ")}`,
          });
        }
      }
    } else {
      problems.push({
        key: "(file)",
        source: sources.filePath,
        reason: "the file must be a mapping of key: value",
      });
    }
  }
  const record = config as unknown as Record<string, unknown>;
  for (const setting of SETTINGS) {
    for (
      const [source, raw] of [[sources.filePath, fileValues[setting.yaml]], [
        setting.env,
        sources.env[setting.env],
      ]] as const
    ) {
      if (raw === undefined || raw === null || raw === "") continue;
      const parsed = parseValue(setting.kind, raw, sources.home);
      if (parsed.ok) record[setting.key] = parsed.value;
      else {problems.push({
          key: source === setting.env ? setting.env : setting.yaml,
          source,
          reason: parsed.reason,
        });}
    }
  }
  if (!isAbsolute(config.logFile)) config.logFile = `${config.dataDir}/${config.logFile}`;
  return { config, problems };
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path);
}

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

function parseValue(kind: Kind, raw: unknown, home: string): Parsed {
  const text = typeof raw === "string" ? raw.trim() : raw;
  switch (kind) {
    case "boolean": {
      if (typeof text === "boolean") return { ok: true, value: text };
      const lower = String(text).toLowerCase();
      if (["true", "1", "yes", "on"].includes(lower)) return { ok: true, value: true };
      if (["false", "0", "no", "off"].includes(lower)) return { ok: true, value: false };
      return { ok: false, reason: `${JSON.stringify(raw)} is not a boolean (use true or false)` };
    }
    case "seconds": {
      const n = Number(text);
      if (typeof text === "boolean" || !Number.isFinite(n) || n <= 0 || n > 300) {
        return {
          ok: false,
          reason: `${JSON.stringify(raw)} is not a number of seconds in (0, 300]`,
        };
      }
      return { ok: true, value: n };
    }
    case "count": {
      const n = Number(text);
      if (typeof text === "boolean" || !Number.isInteger(n) || n < 0 || n > 100) {
        return { ok: false, reason: `${JSON.stringify(raw)} is not a whole number in [0, 100]` };
      }
      return { ok: true, value: n };
    }
    case "batch": {
      const n = Number(text);
      if (typeof text === "boolean" || !Number.isInteger(n) || n < 1 || n > 1000) {
        return {
          ok: false,
          reason: `${
            JSON.stringify(raw)
          } is not a whole number in [1, 1000] (the server's batch limit)`,
        };
      }
      return { ok: true, value: n };
    }
    case "url": {
      if (typeof text !== "string") {
        return { ok: false, reason: `${JSON.stringify(raw)} is not a URL string` };
      }
      try {
        const url = new URL(text);
        if (url.protocol !== "http:" && url.protocol !== "https:") {
          return { ok: false, reason: `${text} must use http or https` };
        }
        return { ok: true, value: url.origin + url.pathname.replace(/\/+$/, "") };
      } catch {
        return {
          ok: false,
          reason: `${JSON.stringify(text)} is not a valid URL (e.g. http://localhost:8053)`,
        };
      }
    }
    case "dir": {
      // Hooks run in whatever directory Claude Code is in: a relative data dir would scatter stores.
      const parsed = parseValue("path", raw, home);
      if (parsed.ok && !isAbsolute(parsed.value as string)) {
        return {
          ok: false,
          reason: `${JSON.stringify(raw)} must be an absolute path or start with ~/`,
        };
      }
      return parsed;
    }
    case "path": {
      if (typeof text !== "string") {
        return { ok: false, reason: `${JSON.stringify(raw)} is not a path string` };
      }
      const expanded = text === "~"
        ? home
        : text.startsWith("~/")
        ? `${home}/${text.slice(2)}`
        : text;
      return { ok: true, value: expanded.replace(/[\\/]+$/, "") || "/" };
    }
    case "globs": {
      // A YAML list, or a comma-separated string (the only way to write a list in an env variable).
      const list = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : null;
      if (list === null || list.some((g) => typeof g !== "string")) {
        return {
          ok: false,
          reason: `${JSON.stringify(raw)} is not a list of globs (YAML list or comma-separated)`,
        };
      }
      return { ok: true, value: (list as string[]).map((g) => g.trim()).filter((g) => g !== "") };
    }
    case "bytes": {
      const n = Number(text);
      if (typeof text === "boolean" || !Number.isInteger(n) || n < 1 || n > 256 * 1024 * 1024) {
        return {
          ok: false,
          reason: `${JSON.stringify(raw)} is not a whole number of bytes in [1, 268435456]`,
        };
      }
      return { ok: true, value: n };
    }
    case "days": {
      const n = Number(text);
      if (typeof text === "boolean" || !Number.isInteger(n) || n < 0 || n > 36500) {
        return {
          ok: false,
          reason: `${
            JSON.stringify(raw)
          } is not a whole number of days in [0, 36500] (0 keeps everything)`,
        };
      }
      return { ok: true, value: n };
    }
    case "millis": {
      const n = Number(text);
      if (typeof text === "boolean" || !Number.isInteger(n) || n < 0 || n > 10_000) {
        return {
          ok: false,
          reason: `${JSON.stringify(raw)} is not a whole number of milliseconds in [0, 10000]`,
        };
      }
      return { ok: true, value: n };
    }
    default: {
      const unreachable: never = kind;
      return { ok: false, reason: `unknown kind ${unreachable}` };
    }
  }
}

/**
 * Where the config file is read from when `PATTERN_TRACKER_CONFIG` is not set.
 *
 * @example
 * ```ts
 * import { defaultConfigPath } from "./config.ts";
 * defaultConfigPath(); // "/path/to/checkout/config.yaml"
 * ```
 */
export function defaultConfigPath(): string {
  const beside = new URL("../config.yaml", import.meta.url);
  // A compiled binary has no checkout beside it: fall back to the data directory's default place.
  if (beside.protocol === "file:" && !Deno.mainModule.includes("/deno-compile-")) {
    return decodeURIComponent(beside.pathname);
  }
  return `${homeDir()}/.claude/pattern-tracker/config.yaml`;
}

/**
 * The user's home directory from `HOME` (or `USERPROFILE` on Windows).
 *
 * @example
 * ```ts
 * import { homeDir } from "./config.ts";
 * homeDir(); // "/home/dev"
 * ```
 */
export function homeDir(): string {
  return safeEnv("HOME") ?? safeEnv("USERPROFILE") ?? ".";
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Keep the resolved configuration in {@linkcode CONFIG_CACHE_FILE} in the data directory, keyed
   * by everything it was resolved from, and reuse it while that is unchanged. Hooks set this:
   * parsing and validating cost a hook about a millisecond and a half, reading the cache a tenth.
   */
  cache?: boolean;
}

/** File in the data directory that holds the last resolved configuration (hooks only). */
export const CONFIG_CACHE_FILE = "config-cache.json";

/**
 * Reads the configuration from the environment and the YAML file (I/O edge of this module). A flat
 * file (`key: value` lines, like the shipped one) is read by {@linkcode parseFlatYaml}; js-yaml is
 * loaded only for YAML outside that subset. With `cache`, a configuration resolved from the same
 * file text, environment and home directory is reused instead (its problems are reported again).
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const { config, problems } = await loadConfig();
 * for (const p of problems) console.error(`${p.source}: ${p.key}: ${p.reason}`);
 * ```
 */
export async function loadConfig(
  options: LoadConfigOptions = {},
): Promise<ResolvedConfig & { configPath: string }> {
  const env: Record<string, string | undefined> = {};
  for (const setting of SETTINGS) env[setting.env] = safeEnv(setting.env);
  const configPath = safeEnv(CONFIG_PATH_ENV) || defaultConfigPath();
  const home = homeDir();
  const problems: ConfigProblem[] = [];
  let file: unknown = null;
  let text: string | null = null;
  try {
    text = Deno.readTextFileSync(configPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      problems.push({
        key: "(file)",
        source: configPath,
        reason: `cannot read: ${(error as Error).message}`,
      });
    }
  }
  // The cache lives where the data directory is before the file is read: the environment's, or
  // the default. A data_dir set in the file elsewhere simply goes without a cache.
  const envDataDir = env.PATTERN_TRACKER_DATA_DIR;
  const candidate = envDataDir ? envDataDir.replace(/\/+$/, "") : defaultConfig(home).dataDir;
  // Only an absolute directory: without HOME the default would be relative to Claude's cwd.
  const cacheDir = options.cache && problems.length === 0 && isAbsolute(candidate)
    ? candidate
    : null;
  const cacheKey = cacheDir === null
    ? ""
    : JSON.stringify({ format: 2, configPath, text, env, home });
  const cachePath = `${cacheDir}/${CONFIG_CACHE_FILE}`;
  // Read once: a hit returns from it, a miss rewrites it with the new entry first.
  const cacheEntries = cacheDir === null ? [] : readConfigCacheEntries(cachePath);
  const cached = cacheEntries.find((e) => e?.key === cacheKey)?.value;
  if (typeof cached?.config === "object" && Array.isArray(cached.problems)) {
    return { ...cached, configPath };
  }

  // The flat subset (the shipped file's shape) is read without loading js-yaml: ~6 ms per hook.
  const flat = text === null ? undefined : parseFlatYaml(text);
  if (flat !== undefined) file = flat;
  else if (text !== null && text.trim() !== "") {
    let yaml: typeof import("js-yaml") | null = null;
    try {
      yaml = await import("js-yaml");
    } catch (error) {
      problems.push({
        key: "(file)",
        source: configPath,
        reason: `the YAML parser npm:js-yaml is not in Deno's cache (${
          (error as Error).message.split("\n")[0]
        }); run "deno install --entrypoint tracker.ts" once in the checkout`,
      });
    }
    if (yaml) {
      try {
        file = yaml.load(text, { schema: yaml.JSON_SCHEMA });
      } catch (error) {
        problems.push({
          key: "(file)",
          source: configPath,
          reason: `not valid YAML: ${(error as Error).message.split("\n")[0]}`,
        });
      }
    }
  }
  const resolved = resolveConfig({ env, file, filePath: configPath, home });
  const result = { config: resolved.config, problems: [...problems, ...resolved.problems] };
  // Cache only what follows from the inputs alone (not a missing parser), where the hooks write.
  if (cacheDir !== null && resolved.config.dataDir === cacheDir) {
    const missingParser = problems.some((p) => p.reason.startsWith("the YAML parser"));
    if (!missingParser) {
      // The newest first; an entry of the same key could only be a damaged one.
      const others = cacheEntries.filter((e) => e?.key !== cacheKey);
      writeConfigCache(cachePath, [{ key: cacheKey, value: result }, ...others]);
    }
  }
  return { ...result, configPath };
}

/** Configurations kept in the cache: one per distinct environment (sessions may differ). */
const CONFIG_CACHE_ENTRIES = 8;

interface ConfigCacheEntry {
  key: string;
  value: ResolvedConfig;
}

function readConfigCacheEntries(path: string): ConfigCacheEntry[] {
  try {
    const cached = JSON.parse(Deno.readTextFileSync(path)) as { entries?: unknown };
    return Array.isArray(cached.entries) ? cached.entries as ConfigCacheEntry[] : [];
  } catch {
    return []; // absent, unreadable or damaged: resolve afresh (and rewrite it)
  }
}

function writeConfigCache(path: string, newestFirst: ConfigCacheEntry[]): void {
  try {
    const entries = newestFirst.slice(0, CONFIG_CACHE_ENTRIES);
    // Write then rename: a parallel hook reads the old cache or the new one, never half of one.
    const temporary = `${path}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(temporary, JSON.stringify({ entries }), { mode: 0o600 });
    Deno.renameSync(temporary, path);
  } catch {
    // The data directory does not exist yet (first run) or is not writable: no cache this time.
  }
}

function safeEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not granted: behave as unset
  }
}
