/**
 * Pure lineage decisions: is a change a new pattern, a modification of a known one, or no change at
 * all; and what kind of transformation it looks like.
 *
 * @module
 */

import { type LineDelta, normalizeLineEndings } from "./pattern.ts";

/** Phase 4 event types. */
export const EVENT_TYPES = [
  "pattern_created",
  "pattern_modified",
  "pattern_merged",
  "pattern_applied",
  "pattern_deprecated",
  "pattern_forked",
  "pattern_validated",
] as const;
/** One of {@linkcode EVENT_TYPES}. */
export type EventType = typeof EVENT_TYPES[number];

/** Phase 4 edge types. */
export const EDGE_TYPES = [
  "derived_from",
  "modified_from",
  "merged_from",
  "replaced_by",
  "inspired_by",
  "deprecated_by",
] as const;
/** One of {@linkcode EDGE_TYPES}. */
export type EdgeType = typeof EDGE_TYPES[number];

/** Phase 4 transformation types. */
export const TRANSFORMATION_TYPES = [
  "refactor",
  "enhancement",
  "bugfix",
  "merge",
  "optimization",
  "simplification",
] as const;
/** One of {@linkcode TRANSFORMATION_TYPES}. */
export type TransformationType = typeof TRANSFORMATION_TYPES[number];

/** What a change means for the lineage of a file. */
export type LineageDecision =
  | { kind: "unchanged"; patternId: string }
  | { kind: "created"; patternId: string }
  | { kind: "modified"; patternId: string; parentPatternId: string };

/** Inputs of {@linkcode decideLineage}. */
export interface LineageFacts {
  /** ID of the content before: null for a new file, undefined when the payload does not say. */
  beforeId: string | null | undefined;
  afterId: string;
  /** ID of the newest version of this file in the store, if any. */
  latestKnownId: string | null;
}

/**
 * Decides whether a change creates a pattern, modifies one (and which), or changes nothing.
 *
 * The content before, when Claude Code sends it, is the truth; the store's latest version is used
 * only when the payload does not say (a notebook cell, an old Claude Code).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideLineage } from "./lineage.ts";
 * assert.deepEqual(decideLineage({ beforeId: "a", afterId: "b", latestKnownId: "a" }), {
 *   kind: "modified",
 *   patternId: "b",
 *   parentPatternId: "a",
 * });
 * ```
 */
export function decideLineage(facts: LineageFacts): LineageDecision {
  const parent = facts.beforeId === undefined ? facts.latestKnownId : facts.beforeId;
  if (parent === null) return { kind: "created", patternId: facts.afterId };
  if (parent === facts.afterId) return { kind: "unchanged", patternId: facts.afterId };
  return { kind: "modified", patternId: facts.afterId, parentPatternId: parent };
}

// One expression each (a single compilation): guards, error handling, or the word "fix".
const BUGFIX_SIGNAL =
  /\b(?:fix|fixes|fixed|bug|typo|off[- ]by[- ]one|regression|workaround)\b|\bis (?:not )?None\b|[!=]==?\s*(?:null|undefined|nil)\b|\bnullptr\b|\?\.|\b(?:try|except|catch|rescue|finally|raise|throw)\b/i;
// Caching, batching, faster structures.
const OPTIMIZATION_SIGNAL =
  /\b(?:cache|cached|memo|memoize|lru_cache|optimi[sz]e|faster|perf)\b|functools\.cache|Promise\.all|asyncio\.gather|\bbatch|\bvectori[sz]e\b|\bnumpy\b|\bnp\.|\bnew (?:Set|Map)\b|\b(?:set|dict|frozenset)\(/i;

/**
 * Guesses the Phase 4 transformation type of a modification from the shape of the change. Phase 4
 * needs one of six labels and the tool cannot know the author's intent, so the rules read only what
 * the diff shows, in this order:
 * 1. a replace-all edit that keeps the line count is a rename: `refactor`;
 * 2. mostly lines removed (net shrink of at least a fifth, or nothing added): `simplification`;
 * 3. added lines that guard against errors or say "fix": `bugfix`;
 * 4. added lines that cache, batch or use faster structures: `optimization`;
 * 5. more lines added than removed: `enhancement`;
 * 6. anything else (same size, lines reworded): `refactor`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { guessTransformation } from "./lineage.ts";
 * assert.equal(
 *   guessTransformation({
 *     before: "def f(x):\n    return x\n",
 *     after: "def f(x):\n    if x is None:\n        return 0\n    return x\n",
 *     delta: { added: 2, removed: 0 },
 *     replaceAll: false,
 *   }),
 *   "bugfix",
 * );
 * ```
 */
export function guessTransformation(change: {
  before: string;
  after: string;
  delta: LineDelta;
  replaceAll: boolean;
}): TransformationType {
  const { added, removed } = change.delta;
  const before = linesOf(change.before);
  const after = linesOf(change.after);
  if (change.replaceAll && before.count === after.count) return "refactor";
  if ((removed > 0 && added === 0) || (before.count > 0 && after.count <= before.count * 0.8)) {
    return "simplification";
  }
  const addedText = addedLines(before.lines, after.lines);
  if (BUGFIX_SIGNAL.test(addedText)) return "bugfix";
  if (OPTIMIZATION_SIGNAL.test(addedText)) return "optimization";
  if (added > removed) return "enhancement";
  return "refactor";
}

/**
 * A text's lines (LF line endings; the piece after a last line break included) and its line count
 * (that piece not counted): each text is split once.
 */
function linesOf(text: string): { lines: string[]; count: number } {
  const normalized = normalizeLineEndings(text);
  const lines = normalized.split("\n");
  return { lines, count: text === "" ? 0 : lines.length - (normalized.endsWith("\n") ? 1 : 0) };
}

/**
 * The lines of `after` that are not in `before`, joined: the text the change brought in. The
 * lines `after` shares with `before` at its start and end are lines of `before`, so only the lines
 * between are looked up (a one-line Edit of a large file looks up one line, without a set of all
 * of the file's lines).
 */
function addedLines(before: readonly string[], after: readonly string[]): string {
  const most = Math.min(before.length, after.length);
  let head = 0;
  while (head < most && before[head] === after[head]) head++;
  let tail = 0;
  while (
    tail < most - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]
  ) {
    tail++;
  }
  const middle = after.slice(head, after.length - tail);
  if (middle.length === 0) return "";
  // A few lines: a scan each costs less than hashing every line of `before`.
  if (middle.length <= 8) return middle.filter((line) => !before.includes(line)).join("\n");
  const old = new Set(before);
  return middle.filter((line) => !old.has(line)).join("\n");
}
