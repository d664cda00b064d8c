/**
 * `install` and `uninstall`: our hooks in Claude Code's settings.json.
 *
 * @module
 */

import { defineCommand } from "../command.ts";
import { CliError, USAGE_EXIT } from "../errors.ts";

/** What `install` was asked. */
export interface InstallRequest {
  settings: string | undefined;
  deno: string | undefined;
  noBundle: boolean;
  compiled: boolean;
  hooksDir: string | undefined;
}

const SETTINGS_OPTION = {
  type: "string",
  value: "PATH",
  help: "the settings.json to change (default ~/.claude/settings.json)",
} as const;

/** The `install` command. */
export const install = defineCommand({
  name: "install",
  synopsis: "[--settings PATH] [--deno PATH] [--no-bundle | --compiled [--hooks-dir DIR]]",
  summary: "Add the hooks to Claude Code's settings.json (default ~/.claude/settings.json),",
  details: [
    "run by hooks/pattern-tracker.sh with a Deno that lasts (--deno: this one),",
    "bundled into build/ for a faster start (--no-bundle: run the .ts scripts);",
    "--compiled copies the binaries from dist/ to ~/.claude/hooks and uses them",
  ],
  options: {
    settings: SETTINGS_OPTION,
    deno: { type: "string", value: "PATH", help: "the Deno the hooks run with" },
    "no-bundle": { type: "boolean", help: "run the .ts scripts, not a bundle in build/" },
    compiled: { type: "boolean", help: "use the binaries of deno task compile" },
    "hooks-dir": {
      type: "string",
      value: "DIR",
      help: "where --compiled copies them (default ~/.claude/hooks)",
    },
  },
  parse: ({ values }): InstallRequest => {
    if (values.compiled && values["no-bundle"]) {
      throw new CliError("install takes --no-bundle or --compiled, not both", USAGE_EXIT);
    }
    return {
      settings: values.settings,
      deno: values.deno,
      noBundle: values["no-bundle"] === true,
      compiled: values.compiled === true,
      hooksDir: values["hooks-dir"],
    };
  },
  run: async (request) => (await import("../install_command.ts")).installCommand(request),
});

/** What `uninstall` was asked. */
export interface UninstallRequest {
  settings: string | undefined;
}

/** The `uninstall` command. */
export const uninstall = defineCommand({
  name: "uninstall",
  synopsis: "[--settings PATH]",
  summary: "Remove only our hook entries",
  options: { settings: SETTINGS_OPTION },
  parse: ({ values }): UninstallRequest => ({ settings: values.settings }),
  run: async (request) => (await import("../install_command.ts")).uninstallCommand(request),
});
