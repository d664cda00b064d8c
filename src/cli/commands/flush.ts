/**
 * `flush [--retry-dead] [--json]`: delivers the outbox to the Phase 4 API now. `--background` is
 * how a hook starts the detached flusher (not for people; not in the help).
 *
 * @module
 */

import { defineCommand } from "../command.ts";

/** What `flush` was asked. */
export interface FlushRequest {
  retryDead: boolean;
  background: boolean;
  json: boolean;
}

/** The `flush` command. */
export const flush = defineCommand({
  name: "flush",
  synopsis: "[--retry-dead] [--json]",
  summary: "Deliver the outbox to the Phase 4 API now; report sent, skipped, left",
  options: {
    "retry-dead": { type: "boolean", help: "put the dead letters back in the outbox first" },
    json: { type: "boolean", help: "the report as JSON" },
    background: { type: "boolean", help: "the detached flusher a hook starts (quiet)" },
  },
  parse: ({ values }): FlushRequest => ({
    retryDead: values["retry-dead"] === true,
    background: values.background === true,
    json: values.json === true,
  }),
  run: async (request) => (await import("../flush_command.ts")).flushCommand(request),
});
