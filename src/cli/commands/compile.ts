/**
 * `compile [--out DIR]`: standalone binaries with `deno compile`.
 *
 * @module
 */

import { defineCommand } from "../command.ts";

/** What `compile` was asked. */
export interface CompileRequest {
  out: string | undefined;
  hooksDir: string | undefined;
}

/** The `compile` command. */
export const compile = defineCommand({
  name: "compile",
  synopsis: "[--out DIR]",
  summary: "Build pattern-tracker-pre, -post, -prompt and pattern-tracker with deno compile",
  options: {
    out: { type: "string", value: "DIR", help: "where the binaries go (default dist/)" },
    "hooks-dir": {
      type: "string",
      value: "DIR",
      help: "where they will be installed (default ~/.claude/hooks)",
    },
  },
  parse: ({ values }): CompileRequest => ({ out: values.out, hooksDir: values["hooks-dir"] }),
  run: async (request) => (await import("../compile.ts")).compileCommand(request),
});
