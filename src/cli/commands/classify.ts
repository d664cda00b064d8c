/**
 * `classify [--explain]`: JSON lines `{before, after, intent?}` on stdin, a transformation type out.
 *
 * @module
 */

import { defineCommand } from "../command.ts";

/** What `classify` was asked. */
export interface ClassifyRequest {
  explain: boolean;
}

/** The `classify` command. */
export const classify = defineCommand({
  name: "classify",
  synopsis: "[--explain]",
  summary: "JSON lines {before, after, intent?} on stdin -> {transformation_type} lines",
  options: { explain: { type: "boolean", help: "with the scores behind each answer" } },
  parse: ({ values }): ClassifyRequest => ({ explain: values.explain === true }),
  run: async (request) => (await import("../classify.ts")).classifyCommand(request),
});
