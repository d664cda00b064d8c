/**
 * Pure rules for keeping a pattern's code small: a version is stored as a line patch against its
 * parent's stored text, or as a full snapshot — the first of a chain, every {@linkcode MAX_CHAIN}
 * patches, and whenever the patches would cost more to read than the text itself. The store
 * (`src/store/store.ts`) holds the rows; this module decides what goes in them and reads them back.
 *
 * Reading never loops and never misses a base, by two invariants the store keeps:
 * - a patch row's `depth` is strictly greater than its base's (set to base + 1 when written; a
 *   depth only ever decreases afterwards, and a row with dependents is never turned into a patch),
 *   so walking from a row to its bases visits strictly decreasing depths and ends within `depth`
 *   steps — the reader checks this on every step;
 * - a row's code is never dropped while a patch depends on it (prune turns dependents into
 *   snapshots first, in the same transaction).
 *
 * Hooks write uncompressed snapshots and patches only (no `node:zlib`); the background flusher and
 * the CLI compress snapshots later ({@linkcode compressCode}), except those the newest version of a
 * file reads through, which a hook may need to read.
 *
 * @module
 */

import { deflateRaw, inflateRaw } from "./compression.ts";
import { decodeLinePatch, diffLines, encodeLinePatch, type LinePatch } from "./line_patch.ts";

/** How a pattern's code is kept (`patterns.code_format`). */
export type CodeFormat = "text" | "text+deflate" | "patch" | "patch+deflate";

const FORMATS: readonly CodeFormat[] = ["text", "text+deflate", "patch", "patch+deflate"];

/** A pattern's code as the store keeps it. */
export interface StoredCode {
  format: CodeFormat;
  /** UTF-8 text, a UTF-8 JSON line patch, or either compressed with raw deflate. */
  data: Uint8Array;
  /** The pattern whose stored text a patch applies to; null for a snapshot. */
  base: string | null;
  /** Patches to apply to read it, at most (0 for a snapshot); always more than its base's. */
  depth: number;
  /** Bytes of patches along the chain from its snapshot, this one included, at most. */
  chainBytes: number;
  /** Length of the stored text (UTF-16 code units, as JavaScript counts). */
  textLength: number;
}

/** The parent's stored text and chain, for writing a patch against it. */
export interface PatchBase {
  patternId: string;
  /** The parent's stored text, exactly. */
  text: string;
  depth: number;
  chainBytes: number;
}

/** At most this many patches follow a snapshot: reading any version applies at most 63 patches. */
export const MAX_CHAIN = 63;

/**
 * Texts shorter than this are stored whole when a hook records them, and made patches later by the
 * background flusher's compaction: for a small file, computing a patch in a fresh process (the
 * diff's code runs for the first time) costs the hook more than writing the text (measured: about
 * 7 % of the post hook's CPU time on a one-line Edit of a small file), and the bytes saved are few.
 */
export const MIN_PATCH_TEXT = 8192;

/**
 * Parses a stored format name; null for anything else (a row written by a future version).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCodeFormat } from "./code_storage.ts";
 * assert.equal(parseCodeFormat("patch"), "patch");
 * assert.equal(parseCodeFormat("zstd"), null);
 * ```
 */
export function parseCodeFormat(value: unknown): CodeFormat | null {
  return FORMATS.includes(value as CodeFormat) ? value as CodeFormat : null;
}

/**
 * True for the formats that hold a whole text (the end of a chain).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSnapshot } from "./code_storage.ts";
 * assert.equal(isSnapshot("text+deflate"), true);
 * assert.equal(isSnapshot("patch"), false);
 * ```
 */
export function isSnapshot(format: CodeFormat): boolean {
  return format === "text" || format === "text+deflate";
}

/**
 * True for the compressed formats (reading them loads `node:zlib`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCompressed } from "./code_storage.ts";
 * assert.equal(isCompressed("patch"), false);
 * assert.equal(isCompressed("text+deflate"), true);
 * ```
 */
