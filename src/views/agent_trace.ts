/**
 * Agent Trace records (`export --format agent-trace`): each version's lines in ranges, one per
 * blame run, attributed to a contributor (ai per session, human for changes outside Claude Code,
 * unknown before tracking) and hashed by content; the whole file when the code is not kept.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type LineSource, type Origin, originOfTool } from "./blame.ts";
import { blameRuns } from "./blame_runs.ts";
import { AttributionCarrier } from "./blame_history.ts";
import type { FileVersion, PatternRow, Store } from "../store/mod.ts";

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
 * import { contributorOf } from "./agent_trace.ts";
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
 * import { toAgentTrace } from "./agent_trace.ts";
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
 * import { agentTraceRecords } from "./agent_trace.ts";
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
