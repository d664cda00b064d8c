/**
 * `export [--format jsonl|agent-trace] [--out FILE]`: the store as JSON lines for other tools.
 *
 * @module
 */

import { EXPORT_FORMATS, type ExportFormat } from "../../views/formats.ts";
import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** What `export` was asked. */
export interface ExportRequest {
  format: ExportFormat;
  out: string | undefined;
}

/** The `export` command. */
export const exportCommand = defineCommand({
  name: "export",
  synopsis: `[--format ${EXPORT_FORMATS.join("|")}] [--out FILE]`,
  summary: "The store as JSON lines (or Agent Trace records) for other tools",
  options: {
    format: { type: "string", value: "FORMAT", help: `one of ${EXPORT_FORMATS.join(", ")}` },
    out: { type: "string", value: "FILE", help: "write there, not to stdout" },
  },
  parse: ({ values }): ExportRequest => {
    const format = values.format ?? EXPORT_FORMATS[0];
    const known = EXPORT_FORMATS.find((f) => f === format);
    if (known === undefined) {
      throw new CliError(
        `--format must be ${EXPORT_FORMATS.join(" or ")}, got "${format}"`,
        USAGE_EXIT,
      );
    }
    return { format: known, out: values.out };
  },
  run: async (request) => (await import("../views.ts")).exportCommand(request),
});
