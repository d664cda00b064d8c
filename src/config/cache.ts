/**
 * The hooks' configuration cache: the last resolved configurations, keyed by everything they were
 * resolved from, in one file of the data directory (write then rename; damaged means absent).
 *
 * @module
 */

import type { ResolvedConfig } from "./schema.ts";

/** File in the data directory that holds the last resolved configuration (hooks only). */
export const CONFIG_CACHE_FILE = "config-cache.json";

/** Configurations kept in the cache: one per distinct environment (sessions may differ). */
export const CONFIG_CACHE_ENTRIES = 8;

export interface ConfigCacheEntry {
  key: string;
  value: ResolvedConfig;
}

/** The cache's entries, newest first; none when it is absent, unreadable or damaged. */
export function readConfigCacheEntries(path: string): ConfigCacheEntry[] {
  try {
    const cached = JSON.parse(Deno.readTextFileSync(path)) as { entries?: unknown };
    return Array.isArray(cached.entries) ? cached.entries as ConfigCacheEntry[] : [];
  } catch {
    return []; // absent, unreadable or damaged: resolve afresh (and rewrite it)
  }
}

/** Writes the entries (newest first, at most {@linkcode CONFIG_CACHE_ENTRIES}); never throws. */
export function writeConfigCache(path: string, newestFirst: ConfigCacheEntry[]): void {
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
