/**
 * Pure line patches: how to turn one text into another by replacing whole lines, compactly. The
 * store keeps a version's code as a patch against its parent's stored text (`src/store/code_storage.ts`).
 *
 * A line here is a piece of text up to and including its `"\n"` (the last one may have none; a
 * `"\r"` is an ordinary character), so the pieces of a text concatenate back to exactly that text,
 * whatever its line endings. Changes are found line by line and stored by character offset, so
 * applying a patch needs no splitting into lines at all.
 *
 * @module
 */

import { myersMatches, singleLineMatch } from "./myers.ts";

/** One change: replace `remove` characters of the base, from offset `at`, by `insert`. */
export interface LinePatchOp {
  at: number;
  remove: number;
  insert: string;
}

/**
 * A line patch: the base's and the target's lengths (both checked when applied, so a patch applied
 * to the wrong base fails instead of returning wrong text) and the changes, in order and not
 * overlapping.
 */
export interface LinePatch {
  baseLength: number;
  targetLength: number;
  ops: LinePatchOp[];
}

/** Why a patch could not be decoded or applied. */
export class LinePatchError extends Error {
  /** Which patch of a chain failed ({@linkcode applyLinePatches}); 0 otherwise. */
  readonly patchIndex: number;
  constructor(message: string, patchIndex = 0) {
    super(message);
    this.name = "LinePatchError";
    this.patchIndex = patchIndex;
  }
}

/**
 * The lines of a text, each with its `"\n"` (the last may have none); `""` has none.
 * `splitLines(t).join("") === t` for every string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitLines } from "./line_patch.ts";
 * assert.deepEqual(splitLines("a\r\nb\nc"), ["a\r\n", "b\n", "c"]);
 * ```
 */
export function splitLines(text: string): string[] {
  const pieces = text.split("\n");
  const last = pieces.length - 1;
  for (let i = 0; i < last; i++) pieces[i] += "\n";
  if (pieces[last] === "") pieces.pop();
  return pieces;
}

/**
 * The patch that turns `base` into `target`. The common beginning and end are found on the texts
 * themselves (by comparing halves natively, not line by line: this runs on the hook's path, once per
 * process, on files of any size) and rounded to whole lines; only the lines in between are split and
 * matched, by Myers' O(ND) diff up to a bounded edit cost, past which they are replaced whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyLinePatch, diffLines } from "./line_patch.ts";
 * const patch = diffLines("a\nb\nc\n", "a\nB\nc\n");
 * assert.deepEqual(patch.ops, [{ at: 2, remove: 2, insert: "B\n" }]);
 * assert.equal(applyLinePatch("a\nb\nc\n", patch), "a\nB\nc\n");
 * ```
 */
export function diffLines(base: string, target: string): LinePatch {
  const shorter = Math.min(base.length, target.length);
  const prefix = commonLength(shorter, (n) => base.slice(0, n) === target.slice(0, n));
  // Unchanged lines before: up to the last line break inside the common prefix.
  const start = prefix === 0 ? 0 : base.lastIndexOf("\n", prefix - 1) + 1;
  const suffix = commonLength(
    shorter - start,
    (n) => base.slice(base.length - n) === target.slice(target.length - n),
  );
  // Unchanged lines after: from just after the first line break inside the common suffix.
  const breakAt = base.indexOf("\n", base.length - suffix);
  const endBase = suffix === 0 || breakAt < 0 ? base.length : breakAt + 1;
  const endTarget = endBase + target.length - base.length;
  const ops = diffMiddle(
    splitLines(base.slice(start, endBase)),
    splitLines(target.slice(start, endTarget)),
    start,
  );
  return { baseLength: base.length, targetLength: target.length, ops };
}

