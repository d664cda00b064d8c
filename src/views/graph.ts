/**
 * Lineage as graphs people can look at: Mermaid and Graphviz DOT, from a file's versions or a
 * pattern's ancestry. Pure functions.
 *
 * @module
 */

import type { PatternLineageJson } from "./lineage_json.ts";
import type { VersionWithMetrics } from "../store/mod.ts";

/**
 * Label of a version node: version, short ID, tool, lines ±, time.
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
 * import { versionLabel } from "./graph.ts";
 * const [, second] = store.fileHistory("/p/app.py");
 * const label = versionLabel(second!);
 * assert.equal(label[0], `v2 ${second!.patternId.slice(0, 8)}`);
 * assert.match(label[1]!, /^Edit \+1 -1/);
 * store.close();
 * ```
 */
export function versionLabel(v: VersionWithMetrics): string[] {
  const delta = v.linesAdded === null ? "" : ` +${v.linesAdded} -${v.linesRemoved ?? 0}`;
  return [
    `v${v.version} ${v.patternId.slice(0, 8)}`,
    `${v.toolName}${delta}`,
    v.createdAt.replace("T", " ").slice(0, 19),
  ];
}

function mermaidText(s: string): string {
  // Mermaid labels are quoted; quotes and angle brackets become entities so no label can break out.
  return s.replace(/&/g, "#amp;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(
    />/g,
    "#gt;",
  );
}

/**
 * A file's evolution as a Mermaid flowchart, oldest at the top; edges carry the transformation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderMermaid } from "./graph.ts";
 * assert.deepEqual(renderMermaid("/p/a.py", []), 'flowchart TD\n  title["/p/a.py (0 versions)"]');
 * ```
 */
export function renderMermaid(filePath: string, versions: readonly VersionWithMetrics[]): string {
  const lines = [
    "flowchart TD",
    `  title["${mermaidText(`${filePath} (${versions.length} versions)`)}"]`,
  ];
  const idOf = new Map<string, string>();
  versions.forEach((v, i) => {
    const node = `v${v.version}`;
    lines.push(`  ${node}["${versionLabel(v).map(mermaidText).join("<br/>")}"]`);
    if (i === 0) lines.push(`  title --- ${node}`);
    if (v.parentPatternId) {
      const parent = idOf.get(v.parentPatternId);
      if (parent) {
        lines.push(`  ${parent} -->|${mermaidText(v.transformationType ?? "modified")}| ${node}`);
      }
    }
    idOf.set(v.patternId, node);
  });
  return lines.join("\n");
}

function dotString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}

/**
 * A file's evolution as a Graphviz DOT digraph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDot } from "./graph.ts";
 * assert.deepEqual(renderDot("/p/a.py", []).startsWith("digraph lineage {"), true);
 * ```
 */
export function renderDot(filePath: string, versions: readonly VersionWithMetrics[]): string {
  const lines = [
    "digraph lineage {",
    `  label=${dotString(`${filePath} (${versions.length} versions)`)};`,
    "  labelloc=t;",
    '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  const idOf = new Map<string, string>();
  for (const v of versions) {
    const node = `v${v.version}`;
    lines.push(`  ${node} [label=${dotString(versionLabel(v).join("\n"))}];`);
    if (v.parentPatternId) {
      const parent = idOf.get(v.parentPatternId);
      if (parent) {
        lines.push(
          `  ${parent} -> ${node} [label=${dotString(v.transformationType ?? "modified")}];`,
        );
      }
    }
    idOf.set(v.patternId, node);
  }
  lines.push("}");
  return lines.join("\n");
}

/**
 * A pattern's ancestry as Mermaid (child at the bottom, parents above).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderAncestryMermaid } from "./graph.ts";
 * const text = renderAncestryMermaid({ pattern_id: "b", appears_in: [], ancestry: [
 *   { child: "b", parent: "a", depth: 1, edge_type: "modified_from", transformation_type: "bugfix" },
 * ] });
 * assert.equal(text, 'flowchart BT\n  p_b["b"]\n  p_a["a"]\n  p_b -->|modified_from bugfix| p_a');
 * ```
 */
export function renderAncestryMermaid(lineage: PatternLineageJson): string {
  const lines = ["flowchart BT", `  p_${lineage.pattern_id}["${mermaidText(lineage.pattern_id)}"]`];
  const seen = new Set([lineage.pattern_id]);
  for (const e of lineage.ancestry) {
    if (!seen.has(e.parent)) {
      lines.push(`  p_${e.parent}["${mermaidText(e.parent)}"]`);
      seen.add(e.parent);
    }
    lines.push(
      `  p_${e.child} -->|${
        mermaidText(`${e.edge_type}${e.transformation_type ? ` ${e.transformation_type}` : ""}`)
      }| p_${e.parent}`,
    );
  }
  return lines.join("\n");
}

/**
 * A pattern's ancestry as DOT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderAncestryDot } from "./graph.ts";
 * assert.deepEqual(renderAncestryDot({ pattern_id: "b", appears_in: [], ancestry: [] }), 'digraph ancestry {\n  "b";\n}');
 * ```
 */
export function renderAncestryDot(lineage: PatternLineageJson): string {
  const lines = ["digraph ancestry {", `  ${dotString(lineage.pattern_id)};`];
  for (const e of lineage.ancestry) {
    const label = `${e.edge_type}${e.transformation_type ? ` (${e.transformation_type})` : ""}`;
    lines.push(`  ${dotString(e.child)} -> ${dotString(e.parent)} [label=${dotString(label)}];`);
  }
  lines.push("}");
  return lines.join("\n");
}
