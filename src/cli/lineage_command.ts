/**
 * Runs `lineage`: the chain of versions of a file, or the ancestry of a pattern, in the format
 * asked (`src/views/graph.ts` draws Mermaid and DOT, loaded only for those).
 *
 * @module
 */

import { loadConfig } from "../config/mod.ts";
import { openAndReplay } from "../record/spill.ts";
import { classifyBeforeShowing } from "../record/version_transformations.ts";
import type { LineageFormat, LineageRequest } from "./commands/lineage.ts";
import { CliError } from "./errors.ts";
import {
  fileLineageJson,
  patternLineage,
  renderAncestry,
  renderFileLineage,
  resolveLineageTarget,
} from "./lineage.ts";

/**
 * Runs `lineage`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { lineageCommand } from "./lineage_command.ts";
 * await assert.rejects(lineageCommand({ target: "app.py", format: "text" }), /no tracked file/);
 * ```
 */
export async function lineageCommand(request: LineageRequest): Promise<number> {
  const { target, format } = request;
  const { config } = await loadConfig();
  const { store } = openAndReplay(config);
  try {
    const resolved = resolveLineageTarget(store, target, Deno.cwd());
    switch (resolved.kind) {
      case "file": {
        classifyBeforeShowing(store, { filePath: resolved.filePath });
        const history = store.fileHistory(resolved.filePath);
        console.log(
          await renderIn(format, {
            text: () => renderFileLineage(resolved.filePath, history),
            json: () => JSON.stringify(fileLineageJson(resolved.filePath, history), null, 2),
            mermaid: (graph) => graph.renderMermaid(resolved.filePath, history),
            dot: (graph) => graph.renderDot(resolved.filePath, history),
          }),
        );
        return 0;
      }
      case "pattern": {
        classifyBeforeShowing(store);
        const result = patternLineage(store, resolved.patternId);
        console.log(
          await renderIn(format, {
            text: () => renderAncestry(result),
            json: () => JSON.stringify(result, null, 2),
            mermaid: (graph) => graph.renderAncestryMermaid(result),
            dot: (graph) => graph.renderAncestryDot(result),
          }),
        );
        return 0;
      }
      case "ambiguous":
        throw new CliError(
          `"${target}" matches ${resolved.candidates.length} entries; be more specific:\n  ${
            resolved.candidates.join("\n  ")
          }`,
        );
      case "unknown":
        throw new CliError(
          `no tracked file or pattern matches "${target}" in the store ${store.path}. "tracker.ts status" shows what is recorded.`,
        );
      default: {
        const unreachable: never = resolved;
        throw new CliError(`unexpected ${JSON.stringify(unreachable)}`);
      }
    }
  } finally {
    store.close();
  }
}

type Graphs = typeof import("../views/graph.ts");

/** Renders in one format; the graphs' module is loaded only for the two diagram formats. */
async function renderIn(
  format: LineageFormat,
  render: {
    text: () => string;
    json: () => string;
    mermaid: (graph: Graphs) => string;
    dot: (graph: Graphs) => string;
  },
): Promise<string> {
  switch (format) {
    case "text":
      return render.text();
    case "json":
      return render.json();
    case "mermaid":
      return render.mermaid(await import("../views/graph.ts"));
    case "dot":
      return render.dot(await import("../views/graph.ts"));
    default: {
      const unreachable: never = format;
      throw new Error(`unknown format ${unreachable}`);
    }
  }
}
