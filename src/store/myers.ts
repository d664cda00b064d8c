/**
 * Myers' greedy diff of two line arrays, bounded: the runs of equal lines, or null when the edit
 * cost is above the bound (the caller then replaces the range as a whole). Used by the line
 * patches (`line_patch.ts`) and by blame's line matching. Pure.
 *
 * @module
 */

/** A run of equal lines: `length` lines from index `a` of the first array and `b` of the second. */
export interface MatchRun {
  a: number;
  b: number;
  length: number;
}

/** When one side is a single line, the longest common subsequence is that line, if the other has it. */
export function singleLineMatch(
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
 * the square of `maxCost`: keep it bounded (see `src/views/line_match.ts` for what to do past it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { myersMatches } from "./myers.ts";
 * assert.deepEqual(myersMatches(["a", "b", "c"], ["a", "c"], 0, 3, 0, 2, 10), [
 *   { a: 0, b: 0, length: 1 },
 *   { a: 2, b: 1, length: 1 },
 * ]);
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
