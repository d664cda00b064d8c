/**
 * `report [--session ID | --file PATH] [--code] [--out FILE]`: the self-contained HTML page.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** What `report` was asked. */
export interface ReportRequest {
  session: string | undefined;
  file: string | undefined;
  code: boolean;
  out: string;
}

/** The `report` command. */
export const report = defineCommand({
  name: "report",
  synopsis: "[--session ID | --file PATH] [--code] [--out FILE]",
  summary: "A self-contained HTML page: files, lineage graphs, execution metrics",
  options: {
    session: { type: "string", value: "ID", help: "one session only" },
    file: { type: "string", value: "PATH", help: "one file only" },
    code: { type: "boolean", help: "include the code of each version" },
    out: { type: "string", value: "FILE", help: "where (default pattern-tracker-report.html)" },
  },
  parse: ({ values }): ReportRequest => {
    if (values.session !== undefined && values.file !== undefined) {
      throw new CliError("report takes --session ID or --file PATH, not both", USAGE_EXIT);
    }
    return {
      session: values.session,
      file: values.file,
      code: values.code === true,
      out: values.out ?? "pattern-tracker-report.html",
    };
  },
  run: async (request) => (await import("../views.ts")).reportCommand(request),
});
