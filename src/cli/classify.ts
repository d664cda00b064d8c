/**
 * `classify [--explain]`: JSON lines `{before, after, intent?}` on stdin, one JSON line
 * `{transformation_type}` out for each, by the classifier the hooks use (`src/record/transformation.ts`).
 * A bad line gets a one-line error on stderr naming its number and an `{"error": …}` line out, and
 * the rest goes on.
 *
 * @module
 */

import type { ClassifyRequest } from "./commands/classify.ts";
import {
  explainTransformation,
  type TransformationExplanation,
  type TransformationInput,
} from "../record/transformation.ts";

/** One input line read: a change to classify, nothing (a blank line), or why it cannot be read. */
export type ClassifyLine =
  | { kind: "change"; input: TransformationInput }
  | { kind: "blank" }
  | { kind: "error"; message: string };

/**
 * Reads one input line. `before` and `after` are strings (`before` may be `""` or null for a new
 * file); `intent` is an optional string or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClassifyLine } from "./classify.ts";
 * assert.deepEqual(parseClassifyLine('{"before":"","after":"x\\n","intent":"add x"}'), {
 *   kind: "change",
 *   input: { before: "", after: "x\n", intent: "add x" },
 * });
 * assert.deepEqual(parseClassifyLine("[1]"), { kind: "error", message: "expected a JSON object {before, after, intent?}, got an array" });
 * ```
 */
export function parseClassifyLine(line: string): ClassifyLine {
  if (line.trim() === "") return { kind: "blank" };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: "error", message: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return {
      kind: "error",
      message: `expected a JSON object {before, after, intent?}, got ${got}`,
    };
  }
  const record = value as Record<string, unknown>;
  const before = record.before ?? "";
  if (typeof before !== "string") {
    return { kind: "error", message: `"before" must be a string (or null for a new file)` };
  }
  if (typeof record.after !== "string") {
    return {
      kind: "error",
      message: record.after === undefined
        ? `"after" is missing: the content after the change`
        : `"after" must be a string`,
    };
  }
  const intent = record.intent ?? null;
  if (intent !== null && typeof intent !== "string") {
    return { kind: "error", message: `"intent" must be a string or null` };
  }
  return { kind: "change", input: { before, after: record.after, intent } };
}

/**
 * The output line for one classified change.
 *
 * @example
 * ```ts
 * import { classifyOutput } from "./classify.ts";
 * import { explainTransformation } from "../record/transformation.ts";
 * import assert from "node:assert/strict";
 * const line = classifyOutput(explainTransformation({ before: "", after: "x" }), false);
 * assert.match(line, /^\{"transformation_type":"(bugfix|enhancement|refactor|optimization)"\}$/);
 * ```
 */
export function classifyOutput(explanation: TransformationExplanation, explain: boolean): string {
  if (!explain) return JSON.stringify({ transformation_type: explanation.transformationType });
  return JSON.stringify({
    transformation_type: explanation.transformationType,
    probabilities: explanation.probabilities,
    used_intent: explanation.usedIntent,
    strongest: explanation.strongest,
  });
}

/** Splits a byte stream into lines of text, whatever their length. */
async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  }
  if (pending !== "") yield pending;
}

/**
 * Runs `classify`: reads stdin to its end, writes one line per non-blank input line. Exit code 0,
 * or 1 when some line could not be read (each was reported), 2 for bad arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyCommand } from "./classify.ts";
 * const input = ReadableStream.from([new TextEncoder().encode('{"before":"","after":"x = 1\\n"}\n')]);
 * let out = "";
 * assert.equal(await classifyCommand({ explain: false }, input, { write: (t) => void (out += t) }), 0);
 * assert.match(out, /^\{"transformation_type":"[a-z_]+"\}\n$/);
 * ```
 */
export async function classifyCommand(
  request: ClassifyRequest,
  input: ReadableStream<Uint8Array> = Deno.stdin.readable,
  output: { write(text: string): void } = stdoutWriter(),
): Promise<number> {
  let lineNo = 0;
  let failures = 0;
  for await (const line of linesOf(input)) {
    lineNo++;
    const parsed = parseClassifyLine(line.endsWith("\r") ? line.slice(0, -1) : line);
    switch (parsed.kind) {
      case "blank":
        break;
      case "error": {
        failures++;
        const message = `line ${lineNo}: ${parsed.message}`;
        console.error(`error: classify: ${message}`);
        output.write(JSON.stringify({ error: message }) + "\n");
        break;
      }
      case "change":
        output.write(
          classifyOutput(explainTransformation(parsed.input), request.explain) + "\n",
        );
        break;
      default: {
        const unreachable: never = parsed;
        throw new Error(`unexpected line ${JSON.stringify(unreachable)}`);
      }
    }
  }
  if ("flush" in output && typeof output.flush === "function") output.flush();
  return failures === 0 ? 0 : 1;
}

/** A buffered stdout: one write per 64 KB rather than one per line. */
function stdoutWriter(): { write(text: string): void; flush(): void } {
  const encoder = new TextEncoder();
  let buffer = "";
  const flush = () => {
    const bytes = encoder.encode(buffer);
    buffer = "";
    for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
  };
  return {
    write(text: string) {
      buffer += text;
      if (buffer.length >= 65536) flush();
    },
    flush,
  };
}
