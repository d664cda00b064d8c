/**
 * Pure parsing of Claude Code hook payloads (PreToolUse, PostToolUse, PostToolUseFailure) for the
 * file-writing tools. Unknown fields are tolerated; missing or mistyped fields that we need become a
 * {@linkcode InvalidPayload} with a message that names the field.
 *
 * @module
 */

import {
  applyEdit,
  applyEdits,
  EditNotApplicableError,
  type LineDelta,
  lineDeltaFromPatch,
  type StringEdit,
} from "./pattern.ts";

/** The tools whose output is code we track. */
export const TRACKED_TOOLS = ["Write", "Edit", "MultiEdit", "NotebookEdit"] as const;
/** One of {@linkcode TRACKED_TOOLS}. */
export type TrackedTool = typeof TRACKED_TOOLS[number];

/** Fields every tracked hook event carries. */
export interface HookContext {
  hookEvent: "PreToolUse" | "PostToolUse" | "PostToolUseFailure";
  toolName: TrackedTool;
  toolUseId: string;
  /** Claude Code's session ID. */
  sessionId: string | null;
  cwd: string | null;
  /** The file the tool writes; for a notebook cell without the whole notebook, `path#cell`. */
  filePath: string;
}

/** PreToolUse: what the tool is about to do. */
export interface ToolIntent extends HookContext {
  kind: "intent";
  /** The whole new content when the input alone gives it (Write), else null. */
  contentAfter: string | null;
}

/** PostToolUse of a call that succeeded: the content before and after. */
export interface ToolChange extends HookContext {
  kind: "change";
  /** Content before: a string, `null` for a new file, `undefined` when the payload does not say. */
  before: string | null | undefined;
  after: string;
  durationMs: number | null;
  /** From `structuredPatch` when sent, else null (the caller computes it from before/after). */
  lineDelta: LineDelta | null;
  /** Short description of the edit, for the event's `reason`. */
  summary: string;
  /** True for Edit with replace_all or a MultiEdit whose edits all replace all. */
  replaceAll: boolean;
}

/** PostToolUse(Failure) of a call that failed. */
export interface ToolFailure extends HookContext {
  kind: "failure";
  error: string;
  durationMs: number | null;
}

/** A payload for a tool or event we do not track: not an error. */
export interface IgnoredPayload {
  kind: "ignored";
  reason: string;
}

/** A payload we should track but cannot read. */
export interface InvalidPayload {
  kind: "invalid";
  error: string;
  toolUseId: string | null;
}

/** What a hook payload means to the tracker. */
export type ParsedPayload = ToolIntent | ToolChange | ToolFailure | IgnoredPayload | InvalidPayload;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

class FieldError extends Error {}

