/**
 * The names of the export formats: the one list the `export` command reads, offers and validates.
 * Pure.
 *
 * @module
 */

/** `jsonl`: our own records (the default; `import` reads them back). `agent-trace`: Agent Trace. */
export const EXPORT_FORMATS = ["jsonl", "agent-trace"] as const;

/** One export format. */
export type ExportFormat = typeof EXPORT_FORMATS[number];
