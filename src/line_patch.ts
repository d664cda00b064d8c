/**
 * Pure line patches: how to turn one text into another, line by line, compactly. The store keeps a
 * version's code as a patch against its parent's stored text (see `src/code_storage.ts`).
 *
 * Lines are the pieces between `"\n"` characters (a `"\r"` stays inside its line), so splitting and
 * joining reproduce any string exactly, whatever its line endings.
 *
 * @module
 */

/** One change: replace `remove` lines of the base, starting at line `at` (0-based), by `insert`. */
export interface LinePatchOp {
  at: number;
  remove: number;
  insert: string[];
}

/**
 * A line patch: the base's line count and the target's length (both checked when applied, so a
 * patch applied to the wrong base fails instead of returning wrong text) and the changes, in order
 * and not overlapping.
 */
export interface LinePatch {
  baseLines: number;
  targetLength: number;
  ops: LinePatchOp[];
}

/** Why a patch could not be decoded or applied. */
export class LinePatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinePatchError";
  }
}

/**
 * The lines of a text: the pieces between `"\n"` (a text without one is one line; `""` is one empty
 * line). `splitLines(t).join("\n") === t` for every string.
 *
 * @example
 * ```ts
 * import { splitLines } from "./line_patch.ts";
 * splitLines("a\r\nb\n"); // ["a\r", "b", ""]
 * ```
 */
export function splitLines(text: string): string[] {
  return text.split("\n");
}

/**
 * The patch that turns `base` into `target`. The common beginning and end are found on the texts
 * themselves (by comparing halves natively, not line by line: this runs on the hook's path, once per
 * process, on files of any size), rounded to whole lines; only the lines in between are split and
 * matched, by Myers' O(ND) diff up to a bounded edit cost, past which they are replaced whole.
 *
 * @example
 * ```ts
 * import { applyLinePatch, diffLines } from "./line_patch.ts";
 * const patch = diffLines("a\nb\nc\n", "a\nB\nc\n");
 * patch.ops; // [{ at: 1, remove: 1, insert: ["B"] }]
 * applyLinePatch("a\nb\nc\n", patch); // "a\nB\nc\n"
 * ```
 */
export function diffLines(base: string, target: string): LinePatch {
  const shorter = Math.min(base.length, target.length);
  const prefix = commonLength(shorter, (n) => base.slice(0, n) === target.slice(0, n));
  // The unchanged lines before: up to the last line break inside the common prefix.
  const middleStart = prefix === 0 ? 0 : base.lastIndexOf("\n", prefix - 1) + 1;
  const suffix = commonLength(
    shorter - middleStart,
    (n) => base.slice(base.length - n) === target.slice(target.length - n),
  );
  // The unchanged lines after: from the first line break inside the common suffix.
  const breakAt = base.indexOf("\n", base.length - suffix);
  const middleEndBase = suffix === 0 || breakAt < 0 ? base.length : breakAt;
  const middleEndTarget = middleEndBase + target.length - base.length;
  const linesBefore = countBreaks(base, 0, middleStart);
  const ops = diffMiddle(
    splitLines(base.slice(middleStart, middleEndBase)),
    splitLines(target.slice(middleStart, middleEndTarget)),
  ).map((op) => ({ ...op, at: op.at + linesBefore }));
  return { baseLines: countBreaks(base, 0, base.length) + 1, targetLength: target.length, ops };
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

function countBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf("\n", from); at >= 0 && at < to; at = text.indexOf("\n", at + 1)) {
    count++;
  }
  return count;
}

/**
 * Edit cost above which the middle stops looking for common lines and is replaced as a whole (still
 * a correct patch, only larger): it bounds the diff's work to about two million line comparisons.
 */
const MAX_WORK = 2_000_000;
const MAX_EDIT_COST = 512;