function requireString(obj: Json, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== "string") {
    throw new FieldError(`${where}.${key} must be a string, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "undefined" ? "nothing" : `a ${typeof value}`;
}

function isTrackedTool(name: unknown): name is TrackedTool {
  return typeof name === "string" && (TRACKED_TOOLS as readonly string[]).includes(name);
}

/**
 * Parses the text Claude Code writes to a hook's stdin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHookPayload } from "./payload.ts";
 * const parsed = parseHookPayload(JSON.stringify({
 *   hook_event_name: "PreToolUse", tool_name: "Write", tool_use_id: "toolu_01",
 *   session_id: "s", tool_input: { file_path: "/p/a.py", content: "x = 1\n" },
 * }));
 * assert.equal(parsed.kind, "intent");
 * ```
 */
export function parseHookPayload(text: string): ParsedPayload {
  if (text.trim() === "") {
    return { kind: "invalid", error: "empty payload on stdin", toolUseId: null };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return {
      kind: "invalid",
      error: `payload is not JSON (${(error as Error).message}); first bytes: ${
        JSON.stringify(text.slice(0, 40))
      }`,
      toolUseId: null,
    };
  }
  return parseHookObject(data);
}

/**
 * Parses an already decoded hook payload; see {@linkcode parseHookPayload}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHookObject } from "./payload.ts";
 * assert.equal(parseHookObject({ hook_event_name: "PreToolUse", tool_name: "Bash" }).kind, "ignored");
 * ```
 */
export function parseHookObject(data: unknown): ParsedPayload {
  if (!isObject(data)) {
    return {
      kind: "invalid",
      error: `payload must be a JSON object, got ${describe(data)}`,
      toolUseId: null,
    };
  }
  const hookEvent = data.hook_event_name;
  if (
    hookEvent !== "PreToolUse" && hookEvent !== "PostToolUse" && hookEvent !== "PostToolUseFailure"
  ) {
    return { kind: "ignored", reason: `hook event ${JSON.stringify(hookEvent)} is not tracked` };
  }
  if (!isTrackedTool(data.tool_name)) {
    return { kind: "ignored", reason: `tool ${JSON.stringify(data.tool_name)} is not tracked` };
  }
  const toolUseId = optionalString(data.tool_use_id);
  try {
    if (!toolUseId) {
      throw new FieldError(
        `tool_use_id must be a non-empty string, got ${describe(data.tool_use_id)}`,
      );
    }
    const input = data.tool_input;
    if (!isObject(input)) {
      throw new FieldError(`tool_input must be an object, got ${describe(input)}`);
    }
    const context: HookContext = {
      hookEvent,
      toolName: data.tool_name,
      toolUseId,
      sessionId: optionalString(data.session_id),
      cwd: optionalString(data.cwd),
      filePath: targetPath(data.tool_name, input, data.tool_response),
    };
    const durationMs = typeof data.duration_ms === "number" && Number.isFinite(data.duration_ms)
      ? Math.max(0, Math.round(data.duration_ms))
      : null;
    switch (hookEvent) {
      case "PreToolUse":
        return {
          ...context,
          kind: "intent",
          contentAfter: context.toolName === "Write"
            ? requireString(input, "content", "tool_input")
            : null,
        };
      case "PostToolUseFailure":
        return { ...context, kind: "failure", error: failureText(data), durationMs };
      case "PostToolUse": {
        const response = data.tool_response;
        const reportedError = isObject(response) ? optionalString(response.error) : null;
        if (reportedError) return { ...context, kind: "failure", error: reportedError, durationMs };
        return {
          ...context,
          ...parseChange(context.toolName, input, response),
          kind: "change",
          durationMs,
        };
      }
      default: {
        const unreachable: never = hookEvent;
        throw new FieldError(`unhandled hook event ${unreachable}`);
      }
    }
  } catch (error) {
    if (error instanceof FieldError || error instanceof EditNotApplicableError) {
      return {
        kind: "invalid",
        error: `${data.tool_name} ${hookEvent}: ${error.message}`,
        toolUseId,
      };
    }
    throw error;
  }
}

function failureText(data: Json): string {
  const error = data.error;
  if (typeof error === "string" && error !== "") return error;
  if (data.is_interrupt === true) return "interrupted by the user";
  return error === undefined ? "tool call failed (no error text sent)" : JSON.stringify(error);
}

function targetPath(tool: TrackedTool, input: Json, response: unknown): string {
  if (tool !== "NotebookEdit") return requireString(input, "file_path", "tool_input");
  const notebook = requireString(input, "notebook_path", "tool_input");
  // A whole-notebook pattern needs the notebook after the edit; without it, track the cell.
  if (isObject(response) && typeof response.updated_file === "string") return notebook;
  const cell = optionalString(input.cell_id) ??
    optionalString(isObject(response) ? response.cell_id : null);
  return cell ? `${notebook}#${cell}` : notebook;
}

type ChangeFields = Pick<ToolChange, "before" | "after" | "lineDelta" | "summary" | "replaceAll">;

function parseChange(tool: TrackedTool, input: Json, response: unknown): ChangeFields {
  const res = isObject(response) ? response : {};
  const patch = Array.isArray(res.structuredPatch) ? lineDeltaFromPatch(res.structuredPatch) : null;
  switch (tool) {
    case "Write": {
      const after = typeof res.content === "string"
        ? res.content
        : requireString(input, "content", "tool_input");
      const before = res.type === "create" ? null : originalFile(res);
      const summary = before === null ? "Write (new file)" : "Write (overwrite)";
      // An overwrite's structuredPatch is exact; a create sends [] although every line is new.
      return {
        before,
        after,
        lineDelta: before === null ? null : patch,
        summary,
        replaceAll: false,
      };
    }
    case "Edit": {
      const edit = stringEdit(input, "tool_input");
      const before = requireOriginal(res, tool);
      const after = applyEdit(before, edit);
      const summary = `Edit (${
        edit.replaceAll ? "replace all" : "replace one"
      } of ${edit.oldString.length} chars)`;
      return { before, after, lineDelta: patch, summary, replaceAll: edit.replaceAll };
    }
    case "MultiEdit": {
      const rawEdits = input.edits;
      if (!Array.isArray(rawEdits) || rawEdits.length === 0) {
        throw new FieldError(
          `tool_input.edits must be a non-empty array, got ${describe(rawEdits)}`,
        );
      }
      const edits = rawEdits.map((edit, i) => {
        if (!isObject(edit)) throw new FieldError(`tool_input.edits[${i}] must be an object`);
        return stringEdit(edit, `tool_input.edits[${i}]`);
      });
      const before = requireOriginal(res, tool);
      const after = applyEdits(before, edits);
      return {
        before,
        after,
        lineDelta: patch,
        summary: `MultiEdit (${edits.length} edits)`,
        replaceAll: edits.every((e) => e.replaceAll),
      };
    }
    case "NotebookEdit": {
      const mode = optionalString(input.edit_mode) ?? "replace";
      if (typeof res.updated_file === "string") {
        return {
          before: typeof res.original_file === "string" ? res.original_file : undefined,
          after: res.updated_file,
          lineDelta: null,
          summary: `NotebookEdit (${mode} cell)`,
          replaceAll: false,
        };
      }
      const after = mode === "delete" ? "" : requireString(input, "new_source", "tool_input");
      // The cell's earlier source is not in the payload: the store's latest version is the parent.
      return {
        before: mode === "insert" ? null : undefined,
        after,
        lineDelta: null,
        summary: `NotebookEdit (${mode} cell)`,
        replaceAll: false,
      };
    }
    default: {
      const unreachable: never = tool;
      throw new FieldError(`unhandled tool ${unreachable}`);
    }
  }
}

function stringEdit(obj: Json, where: string): StringEdit {
  return {
    oldString: requireString(obj, "old_string", where),
    newString: requireString(obj, "new_string", where),
    replaceAll: obj.replace_all === true,
  };
}

function originalFile(res: Json): string | null | undefined {
  if (typeof res.originalFile === "string") return res.originalFile;
  if (res.originalFile === null) return null;
  return undefined;
}

function requireOriginal(res: Json, tool: TrackedTool): string {
  const original = res.originalFile;
  if (typeof original !== "string") {
    throw new FieldError(
      `tool_response.originalFile must be a string to compute the content after the ${tool} in memory, got ${
        describe(original)
      }`,
    );
  }
  return original;
}
