/**
 * Interoperability: the store as JSON lines that other tools can read (one record per pattern,
 * version, edge and execution, after a header line), the same data in the Agent Trace format
 * (https://agent-trace.dev, v0.1.0) where it fits, and import of our JSON lines without duplicates.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type LineSource, type Origin, originOfTool } from "./blame.ts";
import { blameRuns } from "./blame_runs.ts";
import { AttributionCarrier } from "./blame_history.ts";
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

/** An Agent Trace contributor type. */
export type ContributorType = "ai" | "human" | "mixed" | "unknown";

/** An Agent Trace range: 1-based lines, both included. */
export interface AgentTraceRange {
  start_line: number;
  end_line: number;
  content_hash?: string;
}

/** Agent Trace v0.1.0 record (the parts we fill; field names as the specification's schema). */
export interface AgentTraceRecord {
  version: "0.1.0";
  id: string;
  timestamp: string;
  tool: { name: string; version?: string };
  files: {
    path: string;
    conversations: {
      url?: string;
      contributor: { type: ContributorType; model_id?: string };
      ranges: AgentTraceRange[];
    }[];
  }[];
  metadata: Record<string, unknown>;
}

/** One blame run as our metadata lists it: the range, and the version and tool call behind it. */
export interface TraceRangeSource {
  start_line: number;
  end_line: number;
  origin: Origin;
  version: number | null;
  pattern_id: string | null;
  tool_use_id: string | null;
  session_id: string | null;
}

/**
 * The Agent Trace contributor of an origin: Claude's lines are `ai`, lines from outside Claude
 * Code (`external`) `human` — a person, or a formatter or script a person ran —, lines from before
 * tracking (`baseline`) and of unknown origin `unknown`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contributorOf } from "./export.ts";
 * assert.deepEqual(contributorOf("external"), "human");
 * ```
 */
export function contributorOf(origin: Origin): ContributorType {
  switch (origin) {
    case "ai":
      return "ai";
    case "external":
      return "human";
    case "baseline":
    case "unknown":
      return "unknown";
    default: {
      const unreachable: never = origin;
      throw new Error(`unknown origin ${unreachable}`);
    }
  }
}

/** A version's blame, as {@linkcode toAgentTrace} needs it (the lines with their `"\n"`). */
export interface VersionBlame {
  lines: readonly string[];
  sources: readonly LineSource[];
}

/**
 * A file version as an Agent Trace record, with its lines attributed in ranges: each maximal run of
 * lines one version (one tool call, or one change outside Claude Code) brought is a range, with the
 * SHA-256 of its text (first 16 hex, as pattern IDs) as `content_hash`. Ranges are grouped in
 * conversations by contributor and, for the AI, by Claude Code session. Without `blame` (the code
 * is not kept) the whole file is one range, attributed by who made the version. Our lineage, and
 * each range's version and tool call, ride in `metadata["dev.pattern-tracker"]` (a reverse-domain
 * key, as the specification asks).
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
 * import { toAgentTrace } from "./export.ts";
 * const [first] = store.fileHistory("/p/app.py");
 * const record = toAgentTrace(first!, store.pattern(first!.patternId)); // no blame: one range
 * assert.equal(record.files[0]?.conversations[0]?.contributor.type, "ai");
 * assert.equal(record.files[0]?.conversations[0]?.ranges.length, 1);
 * store.close();
 * ```
 */
export function toAgentTrace(
  v: FileVersion,
  p: PatternRow | undefined,
  blame: VersionBlame | null = null,
): AgentTraceRecord {
  const runs = blame ? blameRuns(blame.sources) : [];
  const conversations: AgentTraceRecord["files"][number]["conversations"] = [];
  const byKey = new Map<string, AgentTraceRange[]>();
  for (const run of runs) {
    const type = contributorOf(run.source.origin);
    const key = type === "ai" ? `ai\0${run.source.sessionId ?? ""}` : type;
    let ranges = byKey.get(key);
    if (!ranges) {
      byKey.set(key, ranges = []);
      conversations.push({ contributor: { type }, ranges });
    }
    ranges.push({
      start_line: run.start,
      end_line: run.end,
      content_hash: `sha256-16:${
        createHash("sha256").update(blame!.lines.slice(run.start - 1, run.end).join("")).digest(
          "hex",
        ).slice(0, 16)
      }`,
    });
  }
  if (!blame) {
    conversations.push({
      contributor: { type: contributorOf(originOfTool(v.toolName)) },
      ranges: [{
        start_line: 1,
        end_line: Math.max(1, p?.lineCount ?? 1),
        content_hash: `sha256-16:${v.patternId}`,
      }],
    });
  }
  const ranges: TraceRangeSource[] = runs.map((run) => ({
    start_line: run.start,
    end_line: run.end,
    origin: run.source.origin,
    version: run.source.version,
    pattern_id: run.source.patternId,
    tool_use_id: run.source.toolUseId,
    session_id: run.source.sessionId,
  }));
  return {
    version: "0.1.0",
    id: traceId(v),
    timestamp: v.createdAt,
    tool: { name: "claude-code" },
    files: [{ path: v.filePath, conversations }],
    metadata: {
      "dev.pattern-tracker": {
        pattern_id: v.patternId,
        parent_pattern_id: v.parentPatternId,
        event_type: v.eventType,
        transformation_type: v.transformationType,
        tool_name: v.toolName,
        tool_use_id: v.toolUseId,
        correlation_id: v.correlationId,
        session_id: v.sessionId,
        file_version: v.version,
        ...(blame ? { ranges } : { ranges_unavailable: "the code of this version is not kept" }),
      },
    },
  };
}

/**
 * Every file version as an Agent Trace record, in the order recorded, each file's blame carried
 * from one of its versions to the next (a generator: large stores stream).
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
 * import { agentTraceRecords } from "./export.ts";
 * assert.equal([...agentTraceRecords(store)].length, 2); // one per version
 * store.close();
 * ```
 */
export function* agentTraceRecords(store: Store): Generator<AgentTraceRecord> {
  const carrier = new AttributionCarrier(store);
  for (const v of store.allVersions()) {
    const p = store.pattern(v.patternId);
    let blame: VersionBlame | null = null;
    try {
      const walk = carrier.walkAt(v, p === undefined ? undefined : p.code);
      if (walk.version === v.version && walk.known) blame = walk.state;
    } catch { /* unreadable code: the whole-file record */ }
    yield toAgentTrace(v, p, blame);
  }
}

/**
 * A UUID for one file version's trace record. The correlation ID cannot serve: a tool call that
 * finds the file changed outside Claude Code records two versions (`external` or `baseline`, then
 * its own) under one correlation ID. Derived from the file, version and pattern (SHA-256, shaped as
 * an RFC 9562 version 8 UUID), so exporting again gives the same IDs and readers can deduplicate.
 */
function traceId(v: FileVersion): string {
  const h = createHash("sha256").update(`${v.filePath}\0${v.version}\0${v.patternId}`).digest(
    "hex",
  );
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${
    h.slice(20, 32)
  }`;
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
