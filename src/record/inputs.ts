/**
 * What the recording core tells apart in its inputs: an export's records from a hook's, and a
 * refusal of an input (import stops on these; nothing is written). Pure.
 *
 * @module
 */

import type { ImportInput, TrackInput } from "./records.ts";

/**
 * True for the records of an export.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isImportInput } from "./inputs.ts";
 * assert.equal(isImportInput({ kind: "imported_edge", edge: {} as never, line: 1 }), true);
 * ```
 */
export function isImportInput(input: TrackInput): input is ImportInput {
  return input.kind === "imported_version" || input.kind === "imported_execution" ||
    input.kind === "imported_edge";
}

/** A refusal of an input, with the reason (import stops on these; nothing is written). */
export class RecordRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordRefused";
  }
}
