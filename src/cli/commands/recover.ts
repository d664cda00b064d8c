/**
 * `recover FILE [--json]`: copies every readable row of a moved-aside corrupt store into the
 * current one.
 *
 * @module
 */

import { defineCommand } from "../command.ts";

/** What `recover` was asked: the file, or null when not exactly one was given (then it lists). */
export interface RecoverRequest {
  file: string | null;
  json: boolean;
}

/** The `recover` command. */
export const recover = defineCommand({
  name: "recover",
  synopsis: "FILE [--json]",
  summary: "Copy every readable row of a moved-aside corrupt store into the current one",
  options: { json: { type: "boolean", help: "the report as JSON" } },
  positionals: true,
  parse: ({ values, positionals }): RecoverRequest => ({
    file: positionals.length === 1 ? positionals[0]! : null,
    json: values.json === true,
  }),
  run: async (request) => (await import("../recover.ts")).recoverCommand(request),
});
