/**
 * What a command of `tracker.ts` declares (its name, summary, synopsis, options), the parser every
 * command reads its command line with (node:util `parseArgs`, a wrong command line a
 * {@linkcode CliError} with exit 2), and the help generated from the declarations. Each command is
 * one file under `src/cli/commands/`; `src/cli/registry.ts` lists them.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CliError, USAGE_EXIT } from "./errors.ts";

/** One option of a command: its parseArgs type, and a line of help. */
export interface OptionSpec {
  type: "boolean" | "string";
  /** Shown after the option in help, for a string option (e.g. `PATH`). */
  value?: string;
  help: string;
}

/** A command's options by long name (without the dashes). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The values parseArgs gives for declared options: a boolean or a string, or absent. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

/** A command line read against a command's options. */
export interface CommandLine<O extends OptionSpecs> {
  values: OptionValues<O>;
  positionals: string[];
}

/**
 * A command as declared in its file: `parse` reads the command line into a typed request (pure;
 * throws {@linkcode CliError} with exit 2), `run` carries it out and returns the exit code. `run`
 * loads what it needs on demand, so that listing the commands loads none of their work.
 */
export interface CommandSpec<O extends OptionSpecs, Request> {
  name: string;
  /** The arguments after the name, as in `tracker.ts <name> <synopsis>`. */
  synopsis: string;
  /** One line: what the command does. */
  summary: string;
  /** More lines for `help` (indented under the summary). */
  details?: readonly string[];
  options: O;
  /** Whether the command takes positional arguments. */
  positionals?: boolean;
  parse(line: CommandLine<O>): Request;
  run(request: Request): Promise<number>;
}

/** A declared command with its request type hidden: what the registry holds. */
export interface Command {
  name: string;
  synopsis: string;
  summary: string;
  details: readonly string[];
  options: OptionSpecs;
  /** Parses `args` (throws {@linkcode CliError} exit 2 on a wrong command line) and runs. */
  main(args: readonly string[]): Promise<number>;
}

/** A declared command that still knows its request type: `request` is its pure parser of argv. */
export interface DeclaredCommand<Request> extends Command {
  /** Reads `args` into the request (pure; throws {@linkcode CliError} exit 2). */
  request(args: readonly string[]): Request;
}

/**
 * Declares a command: binds its parser and its executor, so that the registry can hold commands
 * of different request types.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineCommand } from "./command.ts";
 * const echo = defineCommand({
 *   name: "echo",
 *   synopsis: "[--loud] WORD",
 *   summary: "Says a word",
 *   options: { loud: { type: "boolean", help: "in capitals" } },
 *   positionals: true,
 *   parse: ({ values, positionals }) => ({ word: positionals[0] ?? "", loud: values.loud === true }),
 *   run: (r) => Promise.resolve(r.loud && r.word !== "" ? 0 : 1),
 * });
 * assert.deepEqual(echo.request(["hi"]), { word: "hi", loud: false });
 * assert.equal(await echo.main(["--loud", "hi"]), 0);
 * await assert.rejects(echo.main(["--quiet"]), { name: "CliError", exitCode: 2 });
 * ```
 */
export function defineCommand<const O extends OptionSpecs, Request>(
  spec: CommandSpec<O, Request>,
): DeclaredCommand<Request> {
  const request = (args: readonly string[]) =>
    spec.parse(readCommandLine(spec.name, spec.options, args, spec.positionals ?? false));
  return {
    name: spec.name,
    synopsis: spec.synopsis,
    summary: spec.summary,
    details: spec.details ?? [],
    options: spec.options,
    request,
    main: async (args) => await spec.run(request(args)),
  };
}

/**
 * Reads a command line against declared options (pure): an unknown option, a missing or
 * unexpected value, or a stray argument is a {@linkcode CliError} with exit 2 that names the
 * command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCommandLine } from "./command.ts";
 * const options = { json: { type: "boolean", help: "JSON" } } as const;
 * assert.deepEqual(readCommandLine("status", options, ["--json"], false).values, { json: true });
 * assert.throws(() => readCommandLine("status", options, ["--nope"], false), {
 *   message: `Unknown option '--nope' for status. Run "tracker.ts help" for the options.`,
 *   exitCode: 2,
 * });
 * ```
 */
