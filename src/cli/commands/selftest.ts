/**
 * `selftest`: checks configuration, IDs, store and service, one line each.
 *
 * @module
 */

import { defineCommand } from "../command.ts";

/** The `selftest` command. */
export const selftest = defineCommand({
  name: "selftest",
  synopsis: "",
  summary: "Check configuration, IDs, store and service, one line each",
  options: {},
  parse: () => null,
  run: async () => (await import("../selftest.ts")).selftestCommand(),
});
