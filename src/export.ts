/**
 * Interoperability: the store as JSON lines that other tools can read (one record per pattern,
 * version, edge and execution, after a header line), the same data in the Agent Trace format
 * (https://agent-trace.dev, v0.1.0) where it fits, and import of our JSON lines without duplicates.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ExecutionRow, FileVersion, LineageEdgeRow, PatternRow, Store } from "./store.ts";

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
 * import { exportRecords } from "./export.ts";
 * // for (const r of exportRecords(store)) console.log(JSON.stringify(r));
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

/** Agent Trace v0.1.0 record (the parts we fill). */
export interface AgentTraceRecord {
  version: "0.1.0";
  id: string;
  timestamp: string;
  tool: { name: string; version?: string };
  files: {
    path: string;
    conversations: {
      url?: string;
      contributor: { type: "ai" | "human" | "mixed" | "unknown"; model_id?: string };
      ranges: { start_line: number; end_line: number; content_hash?: string }[];
    }[];
  }[];
  metadata: Record<string, unknown>;
}

/**
 * A file version as an Agent Trace record. Our patterns are whole files, so the range is the whole
 * file after the change, attributed to the AI when Claude Code wrote it (`baseline` and `external`
 * versions are not the AI's: `unknown`); the pattern ID is the content hash, and our lineage rides
 * in `metadata` under a reverse-domain key, as the specification allows.
 *
 * @example
 * ```ts
 * import { toAgentTrace } from "./export.ts";
 * // toAgentTrace(version, pattern).files[0].conversations[0].ranges[0].end_line === pattern.lineCount
 * ```
 */
export function toAgentTrace(v: FileVersion, p: PatternRow | undefined): AgentTraceRecord {
  const byAi = v.toolName !== "baseline" && v.toolName !== "external";
  return {
    version: "0.1.0",
    id: traceId(v),
    timestamp: v.createdAt,
    tool: { name: "claude-code" },
    files: [{
      path: v.filePath,
      conversations: [{
        contributor: { type: byAi ? "ai" : "unknown" },
        ranges: [{
          start_line: 1,
          end_line: Math.max(1, p?.lineCount ?? 1),
          content_hash: `sha256-16:${v.patternId}`,
        }],
      }],
    }],
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
      },
    },
  };
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
  queued: number;
}

/**
 * Imports our JSON lines into a store in one transaction. Records already present are skipped, so
 * importing twice is the same as once. Imported versions are not queued for delivery unless
 * `queue` is set (they came from another store, which delivered them); queued, they are in doubt:
 * the flusher asks the server which it already holds before sending any.
 *
 * @example
 * ```ts
 * import { exportRecords, importRecords } from "./export.ts";
 * // const lines = [...exportRecords(source)].map((r) => JSON.stringify(r));
 * // importRecords(target, lines); // { patterns: 4, versions: 4, …, skipped: 0 }
 * ```
 */
export function importRecords(
  store: Store,
  lines: Iterable<string>,
  options: { queue?: boolean; now?: () => Date } = {},
): ImportReport {
  const report: ImportReport = {
    patterns: 0,
    versions: 0,
    edges: 0,
    executions: 0,
    skipped: 0,
    queued: 0,
  };
  // Pattern ID of each stored version of a file, loaded when an imported version is already there.
  const storedVersions = new Map<string, Map<number, string>>();
  store.immediate(() => {
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
        throw new Error(
          `line ${lineNo}: an export starts with a header line; nothing was imported`,
        );
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
          if (store.insertPattern(p)) report.patterns++;
          else report.skipped++;
          break;
        }
        case "version": {
          const { type: _t, ...v } = r;
          // The same version already there (an earlier import of this file) is skipped. A different
          // pattern at the same file and version is another history of that path: appending to it
          // would give versions whose parent is not the version before, so nothing is imported.
          if (!store.insertVersionIfAbsent(v)) {
            let stored = storedVersions.get(v.filePath);
            if (!stored) {
              stored = new Map(store.fileHistory(v.filePath).map((h) => [h.version, h.patternId]));
              storedVersions.set(v.filePath, stored);
            }
            const here = stored.get(v.version);
            if (here !== undefined && here !== v.patternId) {
              throw new Error(
                `line ${lineNo}: ${v.filePath} version ${v.version} is ${here} in this store but ${v.patternId} in the export (two different histories of one path); nothing was imported`,
              );
            }
            report.skipped++;
            break;
          }
          report.versions++;
          if (options.queue) {
            const versionId = store.versionId(v.filePath, v.version) as number;
            const at = (options.now ?? (() => new Date()))().toISOString();
            store.enqueueVersion(versionId, at, { inDoubt: true });
            report.queued++;
          }
          break;
        }
        case "edge": {
          const { type: _t, child, parent, ...rest } = r;
          // An edge already stored is not inserted again, and counts as skipped.
          if (store.insertEdge({ child, parent, ...rest })) report.edges++;
          else report.skipped++;
          break;
        }
        case "execution": {
          const { type: _t, ...x } = r;
          if (store.execution(x.toolUseId)) report.skipped++;
          else {
            store.finishExecution(x);
            report.executions++;
          }
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
      if (!sawHeader) {
        throw new Error(
          `line ${lineNo}: an export starts with a header line; nothing was imported`,
        );
      }
    }
  });
  return report;
}
