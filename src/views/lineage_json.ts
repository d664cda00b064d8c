/**
 * The JSON shapes of `lineage --json` (a file's versions, a pattern's ancestry): what the CLI
 * prints and what the graphs (`graph.ts`) draw. Types only.
 *
 * @module
 */

/** JSON shape of a file's lineage (`lineage FILE --json`). */
export interface FileLineageJson {
  file_path: string;
  versions: {
    version: number;
    pattern_id: string;
    parent_pattern_id: string | null;
    event_type: string;
    transformation_type: string | null;
    tool_name: string;
    tool_use_id: string | null;
    session_id: string | null;
    created_at: string;
    reason: string | null;
    line_count: number | null;
    lines_added: number | null;
    lines_removed: number | null;
    duration_ms: number | null;
    success: boolean | null;
  }[];
}

/** JSON shape of a pattern's lineage (`lineage ID --json`). */
export interface PatternLineageJson {
  pattern_id: string;
  appears_in: { file_path: string; version: number }[];
  ancestry: {
    child: string;
    parent: string;
    depth: number;
    edge_type: string;
    transformation_type: string | null;
  }[];
}
