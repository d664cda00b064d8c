/**
 * The pure resolver: environment > file > defaults, each bad value reported as a problem (its key,
 * source and reason) while the default is kept. Reads nothing; {@linkcode resolveConfig}'s caller
 * (`load.ts`) gathers the sources.
 *
 * @module
 */

import {
  type ConfigProblem,
  defaultConfig,
  type Kind,
  type ResolvedConfig,
  SETTINGS,
  type TrackerConfig,
} from "./schema.ts";

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
 * import assert from "node:assert/strict";
 * import { resolveConfig } from "./resolve.ts";
 * const { config, problems } = resolveConfig({
 *   env: { PATTERN_TRACKER_MAX_RETRIES: "5" },
 *   file: { max_retries: 1, timeout_seconds: "soon" },
 *   filePath: "config.yaml",
 *   home: "/home/dev",
 * });
 * assert.equal(config.maxRetries, 5);
 * assert.equal(config.timeoutSeconds, 2); // the default: "soon" is no number
 * assert.equal(problems[0]?.key, "timeout_seconds");
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

/**
 * Whether a path is absolute (POSIX, or a Windows drive).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAbsolute } from "./resolve.ts";
 * assert.equal(isAbsolute("/var/log"), true);
 * assert.equal(isAbsolute("logs/x.jsonl"), false);
 * ```
 */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path);
}

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

// One case per kind of setting, each a few lines: kept in one exhaustive switch (longer than 80
// lines) so that a new kind cannot be added without its parser.
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
