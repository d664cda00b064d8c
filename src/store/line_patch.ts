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
 * import { splitLines } from "./line_patch.ts";
 * splitLines("a\r\nb\nc"); // ["a\r\n", "b\n", "c"]
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
 * import { applyLinePatch, diffLines } from "./line_patch.ts";
 * const patch = diffLines("a\nb\nc\n", "a\nB\nc\n");
 * patch.ops; // [{ at: 2, remove: 2, insert: "B\n" }]
 * applyLinePatch("a\nb\nc\n", patch); // "a\nB\nc\n"
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

/** A run of equal lines: `length` lines from index `a` of the first array and `b` of the second. */
export interface MatchRun {
  a: number;
  b: number;
  length: number;
}

/** When one side is a single line, the longest common subsequence is that line, if the other has it. */
function singleLineMatch(
  a: string[],
  b: string[],
  start: number,
  endA: number,
  endB: number,
): MatchRun[] {
  if (endA - start === 1) {
    const at = b.indexOf(a[start] as string, start);
    return at >= 0 && at < endB ? [{ a: start, b: at, length: 1 }] : [];
  }
  const at = a.indexOf(b[start] as string, start);
  return at >= 0 && at < endA ? [{ a: at, b: start, length: 1 }] : [];
}

/**
 * Myers' greedy diff of a[a0..a1) and b[b0..b1): the runs of equal lines, in order, or null when
 * the edit cost exceeds `maxCost` (the caller then replaces the whole range). Its memory grows with
 * the square of `maxCost`: keep it bounded (see `src/line_match.ts` for what to do past it).
 *
 * @example
 * ```ts
 * import { myersMatches } from "./line_patch.ts";
 * myersMatches(["a", "b", "c"], ["a", "c"], 0, 3, 0, 2, 10); // [{ a: 0, b: 0, length: 1 }, { a: 2, b: 1, length: 1 }]
 * ```
 */
export function myersMatches(
  a: readonly string[],
  b: readonly string[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  maxCost: number,
): MatchRun[] | null {
  // Lines as small integers: equal texts, equal numbers; comparisons are then cheap.
  const ids = new Map<string, number>();
  const intern = (s: string) => {
    let id = ids.get(s);
    if (id === undefined) ids.set(s, id = ids.size);
    return id;
  };
  const n = a1 - a0;
  const m = b1 - b0;
  const x0 = new Int32Array(n);
  const y0 = new Int32Array(m);
  for (let i = 0; i < n; i++) x0[i] = intern(a[a0 + i] as string);
  for (let j = 0; j < m; j++) y0[j] = intern(b[b0 + j] as string);

  const offset = maxCost + 1;
  const v = new Int32Array(2 * maxCost + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= maxCost; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
        ? v[offset + k + 1] as number
        : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && x0[x] === y0[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m, a0, b0);
    }
  }
  return null;
}

/** Walks the saved frontiers back from the end and collects the diagonal runs (equal lines). */
function backtrack(trace: Int32Array[], n: number, m: number, a0: number, b0: number): MatchRun[] {
  const runs: MatchRun[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    // trace[d] holds v[-d-1 .. d+1] as it was before step d.
    const frontier = trace[d] as Int32Array;
    const at = (k: number) => frontier[k + d + 1] as number;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    // The snake of step d starts after the move from (prevX, prevY).
    const snakeX = d === 0 ? 0 : prevK === k + 1 ? prevX : prevX + 1;
    const snakeY = d === 0 ? 0 : snakeX - k;
    if (x > snakeX) runs.push({ a: a0 + snakeX, b: b0 + snakeY, length: x - snakeX });
    x = prevX;
    y = prevY;
  }
  return runs.reverse();
}

/**
 * Applies a patch to a base text. Throws {@linkcode LinePatchError} when the patch was not made for
 * a base of this length, or its changes do not fit.
 *
 * @example
 * ```ts
 * import { applyLinePatch, diffLines } from "./line_patch.ts";
 * applyLinePatch("x\n", diffLines("x\n", "x\ny\n")); // "x\ny\n"
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
 * import { applyLinePatches, diffLines } from "./line_patch.ts";
 * applyLinePatches("a\n", [diffLines("a\n", "a\nb\n"), diffLines("a\nb\n", "b\n")]); // "b\n"
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
 * import { encodeLinePatch } from "./line_patch.ts";
 * encodeLinePatch({ baseLength: 6, targetLength: 6, ops: [{ at: 2, remove: 2, insert: "B\n" }] }); // '[6,6,2,2,"B\\n"]'
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
 * import { decodeLinePatch } from "./line_patch.ts";
 * decodeLinePatch('[6,6,2,2,"B\\n"]').ops; // [{ at: 2, remove: 2, insert: "B\n" }]
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
