/**
 * `lineage <file|pattern-id>`: the chain of versions of a file, or the ancestry of a pattern, as
 * text, JSON, Mermaid or DOT.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** The output formats of `lineage`, the default first. */
export const LINEAGE_FORMATS = ["text", "json", "mermaid", "dot"] as const;

/** One output format of `lineage`. */
export type LineageFormat = typeof LINEAGE_FORMATS[number];

/** What `lineage` was asked. */
export interface LineageRequest {
  target: string;
  format: LineageFormat;
}

/** The `lineage` command. */
export const lineage = defineCommand({
  name: "lineage",
  synopsis: `<file|pattern-id> [--json | --format ${LINEAGE_FORMATS.join("|")}]`,
  summary: "The chain of versions of a file, or the ancestry of a pattern",
  options: {
    json: { type: "boolean", help: "the same as --format json" },
    format: { type: "string", value: "FORMAT", help: `one of ${LINEAGE_FORMATS.join(", ")}` },
  },
  positionals: true,
  parse: ({ values, positionals }): LineageRequest => {
    const format = values.format ?? (values.json ? "json" : "text");
    if (!isLineageFormat(format)) {
      throw new CliError(
        `--format must be ${LINEAGE_FORMATS.slice(0, -1).join(", ")} or ${
          LINEAGE_FORMATS.at(-1)
        }, got "${format}"`,
        USAGE_EXIT,
      );
    }
    const target = positionals[0];
    if (!target || positionals.length > 1) {
      throw new CliError(
        "lineage takes one file path or pattern ID, e.g. tracker.ts lineage src/app.py",
        USAGE_EXIT,
      );
    }
    return { target, format };
  },
  run: async (request) => (await import("../lineage_command.ts")).lineageCommand(request),
});

function isLineageFormat(text: string): text is LineageFormat {
  return (LINEAGE_FORMATS as readonly string[]).includes(text);
}
