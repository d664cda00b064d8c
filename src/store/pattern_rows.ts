/**
 * A stored pattern's rows: the pattern, how its code is kept (`pattern_code`), the lineage edge,
 * and how a SQLite row becomes one of them. Read by every layer of the store from the post hook's
 * (`recording.ts`) up.
 *
 * @module
 */

import { type CodeFormat, parseCodeFormat, snapshotCode, type StoredCode } from "./code_storage.ts";
import { type Row, strOrNull } from "./rows.ts";

/** A stored pattern. */
export interface PatternRow {
  patternId: string;
  language: string;
  lineCount: number;
  byteSize: number;
  code: string | null;
  firstSeenAt: string;
  /**
   * Why `code` is null: "store_code_off", "too_large", "pruned", or "unreadable" (lost to damage,
   * found by `recover`).
   */
  codeOmitted?: string | null;
  /** Secrets replaced in `code`. */
  redactedSecrets?: number;
}

/**
 * A pattern to insert, with the pattern it was made from when there is one: the store then keeps
 * the code as a line patch against that pattern's stored text instead of a full copy.
 */
export interface NewPatternRow extends PatternRow {
  parent?: PatternParent | null;
}

/** The pattern a new one was made from (its lineage parent), for storing the code as a patch. */
export interface PatternParent {
  patternId: string;
  /**
   * The parent's content as the payload carried it (any line endings, unredacted), whose pattern
   * ID is `patternId`; null or absent when unknown. With it the store need not read the parent's
   * code back (the hook's path); without it, or when the parent's stored text had secrets
   * redacted, the store reads the parent's stored text itself.
   */
  content?: string | null;
}

/** How one pattern's code is kept, for maintenance and prune. */
export interface CodeRow {
  patternId: string;
  /** Null when no code is kept (`codeOmitted` says why). */
  stored: StoredCode | null;
  /** The text sits in the `code` column of a row written before schema v3 (a snapshot). */
  legacy: boolean;
  codeOmitted: string | null;
  redactedSecrets: number;
  byteSize: number;
  firstSeenAt: string;
}

/** Thrown when a pattern's stored code cannot be read back (a damaged or foreign store). */
export class StoredCodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoredCodeError";
  }
}

/** A lineage edge: the child pattern was made from the parent. */
export interface LineageEdgeRow {
  child: string;
  parent: string;
  edgeType: string;
  transformationType: string | null;
  filePath: string | null;
  createdAt: string;
}

/** A pattern's row with its stored code (columns `code_*`), from `pattern_code` when it has one. */
export const PATTERN_WITH_CODE =
  `SELECT p.*, c.format AS code_format, c.base AS code_base, c.depth AS code_depth,
     c.chain_bytes AS code_chain_bytes, c.length AS code_length, c.data AS code_data
   FROM patterns p LEFT JOIN pattern_code c ON c.pattern_id = p.pattern_id`;

/** A `patterns` row as a {@linkcode PatternRow} (its code not read). */
export function toPattern(r: Row): PatternRow {
  return {
    patternId: String(r.pattern_id),
    language: String(r.language),
    lineCount: Number(r.line_count),
    byteSize: Number(r.byte_size),
    code: strOrNull(r.code),
    firstSeenAt: String(r.first_seen_at),
    codeOmitted: strOrNull(r.code_omitted),
    redactedSecrets: Number(r.redacted_secrets ?? 0),
  };
}

/** How a pattern row (joined with `pattern_code`) keeps its code. */
export function toCodeRow(r: Row): CodeRow {
  const base = {
    patternId: String(r.pattern_id),
    codeOmitted: strOrNull(r.code_omitted),
    redactedSecrets: Number(r.redacted_secrets ?? 0),
    byteSize: Number(r.byte_size ?? 0),
    firstSeenAt: String(r.first_seen_at),
  };
  if (r.code_format === null || r.code_format === undefined) {
    // Written before schema v3: the text, if any, is in `code`.
    if (r.code === null || r.code === undefined) return { ...base, stored: null, legacy: false };
    return { ...base, stored: snapshotCode(String(r.code)), legacy: true };
  }
  const format: CodeFormat | null = parseCodeFormat(r.code_format);
  if (format === null) {
    throw new StoredCodeError(
      `pattern ${base.patternId}'s code is stored as "${r.code_format}", which this version cannot read (a newer Pattern Tracker wrote it)`,
    );
  }
  return {
    ...base,
    legacy: false,
    stored: {
      format,
      data: r.code_data instanceof Uint8Array ? r.code_data : new Uint8Array(),
      base: strOrNull(r.code_base),
      depth: Number(r.code_depth ?? 0),
      chainBytes: Number(r.code_chain_bytes ?? 0),
      textLength: Number(r.code_length ?? 0),
    },
  };
}
