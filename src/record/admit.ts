/**
 * The first links of the recording chain, before the store is touched: is recording enabled, and
 * do the path rules admit the file — relative to the project root (`CLAUDE_PROJECT_DIR`, else the
 * payload's `cwd`) for a file inside it (see `path_rules.ts`). Every input passes here: hooks,
 * the library, import.
 *
 * @module
 */

import { checkPath, projectDirFromEnv } from "./path_rules.ts";
import type { RecordRules, TrackInput } from "./records.ts";

/** Whether an input is recorded at all: the first two links of the chain. */
export type Admission =
  | { kind: "disabled" }
  | { kind: "excluded"; filePath: string }
  /** A file path that is not a file's (empty, relative, a directory…): logged, never stored. */
  | { kind: "refused"; reason: string; toolUseId: string | null }
  | { kind: "admitted" };

/**
 * Enabled → path rules: whether an input is recorded at all (synchronous, so a hook knows before
 * it opens the store). The one place the path rules are asked: relative to the project root
 * (`CLAUDE_PROJECT_DIR`, else the payload's `cwd`) for a file inside it (see `path_rules.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { admit } from "./admit.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const decision = admit(defaultConfig("/h"), {
 *   kind: "intent", hookEvent: "PreToolUse", toolName: "Write", toolUseId: "t", sessionId: "s",
 *   cwd: "/p", filePath: "/p/.env", contentAfter: "K=v\n",
 * });
 * assert.equal(decision.kind, "excluded");
 * ```
 */
export function admit(rules: RecordRules, input: TrackInput): Admission {
  if (!rules.enabled) return { kind: "disabled" };
  const target = targetOf(input);
  if (target === null) return { kind: "admitted" };
  // `cwd` is null for an export's records and library calls: then CLAUDE_PROJECT_DIR, if set, is
  // the root, else rules see the absolute path.
  const decision = checkPath(
    target.filePath,
    { include: rules.includePaths, exclude: rules.excludePaths },
    { cwd: target.cwd, projectDir: projectDirFromEnv() },
  );
  switch (decision.kind) {
    case "tracked":
      return { kind: "admitted" };
    case "excluded":
    case "not_included":
      return { kind: "excluded", filePath: target.filePath };
    case "refused":
      return { kind: "refused", reason: decision.reason, toolUseId: toolUseIdOf(input) };
    default: {
      const unreachable: never = decision;
      throw new Error(`unhandled path decision ${JSON.stringify(unreachable)}`);
    }
  }
}

function toolUseIdOf(input: TrackInput): string | null {
  switch (input.kind) {
    case "intent":
    case "failure":
    case "change":
      return input.toolUseId;
    case "imported_version":
      return input.version.toolUseId;
    case "imported_execution":
      return input.execution.toolUseId;
    case "imported_edge":
      return null;
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The file an input writes, and the project it was written in (the payload's `cwd`). */
function targetOf(input: TrackInput): { filePath: string; cwd: string | null } | null {
  switch (input.kind) {
    case "intent":
    case "failure":
    case "change":
      return { filePath: input.filePath, cwd: input.cwd };
    case "imported_version":
      return { filePath: input.version.filePath, cwd: null };
    case "imported_execution":
      return input.execution.filePath === null
        ? null
        : { filePath: input.execution.filePath, cwd: null };
    case "imported_edge":
      return input.edge.filePath === null ? null : { filePath: input.edge.filePath, cwd: null };
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${JSON.stringify(unreachable)}`);
    }
  }
}
