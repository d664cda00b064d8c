/**
 * The views over the store, the public face: lineage graphs (Mermaid, DOT), the HTML report,
 * export and import (JSON lines, Agent Trace), blame (who wrote each line) and stats (what became
 * of the lines Claude wrote).
 *
 * - pure: `graph.ts`, `report.ts` (rendering), `blame.ts`, `line_match.ts`, `stats.ts`,
 *   `formats.ts`, `lineage_json.ts`
 * - reading the store: `report_data.ts`, `blame_history.ts`, `stats_history.ts`, `queries.ts`,
 *   `export.ts`, `agent_trace.ts`; the file on disk: `disk_text.ts`
 *
 * Never loaded by a hook. The CLI imports the module a command needs (each on demand), not this
 * file, to keep a command's start-up to what it runs.
 *
 * @module
 */

export { renderAncestryDot, renderAncestryMermaid, renderDot, renderMermaid } from "./graph.ts";
export { renderHtmlReport } from "./report.ts";
export { gatherReportData, type ReportData, type ReportFilter } from "./report_data.ts";
export { exportRecords, importRecords, type ImportReport } from "./export.ts";
export { agentTraceRecords, toAgentTrace } from "./agent_trace.ts";
export { EXPORT_FORMATS, type ExportFormat } from "./formats.ts";
export { type Origin, ORIGINS } from "./blame.ts";
export { AttributionCarrier, blameFile, type FileBlame } from "./blame_history.ts";
export { renderStats, type Stats } from "./stats.ts";
export { gatherStats } from "./stats_history.ts";
export { allTrackedFiles, fileChain } from "./queries.ts";
export type { FileLineageJson, PatternLineageJson } from "./lineage_json.ts";
