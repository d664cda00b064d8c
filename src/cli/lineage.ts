/**
 * `lineage <file | pattern id>`: the chain of versions of a file, or the ancestry of a pattern, as a
 * readable tree or as JSON. Rendering is pure; lookup is a thin layer over the store.
 *
 * @module
 */

import type { Store, VersionWithMetrics } from "../store/mod.ts";
import type { FileLineageJson, PatternLineageJson } from "../views/lineage_json.ts";
import { CliError } from "./errors.ts";

/**
 * A file's lineage as JSON (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileLineageJson } from "./lineage.ts";
 * assert.deepEqual(fileLineageJson("/p/a.py", []).versions.length, 0);
 * ```
 */
export function fileLineageJson(
  filePath: string,
  versions: readonly VersionWithMetrics[],
): FileLineageJson {
  return {
    file_path: filePath,
    versions: versions.map((v) => ({
      version: v.version,
      pattern_id: v.patternId,
      parent_pattern_id: v.parentPatternId,
      event_type: v.eventType,
      transformation_type: v.transformationType,
      tool_name: v.toolName,
      tool_use_id: v.toolUseId,
      session_id: v.sessionId,
      created_at: v.createdAt,
      reason: v.reason,
      line_count: v.lineCount,
      lines_added: v.linesAdded,
      lines_removed: v.linesRemoved,
      duration_ms: v.durationMs,
      success: v.success,
    })),
  };
}

/**
 * Renders a file's versions as a vertical tree, newest last (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderFileLineage } from "./lineage.ts";
 * assert.match(renderFileLineage("/p/a.py", []), /^\/p\/a\.py {2}\(0 versions\)/);
 * ```
 */
export function renderFileLineage(
  filePath: string,
  versions: readonly VersionWithMetrics[],
): string {
  const lines = [`${filePath}  (${versions.length} version${versions.length === 1 ? "" : "s"})`];
  versions.forEach((v, i) => {
    const last = i === versions.length - 1;
    const change = v.parentPatternId === null
      ? "created"
      : `modified from ${v.parentPatternId}${
        v.transformationType ? ` · ${v.transformationType}` : ""
      }`;
    const delta = v.linesAdded === null ? "" : `  +${v.linesAdded} -${v.linesRemoved ?? 0}`;
    const duration = v.durationMs === null ? "" : `  ${v.durationMs} ms`;
    const lineCount = v.lineCount === null ? "" : `  ${v.lineCount} lines`;
    lines.push(`${last ? "└─" : "├─"} v${v.version}  ${v.patternId}  ${change}`);
    lines.push(
      `${last ? "  " : "│ "}    ${v.toolName}${delta}${duration}${lineCount}  ${v.createdAt}${
        v.reason ? `  — ${v.reason}` : ""
      }`,
    );
  });
  return lines.join("\n");
}

/**
 * Renders the ancestry of a pattern as an indented tree (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderAncestry } from "./lineage.ts";
 * const text = renderAncestry({ pattern_id: "b", appears_in: [], ancestry: [
 *   { child: "b", parent: "a", depth: 1, edge_type: "modified_from", transformation_type: "bugfix" },
 * ] });
 * assert.match(text, /^b$/m);
 * assert.match(text, /modified_from \(bugfix\) a/);
 * ```
 */
export function renderAncestry(lineage: PatternLineageJson): string {
  const parents = new Map<string, PatternLineageJson["ancestry"]>();
  for (const edge of lineage.ancestry) {
    const list = parents.get(edge.child) ?? [];
    list.push(edge);
    parents.set(edge.child, list);
  }
  const out = [lineage.pattern_id];
  for (const place of lineage.appears_in) out[0] += `\n  in ${place.file_path} (v${place.version})`;
  const seen = new Set<string>([lineage.pattern_id]);
  const walk = (id: string, indent: string) => {
    const edges = parents.get(id) ?? [];
    edges.forEach((edge, i) => {
      const last = i === edges.length - 1;
      const label = `${edge.edge_type}${
        edge.transformation_type ? ` (${edge.transformation_type})` : ""
      }`;
      const cycle = seen.has(edge.parent);
      out.push(
        `${indent}${last ? "└─" : "├─"} ${label} ${edge.parent}${cycle ? " (seen above)" : ""}`,
      );
      if (!cycle) {
        seen.add(edge.parent);
        walk(edge.parent, indent + (last ? "   " : "│  "));
      }
    });
  };
  walk(lineage.pattern_id, "");
  return out.join("\n");
}

/** What the user asked for: a file or a pattern. */
export type LineageTarget =
  | { kind: "file"; filePath: string }
  | { kind: "pattern"; patternId: string }
  | { kind: "ambiguous"; candidates: string[] }
  | { kind: "unknown" };