export function readCommandLine<O extends OptionSpecs>(
  command: string,
  options: O,
  args: readonly string[],
  positionals: boolean,
): CommandLine<O> {
  const config: Record<string, { type: "boolean" | "string" }> = {};
  for (const [name, spec] of Object.entries(options)) config[name] = { type: spec.type };
  try {
    const line = parseArgs({
      args: [...args],
      options: config,
      allowPositionals: positionals,
      strict: true,
    });
    // parseArgs gives a null-prototype object: a plain one compares and prints as expected.
    return { values: { ...line.values } as OptionValues<O>, positionals: line.positionals };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      // Its first sentence (the rest tells how to pass a positional starting with "-").
      const message = (error as Error).message.split("\n")[0]!.replace(/\.( .*)?$/, "");
      throw new CliError(
        `${message} for ${command}. Run "tracker.ts help" for the options.`,
        USAGE_EXIT,
      );
    }
    throw error;
  }
}

/** Width of the first column of help (the command with its synopsis). */
const HELP_COLUMN = 30;

/**
 * The list of commands, generated from their declarations (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineCommand, renderHelp } from "./command.ts";
 * const help = renderHelp([defineCommand({
 *   name: "status", synopsis: "[--json]", summary: "Store counts", options: {},
 *   parse: () => null, run: () => Promise.resolve(0),
 * })]);
 * assert.match(help, /^  status \[--json\] +Store counts$/m);
 * ```
 */
export function renderHelp(commands: readonly Command[]): string {
  const lines = [
    "Pattern Tracker — records the code Claude Code writes as patterns with lineage.",
    "",
    "Usage: tracker.ts <command> [options]      tracker.ts <command> --help: its options",
    "",
    "Commands:",
  ];
  const indent = " ".repeat(HELP_COLUMN + 2);
  for (const c of commands) {
    const head = `  ${c.name}${c.synopsis ? ` ${c.synopsis}` : ""}`;
    if (head.length < HELP_COLUMN + 2) lines.push(`${head.padEnd(HELP_COLUMN + 2)}${c.summary}`);
    else lines.push(head, `${indent}${c.summary}`);
    for (const d of c.details) lines.push(`${indent}${d}`);
  }
  lines.push(
    `${"  help [command]".padEnd(HELP_COLUMN + 2)}This text, or one command's options`,
    "",
    "Configuration: environment (PATTERN_TRACKER_*) > config.yaml > defaults; see README.md.",
  );
  return lines.join("\n");
}

/**
 * One command's help, generated from its declaration (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineCommand, renderCommandHelp } from "./command.ts";
 * const help = renderCommandHelp(defineCommand({
 *   name: "export", synopsis: "[--out FILE]", summary: "The store as JSON lines",
 *   options: { out: { type: "string", value: "FILE", help: "write here, not to stdout" } },
 *   parse: () => null, run: () => Promise.resolve(0),
 * }));
 * assert.match(help, /^Usage: tracker\.ts export \[--out FILE\]$/m);
 * assert.match(help, /^  --out FILE +write here, not to stdout$/m);
 * ```
 */
export function renderCommandHelp(c: Command): string {
  const lines = [`Usage: tracker.ts ${c.name}${c.synopsis ? ` ${c.synopsis}` : ""}`, ""];
  lines.push(c.summary, ...c.details);
  const options = Object.entries(c.options);
  if (options.length > 0) {
    lines.push("", "Options:");
    const heads = options.map(([name, o]) => `  --${name}${o.value ? ` ${o.value}` : ""}`);
    const width = Math.max(...heads.map((h) => h.length)) + 2;
    options.forEach(([, o], i) => lines.push(`${heads[i]!.padEnd(width)}${o.help}`));
  }
  return lines.join("\n");
}
