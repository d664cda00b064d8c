/**
 * Configuration, the public face: environment > `config.yaml` > defaults, a bad value reported as a
 * problem (key, source, reason) while the default is used — never a crash.
 *
 * - `schema.ts`: every setting, the resolved shape, the defaults (pure data)
 * - `resolve.ts`: the pure resolver
 * - `load.ts`: reading the environment and the file (the I/O edge); `cache.ts`: the hooks' cache
 * - `flat_yaml.ts`: the flat YAML subset read without js-yaml
 *
 * Everything here is what a hook loads anyway (`loadConfig` needs all of it): importing this file
 * adds nothing to a hook's start-up.
 *
 * @module
 */

export {
  CONFIG_PATH_ENV,
  type ConfigProblem,
  dataDirConfigPath,
  defaultConfig,
  defaultDataDir,
  type ResolvedConfig,
  SETTINGS,
  type TrackerConfig,
} from "./schema.ts";
export { type ConfigSources, isAbsolute, resolveConfig } from "./resolve.ts";
export { defaultConfigPath, homeDir, loadConfig, type LoadConfigOptions } from "./load.ts";
export { CONFIG_CACHE_FILE } from "./cache.ts";
export { parseFlatYaml } from "./flat_yaml.ts";