/** A tracked file the user named, or why none. */
export type FileTarget = Extract<LineageTarget, { kind: "file" | "ambiguous" | "unknown" }>;

/**
 * Resolves the argument of `lineage`: an exact or trailing file path, or a (prefix of a) pattern ID.
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
 * import { resolveLineageTarget } from "./lineage.ts";
 * assert.deepEqual(resolveLineageTarget(store, "app.py", "/elsewhere"), { kind: "file", filePath: "/p/app.py" });
 * assert.equal(resolveLineageTarget(store, "nothing.rs", "/elsewhere").kind, "unknown");
 * store.close();
 * ```
 */
export function resolveLineageTarget(store: Store, arg: string, cwd: string): LineageTarget {
  const exact = exactFile(store, arg, cwd);
  if (exact !== null) return { kind: "file", filePath: exact };
  if (/^[0-9a-f]{4,16}$/.test(arg)) {
    const ids = store.patternIdsStartingWith(arg);
    if (ids.length === 1) return { kind: "pattern", patternId: ids[0] as string };
    if (ids.length > 1) return { kind: "ambiguous", candidates: ids };
  }
  return fileBySuffix(store, arg);
}

/**
 * Resolves a file argument as `lineage` does, files only: the full path, a path relative to `cwd`,
 * or the end of a tracked path (a file name).
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
 * import { resolveTrackedFile } from "./lineage.ts";
 * assert.deepEqual(resolveTrackedFile(store, "app.py", "/elsewhere"), { kind: "file", filePath: "/p/app.py" });
 * store.close();
 * ```
 */
export function resolveTrackedFile(store: Store, arg: string, cwd: string): FileTarget {
  const exact = exactFile(store, arg, cwd);
  return exact !== null ? { kind: "file", filePath: exact } : fileBySuffix(store, arg);
}

/**
 * The tracked file the user named, or a {@linkcode CliError} that says why there is none (no match,
 * or several: listed).
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
 * import { requireTrackedFile } from "./lineage.ts";
 * assert.equal(requireTrackedFile(store, "/p/app.py", "/elsewhere"), "/p/app.py");
 * assert.throws(() => requireTrackedFile(store, "other.py", "/elsewhere"), { name: "CliError" });
 * store.close();
 * ```
 */
export function requireTrackedFile(store: Store, arg: string, cwd: string): string {
  const target = resolveTrackedFile(store, arg, cwd);
  switch (target.kind) {
    case "file":
      return target.filePath;
    case "ambiguous":
      throw new CliError(
        `"${arg}" matches ${target.candidates.length} tracked files; be more specific:\n  ${
          target.candidates.join("\n  ")
        }`,
      );
    case "unknown":
      throw new CliError(
        `no tracked file matches "${arg}" in the store ${store.path} (give its full path, a path relative to here, or its name). "tracker.ts status" shows what is recorded.`,
      );
    default: {
      const unreachable: never = target;
      throw new CliError(`unexpected ${JSON.stringify(unreachable)}`);
    }
  }
}

function exactFile(store: Store, arg: string, cwd: string): string | null {
  const absolute = arg.startsWith("/")
    ? arg
    : `${cwd.replace(/\/+$/, "")}/${arg.replace(/^\.\//, "")}`;
  for (const candidate of [arg, absolute]) {
    if (store.latestVersion(candidate)) return candidate;
  }
  return null;
}

function fileBySuffix(store: Store, arg: string): FileTarget {
  const files = store.filesEndingWith(arg.replace(/^\.\//, ""));
  if (files.length === 1) return { kind: "file", filePath: files[0] as string };
  if (files.length > 1) return { kind: "ambiguous", candidates: files };
  return { kind: "unknown" };
}

/**
 * A pattern's lineage from the store.
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
 * import { patternLineage } from "./lineage.ts";
 * const [first, second] = store.fileHistory("/p/app.py");
 * const lineage = patternLineage(store, second!.patternId);
 * assert.deepEqual(lineage.ancestry.map((e) => [e.child, e.parent]), [[second!.patternId, first!.patternId]]);
 * store.close();
 * ```
 */
export function patternLineage(store: Store, patternId: string): PatternLineageJson {
  return {
    pattern_id: patternId,
    appears_in: store.versionsOfPattern(patternId).map((v) => ({
      file_path: v.filePath,
      version: v.version,
    })),
    ancestry: store.ancestry(patternId).map((e) => ({
      child: e.child,
      parent: e.parent,
      depth: e.depth,
      edge_type: e.edgeType,
      transformation_type: e.transformationType,
    })),
  };
}
