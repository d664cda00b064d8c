/**
 * Loading the configuration (the I/O edge): the environment, the config file (flat YAML, or
 * js-yaml loaded on demand), and for the hooks the cache; resolution itself is `resolve.ts`.
 *
 * @module
 */

import { isCompiled, ROOT } from "../runtime.ts";
import { CONFIG_CACHE_FILE, readConfigCacheEntries, writeConfigCache } from "./cache.ts";
import { parseFlatYaml } from "./flat_yaml.ts";
import { isAbsolute, resolveConfig } from "./resolve.ts";
import {
  CONFIG_PATH_ENV,
  type ConfigProblem,
  dataDirConfigPath,
  defaultConfig,
  type ResolvedConfig,
  SETTINGS,
} from "./schema.ts";

/**
 * Where the config file is read from when `PATTERN_TRACKER_CONFIG` is not set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfigPath } from "./load.ts";
 * assert.match(defaultConfigPath(), /\/config\.yaml$/);
 * ```
 */
export function defaultConfigPath(): string {
  // A compiled binary has no checkout beside it: the data directory's default place.
  return isCompiled() ? dataDirConfigPath(homeDir()) : `${ROOT}/config.yaml`;
}

/**
 * The user's home directory from `HOME` (or `USERPROFILE` on Windows).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { homeDir } from "./load.ts";
 * assert.equal(homeDir(), Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".");
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

/**
 * Reads the configuration from the environment and the YAML file (I/O edge of this module). A flat
 * file (`key: value` lines, like the shipped one) is read by {@linkcode parseFlatYaml}; js-yaml is
 * loaded only for YAML outside that subset. With `cache`, a configuration resolved from the same
 * file text, environment and home directory is reused instead (its problems are reported again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfigPath, loadConfig } from "./load.ts";
 * const { config, problems, configPath } = await loadConfig();
 * assert.ok(config.batchSize >= 1 && config.batchSize <= 1000);
 * assert.ok(problems.every((p) => p.reason !== "" && p.source !== ""));
 * assert.equal(configPath, Deno.env.get("PATTERN_TRACKER_CONFIG") || defaultConfigPath());
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

function safeEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not granted: behave as unset
  }
}