/** The largest n in [0, max] for which `equal(n)` holds, given that it holds up to some n only. */
function commonLength(max: number, equal: (n: number) => boolean): number {
  let low = 0;
  let high = max;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (equal(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * Edit cost above which the middle stops looking for common lines and is replaced as a whole (still
 * a correct patch, only larger): it bounds the diff's work to about two million line comparisons.
 */
export const MAX_WORK = 2_000_000;
/** See {@linkcode MAX_WORK}. */
export const MAX_EDIT_COST = 512;

/** The changes between two line arrays starting at character `offset` of the base. */
function diffMiddle(a: string[], b: string[], offset: number): LinePatchOp[] {
  let start = 0;
  const shorter = Math.min(a.length, b.length);
  while (start < shorter && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  if (start === endA && start === endB) return [];
  const n = endA - start;
  const m = endB - start;
  const maxCost = Math.min(n + m, MAX_EDIT_COST, Math.floor(MAX_WORK / (n + m)));
  const matches = n === 0 || m === 0
    ? null
    : n === 1 || m === 1
    ? singleLineMatch(a, b, start, endA, endB) // the common case of an Edit: no Myers machinery
    : myersMatches(a, b, start, endA, start, endB, maxCost);
  // The changes are the gaps between matched runs (a sentinel run closes the range); offsets in
  // characters advance over the lines passed.
  const ops: LinePatchOp[] = [];
  let at = offset;
  for (let i = 0; i < start; i++) at += (a[i] as string).length;
  let ai = start;
  let bi = start;
  for (const run of [...(matches ?? []), { a: endA, b: endB, length: 0 }]) {
    if (run.a > ai || run.b > bi) {
      let remove = 0;
      for (let i = ai; i < run.a; i++) remove += (a[i] as string).length;
      ops.push({ at, remove, insert: b.slice(bi, run.b).join("") });
      at += remove;
    }
    for (let i = run.a; i < run.a + run.length; i++) at += (a[i] as string).length;
    ai = run.a + run.length;
    bi = run.b + run.length;
  }
  return ops;
}

/**
 * Applies a patch to a base text. Throws {@linkcode LinePatchError} when the patch was not made for
 * a base of this length, or its changes do not fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyLinePatch, diffLines } from "./line_patch.ts";
 * assert.equal(applyLinePatch("x\n", diffLines("x\n", "x\ny\n")), "x\ny\n");
 * ```
 */
export function applyLinePatch(base: string, patch: LinePatch): string {
  if (base.length !== patch.baseLength) {
    throw new LinePatchError(
      `the patch is for a base of ${patch.baseLength} characters, this base has ${base.length}`,
    );
  }
  let text = "";
  let pos = 0;
  for (const op of patch.ops) {
    if (op.at < pos || op.at + op.remove > base.length) {
      throw new LinePatchError(`a change at offset ${op.at} does not fit the base`);
    }
    text += base.slice(pos, op.at) + op.insert;
    pos = op.at + op.remove;
  }
  text += base.slice(pos);
  if (text.length !== patch.targetLength) {
    throw new LinePatchError(
      `the patched text has ${text.length} characters, the patch promised ${patch.targetLength}`,
    );
  }
  return text;
}

/**
 * Applies a chain of patches, each to the result of the one before, without building the
 * intermediate texts: the text is kept as a list of pieces (slices of the base and inserted
 * strings), each change splits and replaces pieces, and the result is joined once. Reading a version
 * through dozens of small patches of a large file then costs one copy of it, not one per patch.
 * Throws {@linkcode LinePatchError} (with `patchIndex`) as {@linkcode applyLinePatch} does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyLinePatches, diffLines } from "./line_patch.ts";
 * const patches = [diffLines("a\n", "a\nb\n"), diffLines("a\nb\n", "b\n")];
 * assert.equal(applyLinePatches("a\n", patches), "b\n");
 * ```
 */
export function applyLinePatches(base: string, patches: readonly LinePatch[]): string {
  const pieces: string[] = base === "" ? [] : [base];
  let length = base.length;
  // A piece boundary at offset `at` (0 ≤ at ≤ length): the index of the piece that starts there.
  const cut = (at: number): number => {
    let start = 0;
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (at === start) return i;
      if (at < start + piece.length) {
        pieces.splice(i, 1, piece.slice(0, at - start), piece.slice(at - start));
        return i + 1;
      }
      start += piece.length;
    }
    return pieces.length;
  };
  for (const [index, patch] of patches.entries()) {
    if (length !== patch.baseLength) {
      throw new LinePatchError(
        `the patch is for a base of ${patch.baseLength} characters, this base has ${length}`,
        index,
      );
    }
    let pos = 0;
    for (const op of patch.ops) {
      if (op.at < pos || op.at + op.remove > length) {
        throw new LinePatchError(`a change at offset ${op.at} does not fit the base`, index);
      }
      pos = op.at + op.remove;
    }
    // Last change first: the offsets of the earlier ones stay valid.
    for (let i = patch.ops.length - 1; i >= 0; i--) {
      const op = patch.ops[i] as LinePatchOp;
      // The start first: cutting at the end then splits only pieces at or after it.
      const start = cut(op.at);
      const end = cut(op.at + op.remove);
      if (op.insert === "") pieces.splice(start, end - start);
      else pieces.splice(start, end - start, op.insert);
      length += op.insert.length - op.remove;
    }
    if (length !== patch.targetLength) {
      throw new LinePatchError(
        `the patched text has ${length} characters, the patch promised ${patch.targetLength}`,
        index,
      );
    }
  }
  return pieces.join("");
}

/**
 * The patch as compact JSON: `[baseLength, targetLength, skip, remove, insert, skip, remove,
 * insert, …]`, where `skip` counts the unchanged characters since the previous change. JSON
 * escapes control characters and lone surrogates, so any string survives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeLinePatch } from "./line_patch.ts";
 * const patch = { baseLength: 6, targetLength: 6, ops: [{ at: 2, remove: 2, insert: "B\n" }] };
 * assert.equal(encodeLinePatch(patch), '[6,6,2,2,"B\\n"]');
 * ```
 */
export function encodeLinePatch(patch: LinePatch): string {
  const out: unknown[] = [patch.baseLength, patch.targetLength];
  let pos = 0;
  for (const op of patch.ops) {
    out.push(op.at - pos, op.remove, op.insert);
    pos = op.at + op.remove;
  }
  return JSON.stringify(out);
}

/**
 * Reads {@linkcode encodeLinePatch}'s JSON back; throws {@linkcode LinePatchError} on any other
 * shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeLinePatch } from "./line_patch.ts";
 * assert.deepEqual(decodeLinePatch('[6,6,2,2,"B\\n"]').ops, [{ at: 2, remove: 2, insert: "B\n" }]);
 * assert.throws(() => decodeLinePatch("[6,6,2]"), /a line patch must be/);
 * ```
 */
export function decodeLinePatch(json: string): LinePatch {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new LinePatchError(`a line patch is not JSON: ${(error as Error).message}`);
  }
  const count = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;
  if (!Array.isArray(raw) || raw.length < 2 || (raw.length - 2) % 3 !== 0) {
    throw new LinePatchError(
      "a line patch must be [baseLength, targetLength, (skip, remove, insert)*]",
    );
  }
  const [baseLength, targetLength] = raw;
  if (!count(baseLength) || !count(targetLength)) {
    throw new LinePatchError("a line patch's lengths must be whole numbers");
  }
  const ops: LinePatchOp[] = [];
  let pos = 0;
  for (let i = 2; i < raw.length; i += 3) {
    const [skip, remove, insert] = [raw[i], raw[i + 1], raw[i + 2]];
    if (!count(skip) || !count(remove) || typeof insert !== "string") {
      throw new LinePatchError(`a line patch's change ${(i - 2) / 3} is malformed`);
    }
    const at = pos + (skip as number);
    ops.push({ at, remove: remove as number, insert });
    pos = at + (remove as number);
  }
  return { baseLength: baseLength as number, targetLength: targetLength as number, ops };
}
