/**
 * `import FILE [--queue]`: reads an export back, without duplicates.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** What `import` was asked. */
export interface ImportRequest {
  file: string;
  queue: boolean;
}

/** The `import` command. */
export const importCommand = defineCommand({
  name: "import",
  synopsis: "FILE [--queue]",
  summary: "Read an export back, without duplicates (--queue: deliver it too)",
  options: { queue: { type: "boolean", help: "queue what was imported for delivery" } },
  positionals: true,
  parse: ({ values, positionals }): ImportRequest => {
    const file = positionals[0];
    if (!file || positionals.length > 1) {
      throw new CliError(
        "import takes the export file, e.g. tracker.ts import patterns.jsonl",
        USAGE_EXIT,
      );
    }
    return { file, queue: values.queue === true };
  },
  run: async (request) => (await import("../views.ts")).importCommand(request),
});
