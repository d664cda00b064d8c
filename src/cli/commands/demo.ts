/**
 * `demo`: replays a captured Claude Code session through the hooks and prints its lineage.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** The `demo` command. */
export const demo = defineCommand({
  name: "demo",
  synopsis: "",
  summary: "Replay a bundled real Claude Code session through the hooks and print its lineage",
  options: {},
  positionals: true,
  parse: ({ positionals }) => {
    if (positionals.length > 0) {
      throw new CliError(`demo takes no arguments, got "${positionals[0]}"`, USAGE_EXIT);
    }
    return null;
  },
  run: async () => (await import("../demo.ts")).demoCommand(),
});
