/**
 * Interoperability: the store as JSON lines that other tools can read (one record per pattern,
 * version, edge and execution, after a header line), and import of our JSON lines without
 * duplicates. The Agent Trace format is in `agent_trace.ts`.
 *
 * @module
 */

import type { TrackerConfig } from "../config/mod.ts";
import { RecordRefused } from "../record/inputs.ts";
import type { TrackInput } from "../record/records.ts";
import { commitImported, shapeImported } from "../record/import.ts";
import type { ExecutionRow, FileVersion, LineageEdgeRow, PatternRow, Store } from "../store/mod.ts";
import { track } from "../record/track.ts";

/** Version of our export format (the header's `schema`). */
export const EXPORT_SCHEMA = 1;

/** One line of an export. */
export type ExportRecord =
  | { type: "header"; format: "pattern-tracker"; schema: number; exported_at: string }
  | ({ type: "pattern" } & PatternRow)
  | ({ type: "version" } & FileVersion)
  | ({ type: "edge" } & LineageEdgeRow)
  | ({ type: "execution" } & ExecutionRow);

/**
 * Every record of the store, header first (a generator, so large stores stream).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { exportRecords } from "./export.ts";
 * const types = [...exportRecords(store)].map((r) => r.type);
 * assert.equal(types[0], "header");
 * assert.equal(types.filter((t) => t === "version").length, 2);
 * store.close();
 * ```
 */
export function* exportRecords(store: Store, now = new Date()): Generator<ExportRecord> {
  yield {
    type: "header",
    format: "pattern-tracker",
    schema: EXPORT_SCHEMA,
    exported_at: now.toISOString(),
  };
  for (const p of store.allPatterns()) yield { type: "pattern", ...p };
  for (const v of store.allVersions()) yield { type: "version", ...v };
  for (const e of store.allEdges()) yield { type: "edge", ...e };
  // No limit: `executions()` stops at 100,000 rows by default (SQLite: LIMIT -1 is none).
  for (const x of store.executions({ limit: -1 })) yield { type: "execution", ...x };
}

/** What an import did. */
export interface ImportReport {
  patterns: number;
  versions: number;
  edges: number;
  executions: number;
  skipped: number;
  /** Records left out by the path rules (`include_paths`, `exclude_paths`). */
  excluded: number;
  queued: number;
}

/**
 * Imports our JSON lines into a store, through the same recording core as the hooks: nothing with
 * `enabled: false`, no file the path rules exclude, code capped, redacted and dropped with
 * `store_code: false` exactly as the hooks would. Each pattern ID is checked against its code
 * (code that carries `[REDACTED:` markers was redacted by the exporting store and cannot be
 * checked). One transaction: a refused record (a forged ID, a version whose parent is neither in
 * the export nor in this store, another history of a path already here) imports nothing. Records
 * already present are skipped, so importing twice is the same as once. Imported versions are
 * queued for delivery only with `queue` (they came from another store, which delivered them);
 * queued, they are in doubt (the flusher asks the server which it already holds before sending
 * any), and a queued version whose parent's version was never queued here gets it queued first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { exportRecords, importRecords } from "./export.ts";
 * const lines = [...exportRecords(store)].map((r) => JSON.stringify(r));
 * const target = openStore(Deno.makeTempDirSync());
 * const report = await importRecords(target, lines, defaultConfig("/tmp"));
 * assert.deepEqual([report.versions, report.skipped], [2, 0]);
 * const again = await importRecords(target, lines, defaultConfig("/tmp"));
 * assert.equal(again.versions, 0); // importing twice is the same as once
 * target.close();
 * store.close();
 * ```
 */
export async function importRecords(
  store: Store,
  lines: Iterable<string>,
  config: TrackerConfig,
  options: { queue?: boolean; now?: () => Date } = {},
): Promise<ImportReport> {
  const report: ImportReport = {
    patterns: 0,
    versions: 0,
    edges: 0,
    executions: 0,
    skipped: 0,
    excluded: 0,
    queued: 0,
  };
  const { patterns, inputs } = readExport(lines);
  if (!config.enabled) {
    throw new Error(
      "tracking is disabled (enabled: false), and import obeys it as the hooks do; nothing was imported",
    );
  }
  // Each version carries its pattern's content (a pattern no version uses is not a file's content).
  const used = new Set<string>();
  for (const input of inputs) {
    if (input.kind !== "imported_version") continue;
    input.pattern = patterns.get(input.version.patternId);
    used.add(input.version.patternId);
  }
  report.skipped += [...patterns.keys()].filter((id) => !used.has(id)).length;
  let result;
  try {
    result = await track(config, inputs, {
      store,
      spill: false,
      queue: options.queue === true,
      now: options.now,
      imports: { shape: shapeImported, commit: commitImported },
    });
  } catch (error) {
    if (error instanceof RecordRefused) throw new Error(`${error.message}; nothing was imported`);
    throw error;
  }
  report.excluded = result.excluded;
  for (const c of result.commits) {
    if (c.kind !== "imported") continue;
    if (c.patternAdded) report.patterns++;
    report.queued += c.queued;
    if (!c.added) {
      report.skipped++;
      continue;
    }
    if (c.what === "version") report.versions++;
    else if (c.what === "edge") report.edges++;
    else report.executions++;
  }
  return report;
}

/**
 * Reads the lines of an export into its patterns and the inputs of the recording core (pure).
 * Throws, naming the line, on anything that is not our export; nothing is imported then.
 */
function readExport(
  lines: Iterable<string>,
): { patterns: Map<string, PatternRow>; inputs: TrackInput[] } {
  const patterns = new Map<string, PatternRow>();
  const inputs: TrackInput[] = [];
  let lineNo = 0;
  let sawHeader = false;
  for (const line of lines) {
    lineNo++;
    if (line.trim() === "") continue;
    let r: ExportRecord;
    try {
      r = JSON.parse(line) as ExportRecord;
    } catch (error) {
      throw new Error(
        `line ${lineNo} is not JSON (${(error as Error).message}); nothing was imported`,
      );
    }
    if (!sawHeader && r?.type !== "header") {
      throw new Error(`line ${lineNo}: an export starts with a header line; nothing was imported`);
    }
    switch (r.type) {
      case "header":
        if (r.format !== "pattern-tracker" || r.schema > EXPORT_SCHEMA) {
          throw new Error(
            `line ${lineNo}: unsupported export (format ${r.format}, schema ${r.schema}); nothing was imported`,
          );
        }
        sawHeader = true;
        break;
      case "pattern": {
        const { type: _t, ...p } = r;
        patterns.set(p.patternId, p);
        break;
      }
      case "version": {
        const { type: _t, ...v } = r;
        inputs.push({ kind: "imported_version", version: v, pattern: undefined, line: lineNo });
        break;
      }
      case "edge": {
        const { type: _t, ...e } = r;
        inputs.push({ kind: "imported_edge", edge: e, line: lineNo });
        break;
      }
      case "execution": {
        const { type: _t, ...x } = r;
        inputs.push({ kind: "imported_execution", execution: x, line: lineNo });
        break;
      }
      default: {
        const unknown: never = r;
        throw new Error(
          `line ${lineNo}: unknown record type ${
            JSON.stringify((unknown as { type?: unknown }).type)
          }; nothing was imported`,
        );
      }
    }
  }
  return { patterns, inputs };
}