/** The changes between two line arrays (common first and last lines skipped, then Myers). */
function diffMiddle(a: string[], b: string[]): LinePatchOp[] {
  let start = 0;
  const shorter = Math.min(a.length, b.length);
  while (start < shorter && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: LinePatchOp[] = [];
  if (start === endA && start === endB) return ops;
  const n = endA - start;
  const m = endB - start;
  const maxCost = Math.min(n + m, MAX_EDIT_COST, Math.floor(MAX_WORK / (n + m)));
  const matches = n > 0 && m > 0 ? myersMatches(a, b, start, endA, start, endB, maxCost) : null;
  // The changes are the gaps between matched runs (a sentinel run closes the range).
  let ai = start;
  let bi = start;
  for (const run of [...(matches ?? []), { a: endA, b: endB, length: 0 }]) {
    if (run.a > ai || run.b > bi) {
      ops.push({ at: ai, remove: run.a - ai, insert: b.slice(bi, run.b) });
    }
    ai = run.a + run.length;
    bi = run.b + run.length;
  }
  return ops;
}

interface MatchRun {
  a: number;
  b: number;
  length: number;
}

/**
 * Myers' greedy diff of a[a0..a1) and b[b0..b1): the runs of equal lines, in order, or null when
 * the edit cost exceeds `maxCost` (the caller then replaces the whole range).
 */
function myersMatches(
  a: string[],
  b: string[],
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
 * Applies a patch to the base's lines, returning the target's lines. Throws
 * {@linkcode LinePatchError} when the patch does not fit this base or the result does not have the
 * length the patch promised.
 *
 * @example
 * ```ts
 * import { applyPatchToLines } from "./line_patch.ts";
 * applyPatchToLines(["a", "b"], { baseLines: 2, targetLength: 3, ops: [{ at: 1, remove: 1, insert: ["c"] }] }); // ["a", "c"]
 * ```
 */
export function applyPatchToLines(base: readonly string[], patch: LinePatch): string[] {
  if (base.length !== patch.baseLines) {
    throw new LinePatchError(
      `the patch is for a base of ${patch.baseLines} lines, this base has ${base.length}`,
    );
  }
  const out: string[] = [];
  let pos = 0;
  for (const op of patch.ops) {
    if (op.at < pos || op.at + op.remove > base.length) {
      throw new LinePatchError(`a change at line ${op.at} does not fit the base`);
    }
    for (let i = pos; i < op.at; i++) out.push(base[i] as string);
    for (const line of op.insert) out.push(line);
    pos = op.at + op.remove;
  }
  for (let i = pos; i < base.length; i++) out.push(base[i] as string);
  let length = out.length - 1;
  for (const line of out) length += line.length;
  if (length !== patch.targetLength) {
    throw new LinePatchError(
      `the patched text has ${length} characters, the patch promised ${patch.targetLength}`,
    );
  }
  return out;
}

/**
 * Applies a patch to a base text. Throws {@linkcode LinePatchError} when the patch does not fit.
 *
 * @example
 * ```ts
 * import { applyLinePatch, diffLines } from "./line_patch.ts";
 * applyLinePatch("x\n", diffLines("x\n", "x\ny\n")); // "x\ny\n"
 * ```
 */
export function applyLinePatch(base: string, patch: LinePatch): string {
  return applyPatchToLines(splitLines(base), patch).join("\n");
}

/**
 * The patch as compact JSON: `[baseLines, targetLength, skip, remove, [lines…], skip, remove,
 * [lines…], …]`, where `skip` counts the unchanged lines since the previous change. JSON escapes
 * control characters and lone surrogates, so any string survives.
 *
 * @example
 * ```ts
 * import { encodeLinePatch } from "./line_patch.ts";
 * encodeLinePatch({ baseLines: 3, targetLength: 6, ops: [{ at: 1, remove: 1, insert: ["B"] }] }); // '[3,6,1,1,["B"]]'
 * ```
 */
export function encodeLinePatch(patch: LinePatch): string {
  const out: unknown[] = [patch.baseLines, patch.targetLength];
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
 * decodeLinePatch('[3,6,1,1,["B"]]').ops; // [{ at: 1, remove: 1, insert: ["B"] }]
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
      "a line patch must be [baseLines, targetLength, (skip, remove, lines)*]",
    );
  }
  const [baseLines, targetLength] = raw;
  if (!count(baseLines) || !count(targetLength)) {
    throw new LinePatchError("a line patch's line count and length must be whole numbers");
  }
  const ops: LinePatchOp[] = [];
  let pos = 0;
  for (let i = 2; i < raw.length; i += 3) {
    const [skip, remove, insert] = [raw[i], raw[i + 1], raw[i + 2]];
    if (
      !count(skip) || !count(remove) || !Array.isArray(insert) ||
      insert.some((l) => typeof l !== "string")
    ) {
      throw new LinePatchError(`a line patch's change ${(i - 2) / 3} is malformed`);
    }
    const at = pos + (skip as number);
    ops.push({ at, remove: remove as number, insert: insert as string[] });
    pos = at + (remove as number);
  }
  return { baseLines: baseLines as number, targetLength: targetLength as number, ops };
}
