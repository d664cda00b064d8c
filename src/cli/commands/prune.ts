/**
 * `prune [--older-than 90d] [--dry-run] [--json]`: drops the code of old delivered versions.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** What `prune` was asked: `days` null means the configured `retention_days`. */
export interface PruneRequest {
  days: number | null;
  dryRun: boolean;
  json: boolean;
}

/** The `prune` command. */
export const prune = defineCommand({
  name: "prune",
  synopsis: "[--older-than 90d] [--dry-run] [--json]",
  summary: "Drop the code of delivered versions older than that (default: retention_days),",
  details: ["keeping hashes, sizes, lineage and metrics; compact and VACUUM the store"],
  options: {
    "older-than": { type: "string", value: "AGE", help: "days, weeks or hours: 90d, 12w, 36h" },
    "dry-run": { type: "boolean", help: "say what would be freed; change nothing" },
    json: { type: "boolean", help: "the report as JSON" },
  },
  parse: ({ values }): PruneRequest => {
    let days: number | null = null;
    if (values["older-than"] !== undefined) {
      const limit = parseAgeLimit(values["older-than"]);
      if (!limit.ok) throw new CliError(`--older-than: ${limit.reason}`, USAGE_EXIT);
      days = limit.days;
    }
    return { days, dryRun: values["dry-run"] === true, json: values.json === true };
  },
  run: async (request) => (await import("../prune.ts")).pruneCommand(request),
});

/** An age limit, or why the text is not one. */
export type AgeLimit = { ok: true; days: number } | { ok: false; reason: string };

/**
 * Reads an age limit: `90d`, `12w`, `36h`, or a bare number of days.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAgeLimit } from "./prune.ts";
 * assert.deepEqual(parseAgeLimit("2w"), { ok: true, days: 14 });
 * assert.equal(parseAgeLimit("soon").ok, false);
 * ```
 */
export function parseAgeLimit(text: string): AgeLimit {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([dwh]?)\s*$/i.exec(text);
  if (!m) {
    return { ok: false, reason: `"${text}" is not an age; use e.g. 90d (days), 12w or 36h` };
  }
  const n = Number(m[1]);
  const unit = (m[2] || "d").toLowerCase();
  return { ok: true, days: unit === "w" ? n * 7 : unit === "h" ? n / 24 : n };
}
