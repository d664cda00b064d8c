/**
 * Pure: the lines two line arrays have in common, in order — what `src/views/blame.ts` carries a line's
 * origin through. Myers' diff (`src/store/line_patch.ts`) finds the longest common subsequence up to a
 * bounded edit cost; past it (a file reformatted end to end, say), the lines that occur exactly once
 * on each side anchor the match (the patience diff), and the stretches between anchors are matched
 * again the same way. A line patch can afford to replace a large middle whole; blame cannot: every
 * unchanged line inside it would lose its origin.
 *
 * @module
 */

import { type MatchRun, myersMatches } from "../store/myers.ts";
import { MAX_EDIT_COST, MAX_WORK } from "../store/line_patch.ts";

export type { MatchRun } from "../store/myers.ts";

/** How deep anchored matching recurses before it gives up on a stretch (replaced whole). */
const MAX_DEPTH = 12;

/**
 * The runs of equal lines of `a` and `b`, in order of both, adjacent runs merged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchLines } from "./line_match.ts";
 * assert.deepEqual(matchLines(["a", "b", "c"], ["a", "x", "c"]), [{ a: 0, b: 0, length: 1 }, { a: 2, b: 2, length: 1 }]);
 * ```
 */
export function matchLines(a: readonly string[], b: readonly string[]): MatchRun[] {
  const runs: MatchRun[] = [];
  matchRange(a, b, 0, a.length, 0, b.length, runs, 0);
  const merged: MatchRun[] = [];
  for (const run of runs) {
    const last = merged[merged.length - 1];
    if (last && last.a + last.length === run.a && last.b + last.length === run.b) {
      last.length += run.length;
    } else if (run.length > 0) merged.push({ ...run });
  }
  return merged;
}

function matchRange(
  a: readonly string[],
  b: readonly string[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  out: MatchRun[],
  depth: number,
): void {
  let prefix = 0;
  while (a0 + prefix < a1 && b0 + prefix < b1 && a[a0 + prefix] === b[b0 + prefix]) prefix++;
  if (prefix > 0) out.push({ a: a0, b: b0, length: prefix });
  a0 += prefix;
  b0 += prefix;
  let suffix = 0;
  while (a1 - suffix > a0 && b1 - suffix > b0 && a[a1 - 1 - suffix] === b[b1 - 1 - suffix]) {
    suffix++;
  }
  a1 -= suffix;
  b1 -= suffix;
  const n = a1 - a0;
  const m = b1 - b0;
  if (n > 0 && m > 0) {
    if (n === 1 || m === 1) {
      // One line on a side: it matches its first occurrence on the other, if any.
      const at = n === 1 ? b.indexOf(a[a0] as string, b0) : a.indexOf(b[b0] as string, a0);
      if (n === 1 && at >= 0 && at < b1) out.push({ a: a0, b: at, length: 1 });
      if (m === 1 && n > 1 && at >= 0 && at < a1) out.push({ a: at, b: b0, length: 1 });
    } else {
      const maxCost = Math.min(n + m, MAX_EDIT_COST, Math.floor(MAX_WORK / (n + m)));
      const runs = maxCost > 0 ? myersMatches(a, b, a0, a1, b0, b1, maxCost) : null;
      if (runs !== null) out.push(...runs);
      else if (depth < MAX_DEPTH) anchored(a, b, a0, a1, b0, b1, out, depth);
    }
  }
  if (suffix > 0) out.push({ a: a1, b: b1, length: suffix });
}

/** Patience: lines unique on both sides, in an order both agree on, split the range. */
function anchored(
  a: readonly string[],
  b: readonly string[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  out: MatchRun[],
  depth: number,
): void {
  // Per line text: its index in `a` while seen once there, -1 once seen twice.
  const inA = new Map<string, number>();
  for (let i = a0; i < a1; i++) {
    const line = a[i] as string;
    inA.set(line, inA.has(line) ? -1 : i);
  }
  const inB = new Map<string, number>();
  for (let j = b0; j < b1; j++) {
    const line = b[j] as string;
    inB.set(line, inB.has(line) ? -1 : j);
  }
  const pairs: [number, number][] = [];
  for (let j = b0; j < b1; j++) {
    const line = b[j] as string;
    const i = inA.get(line);
    if (i !== undefined && i >= 0 && inB.get(line) === j) pairs.push([i, j]);
  }
  const anchors = longestIncreasing(pairs);
  if (anchors.length === 0) return; // nothing anchors the stretch: replaced whole
  let pa = a0;
  let pb = b0;
  for (const [i, j] of anchors) {
    matchRange(a, b, pa, i, pb, j, out, depth + 1);
    out.push({ a: i, b: j, length: 1 });
    pa = i + 1;
    pb = j + 1;
  }
  matchRange(a, b, pa, a1, pb, b1, out, depth + 1);
}

/** The longest subsequence of `pairs` (ordered by their second element) increasing in the first. */
function longestIncreasing(pairs: readonly [number, number][]): [number, number][] {
  const tails: number[] = []; // index into pairs of the smallest tail of each length
  const previous = new Int32Array(pairs.length).fill(-1);
  for (let k = 0; k < pairs.length; k++) {
    const value = (pairs[k] as [number, number])[0];
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((pairs[tails[mid] as number] as [number, number])[0] < value) low = mid + 1;
      else high = mid;
    }
    if (low > 0) previous[k] = tails[low - 1] as number;
    tails[low] = k;
  }
  const out: [number, number][] = [];
  for (let k = tails.length ? tails[tails.length - 1] as number : -1; k >= 0; k = previous[k]!) {
    out.push(pairs[k] as [number, number]);
  }
  return out.reverse();
}