export function isCompressed(format: CodeFormat): boolean {
  return format === "text+deflate" || format === "patch+deflate";
}

/**
 * The text as a store keeps it: lone surrogates (not representable in UTF-8) become U+FFFD, as
 * they do when the pattern ID is computed, so the stored text still hashes to the ID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storableText } from "./code_storage.ts";
 * assert.equal(storableText("a\ud800"), "a\ufffd");
 * ```
 */
export function storableText(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/**
 * A snapshot of a text: its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshotCode } from "./code_storage.ts";
 * assert.equal(snapshotCode("x\n").data.length, 2);
 * ```
 */
export function snapshotCode(text: string): StoredCode {
  return {
    format: "text",
    data: new TextEncoder().encode(text),
    base: null,
    depth: 0,
    chainBytes: 0,
    textLength: text.length,
  };
}

/**
 * How to store `text` (well-formed, see {@linkcode storableText}): a patch against `base` when
 * there is one, its chain is shorter than {@linkcode MAX_CHAIN}, and the chain's patches with this
 * one stay smaller than the text; a snapshot otherwise. Uncompressed either way (the hook's path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCode } from "./code_storage.ts";
 * const base = { patternId: "aaaaaaaaaaaaaaaa", text: "a\n".repeat(50), depth: 0, chainBytes: 0 };
 * assert.equal(encodeCode("a\n".repeat(49) + "b\n", base).format, "patch");
 * assert.equal(encodeCode("b\n", null).format, "text");
 * ```
 */
export function encodeCode(text: string, base: PatchBase | null): StoredCode {
  if (base !== null && base.depth < MAX_CHAIN) {
    const patch = new TextEncoder().encode(encodeLinePatch(diffLines(base.text, text)));
    const chainBytes = base.chainBytes + patch.length;
    // Text length in UTF-16 units stands in for its UTF-8 size (equal for ASCII code).
    if (chainBytes < text.length) {
      return {
        format: "patch",
        data: patch,
        base: base.patternId,
        depth: base.depth + 1,
        chainBytes,
        textLength: text.length,
      };
    }
  }
  return snapshotCode(text);
}

/**
 * The compressed form of a stored code, or null when compression saves less than an eighth (small
 * patches, already compressed rows). Base, depth and chain stay as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressCode, snapshotCode } from "./code_storage.ts";
 * assert.equal(compressCode(snapshotCode("x = 1\n".repeat(100)))?.format, "text+deflate");
 * ```
 */
export function compressCode(stored: StoredCode): StoredCode | null {
  if (isCompressed(stored.format) || stored.data.length < 64) return null;
  const data = deflateRaw(stored.data);
  if (data.length > stored.data.length * 7 / 8) return null;
  return { ...stored, format: stored.format === "text" ? "text+deflate" : "patch+deflate", data };
}

/**
 * The text of a snapshot row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshotCode, snapshotText } from "./code_storage.ts";
 * assert.equal(snapshotText("text", snapshotCode("x\n").data), "x\n");
 * ```
 */
export function snapshotText(format: CodeFormat, data: Uint8Array): string {
  if (!isSnapshot(format)) throw new Error(`a ${format} row is not a snapshot`);
  return new TextDecoder().decode(format === "text+deflate" ? inflateRaw(data) : data);
}

/**
 * The line patch of a patch row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { patchOf } from "./code_storage.ts";
 * import { diffLines, encodeLinePatch } from "./line_patch.ts";
 * const data = new TextEncoder().encode(encodeLinePatch(diffLines("a\n", "a\nb\n")));
 * assert.deepEqual(patchOf("patch", data).ops, [{ at: 2, remove: 0, insert: "b\n" }]);
 * ```
 */
export function patchOf(format: CodeFormat, data: Uint8Array): LinePatch {
  if (isSnapshot(format)) throw new Error(`a ${format} row is not a patch`);
  return decodeLinePatch(
    new TextDecoder().decode(format === "patch+deflate" ? inflateRaw(data) : data),
  );
}
