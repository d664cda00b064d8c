/**
 * `status [--json]`: store counts, outbox depth, dead letters, last error, data directory.
 *
 * @module
 */

import { defineCommand } from "../command.ts";

/** What `status` was asked. */
export interface StatusRequest {
  json: boolean;
}

/** The `status` command. */
export const status = defineCommand({
  name: "status",
  synopsis: "[--json]",
  summary: "Store counts, outbox depth, dead letters, last error, data dir",
  options: { json: { type: "boolean", help: "the report as JSON" } },
  parse: ({ values }): StatusRequest => ({ json: values.json === true }),
  run: async (request) => (await import("../status_command.ts")).statusCommand(request),
});
