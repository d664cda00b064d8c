/**
 * Pure classifier of a change's Phase 4 transformation type, from the code before and after and,
 * when known, the words of the request that asked for it.
 *
 * A linear model over hashed features: the shape of the line diff (how many lines added and
 * removed, where, a new file, renames), the words of the added and removed lines (identifiers
 * split into their parts, keywords, null-guard operators), and the words of the intent. It was
 * trained on conventional-commit histories of public repositories (`bench/classifier/`); its
 * weights are in `transformation_weights.ts`. It answers one of the four types such histories
 * label — `bugfix` (fix), `enhancement` (feat), `refactor` (refactor), `optimization` (perf) —
 * never `merge` or `simplification`, which no history labels.
 *
 * Any text is accepted: an empty `before` is a new file; CRLF is read as LF; very long inputs are
 * read up to fixed bounds, so the cost of a call has a ceiling.
 *
 * @module
 */

import type { TransformationType } from "./lineage.ts";
import {
  addFeatures,
  CLASSIFIER_LABELS,
  type ClassifierLabel,
  type Contribution,
  decodeTable,
  intentFeatures,
  intentPart,
  isIntentFeature,
  type PackedTable,
  type ScoringTable,
  shippedIntentTable,
} from "./transformation_intent.ts";
import { WEIGHTS } from "./transformation_weights.ts";

export {
  CLASS_WORDS,
  CLASSIFIER_LABELS,
  type ClassifierLabel,
  classOfWord,
  decodeTable,
  fnv1a,
  intentFeatures,
  intentLabel,
  intentModelId,
  intentModelIdOf,
  intentScores,
  isIntentFeature,
  type PackedTable,
  type ScoringTable,
} from "./transformation_intent.ts";

/** What the classifier reads. */
export interface TransformationInput {
  /** The content before the change; empty for a new file. */
  before: string;
  /** The content after the change. */
  after: string;
  /** The words of the request that asked for the change, if known. */
  intent?: string | null;
  /**
   * What the words add, when the words themselves are not kept: {@linkcode intentScores} of them
   * (the tracker stores these for each request instead of its text). Read only without `intent`.
   */
  intentScores?: readonly number[] | null;
}

/**
 * The weights of the model: a code model and an intent model, each a linear model over its own
 * hashed features. Without intent the code model decides, its scores shifted by `codeOnlyBias`;
 * with intent the scores add up, the code's times `codeShare`.
 */
export interface TransformationWeights {
  code: PackedTable;
  intent: PackedTable;
  codeShare: number;
  /**
   * Added to the code model's scores when it decides alone, per class: undoes the class weights
   * it was trained with (which help beside the intent model), so that alone it answers the most
   * likely class.
   */
  codeOnlyBias: number[];
}

/** Version of {@linkcode transformationFeatures}: change it with the features (trainer caches). */
export const FEATURES_VERSION = 4;

/** Bounds that cap the cost of one call whatever the input's size. */
const MAX_TEXT_CHARS = 4 * 1024 * 1024;
const MAX_LINES_READ = 400;
const MAX_LINE_CHARS = 300;

function splitLines(text: string): string[] {
  const bounded = text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
  const lf = bounded.includes("\r") ? bounded.replace(/\r\n?/g, "\n") : bounded;
  if (lf === "") return [];
  const lines = lf.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The changed lines of a line diff: common prefix and suffix trimmed, moved lines cancelled. */
interface LineChange {
  beforeLines: number;
  afterLines: number;
  /** Lines of the changed region of `after` that are not in the changed region of `before`. */
  added: string[];
  /** Lines of the changed region of `before` that are not in the changed region of `after`. */
  removed: string[];
  /** Lines in both changed regions (moved or re-ordered). */
  kept: number;
  /** Runs of consecutive added lines in the changed region: about the number of hunks. */
  addedRuns: number;
}

function diffLines(before: string[], after: string[]): LineChange {
  let start = 0;
  const shortest = Math.min(before.length, after.length);
  while (start < shortest && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  const remaining = new Map<string, number>();
  for (let i = start; i < endB; i++) {
    const line = before[i]!;
    remaining.set(line, (remaining.get(line) ?? 0) + 1);
  }
  const added: string[] = [];
  let kept = 0;
  let addedRuns = 0;
  let inRun = false;
  for (let i = start; i < endA; i++) {
    const line = after[i]!;
    const left = remaining.get(line) ?? 0;
    if (left > 0) {
      remaining.set(line, left - 1);
      kept++;
      inRun = false;
    } else {
      added.push(line);
      if (!inRun) addedRuns++;
      inRun = true;
    }
  }
  const removed: string[] = [];
  for (let i = start; i < endB; i++) {
    const line = before[i]!;
    const left = remaining.get(line) ?? 0;
    if (left > 0) {
      remaining.set(line, left - 1);
      removed.push(line);
    }
  }
  return {
    beforeLines: before.length,
    afterLines: after.length,
    added,
    removed,
    kept,
    addedRuns,
  };
}

function bucket(n: number): string {
  if (n <= 0) return "0";
  if (n === 1) return "1";
  if (n <= 3) return "2-3";
  if (n <= 7) return "4-7";
  if (n <= 15) return "8-15";
  if (n <= 40) return "16-40";
  if (n <= 100) return "41-100";
  return "100+";
}

function ratioBucket(x: number): string {
  return x <= 0 ? "0" : x < 0.1 ? "<.1" : x < 0.3 ? "<.3" : x < 0.6 ? "<.6" : x < 0.9 ? "<.9" : "1";
}

const TOKEN = /[A-Za-z_$][A-Za-z0-9_$]*|\?\.|\?\?|!==?|===?|&&|\|\||=>|::|->|:=|[{}()[\];]/g;
const PART = /[A-Z]{2,}(?=[A-Z][a-z]|\b|[0-9_])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+/g;

/** Adds the words of some lines to `into`, each once: identifiers by their lower-cased parts. */
function lineWords(lines: readonly string[], into: Set<string>, idents?: Set<string>): void {
  const count = Math.min(lines.length, MAX_LINES_READ);
  for (let i = 0; i < count; i++) {
    let line = lines[i]!;
    if (line.length > MAX_LINE_CHARS) line = line.slice(0, MAX_LINE_CHARS);
    for (const token of line.match(TOKEN) ?? []) {
      const first = token.charCodeAt(0);
      const isWord = (first >= 65 && first <= 90) || (first >= 97 && first <= 122) ||
        first === 95 || first === 36;
      if (!isWord) {
        into.add(token);
        continue;
      }
      idents?.add(token);
      const parts = token.match(PART);
      if (!parts || parts.length === 1) {
        into.add(token.toLowerCase());
        continue;
      }
      for (const part of parts) if (part.length > 1) into.add(part.toLowerCase());
    }
  }
}

const MAX_NAMES_LOOKED_UP = 48;

/**
 * The share of some names (the first 48) that do not occur in a text, as substrings: one native
 * search each, so a large file costs no tokenizing.
 */
function absentShare(names: ReadonlySet<string>, text: string): number {
  let looked = 0;
  let absent = 0;
  for (const name of names) {
    if (looked++ === MAX_NAMES_LOOKED_UP) break;
    if (!text.includes(name)) absent++;
  }
  return absent / Math.max(1, looked);
}

function isCommentLine(line: string): boolean {
  return /^\s*(?:\/\/|#(?!\[|include|define|if|!)|\/\*|\*|--|<!--)/.test(line);
}

/**
 * The features the model reads from a change, as strings (the model hashes them). Exported for
 * the trainer and for explanations; the same input always gives the same list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transformationFeatures } from "./transformation.ts";
 * assert.deepEqual(transformationFeatures({ before: "", after: "x\n" }), ["bias", "new", "+w:x"]);
 * const features = transformationFeatures({ before: "a\n", after: "a\nb\n", intent: "add b" });
 * assert.ok(features.includes("i:add"));
 * ```
 */
export function transformationFeatures(input: TransformationInput): string[] {
  const before = typeof input.before === "string" ? input.before : "";
  const after = typeof input.after === "string" ? input.after : "";
  const features: string[] = ["bias"];
  const beforeLines = splitLines(before);
  const afterLines = splitLines(after);
  const change = diffLines(beforeLines, afterLines);
  const isNew = before.trim() === "";
  const added = change.added.length;
  const removed = change.removed.length;
  if (isNew) features.push("new");
  else {
    features.push(`a:${bucket(added)}`, `r:${bucket(removed)}`);
    features.push(`ar:${bucket(added)}|${bucket(removed)}`);
    features.push(`net:${added > removed ? "+" : added < removed ? "-" : "="}`);
    features.push(`runs:${bucket(change.addedRuns)}`);
    features.push(`kept:${bucket(change.kept)}`);
    features.push(
      `share:${
        ratioBucket((added + removed) / Math.max(1, beforeLines.length + afterLines.length))
      }`,
    );
    features.push(`size:${bucket(Math.round(change.afterLines / 10))}`);
    if (added === 0 && removed === 0) features.push("reorder-only");
    const trimmedAdded = change.added.map((l) => l.trim()).filter((l) => l !== "");
    const trimmedRemoved = new Set(change.removed.map((l) => l.trim()));
    if (trimmedAdded.length > 0 && trimmedAdded.every((l) => trimmedRemoved.has(l))) {
      features.push("whitespace-only");
    }
    const commentAdded = change.added.filter(isCommentLine).length;
    if (added > 0) features.push(`comment-share:${ratioBucket(commentAdded / added)}`);
  }

  const plus = new Set<string>();
  const minus = new Set<string>();
  const plusIdents = new Set<string>();
  const minusIdents = new Set<string>();
  lineWords(change.added, plus, plusIdents);
  lineWords(change.removed, minus, minusIdents);
  for (const w of plus) features.push(minus.has(w) ? `=w:${w}` : `+w:${w}`);
  for (const w of minus) if (!plus.has(w)) features.push(`-w:${w}`);
  if (!isNew && plusIdents.size > 0) {
    // Names the change brings that the file did not have: new things, or renames.
    features.push(`novel:${ratioBucket(absentShare(plusIdents, before))}`);
    if (minusIdents.size > 0) {
      features.push(`gone:${ratioBucket(absentShare(minusIdents, after))}`);
    }
  }

  if (typeof input.intent === "string") features.push(...intentFeatures(input.intent));
  return features;
}

/** Decoded weights of both models. */
export interface DecodedWeights {
  code: ScoringTable;
  intent: ScoringTable;
  codeShare: number;
  codeOnlyBias: readonly number[];
}

let decoded: DecodedWeights | null = null;

/**
 * Expands stored weights (once per process for the shipped weights).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWeights } from "./transformation.ts";
 * import { WEIGHTS } from "./transformation_weights.ts";
 * assert.equal(decodeWeights(WEIGHTS).codeShare, WEIGHTS.codeShare);
 * ```
 */
export function decodeWeights(weights: TransformationWeights): DecodedWeights {
  return {
    code: decodeTable(weights.code),
    intent: decodeTable(weights.intent),
    codeShare: weights.codeShare,
    codeOnlyBias: weights.codeOnlyBias,
  };
}

/** The answer of the classifier with what led to it. */
export interface TransformationExplanation {
  transformationType: ClassifierLabel;
  /** Probability of each class (softmax of the scores). */
  probabilities: Record<ClassifierLabel, number>;
  /** Whether intent words (or their stored scores) were read. */
  usedIntent: boolean;
  /** The features that pushed most towards the answer, strongest first. */
  strongest: { feature: string; weight: number }[];
}

/**
 * The answer from the code's features and the intent's scores (null: the code alone), the one
 * place both are combined: with intent the code's scores count `codeShare`, without it they are
 * shifted by `codeOnlyBias`.
 */
function combine(
  model: DecodedWeights,
  codeFeatures: readonly string[],
  intent: readonly number[] | null,
  contributions: Contribution[],
): TransformationExplanation {
  const classes = CLASSIFIER_LABELS.length;
  const usedIntent = intent !== null;
  const share = usedIntent ? model.codeShare : 1;
  const code = model.code.bias.map((b, c) =>
    share * b + (usedIntent ? 0 : model.codeOnlyBias[c] ?? 0)
  );
  const codeContributions: Contribution[] = [];
  addFeatures(model.code, codeFeatures, share, code, codeContributions);
  const scores = code.map((s, c) => s + (intent?.[c] ?? 0));
  let best = 0;
  for (let c = 1; c < classes; c++) if (scores[c]! > scores[best]!) best = c;
  const top = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - top));
  const total = exps.reduce((a, b) => a + b, 0);
  const probabilities = Object.fromEntries(
    CLASSIFIER_LABELS.map((label, c) => [label, exps[c]! / total]),
  ) as Record<ClassifierLabel, number>;
  const strongest = [...codeContributions, ...contributions]
    .map(({ feature, weights }) => ({ feature, weight: weights[best]! }))
    .filter((c) => c.weight > 0)
    .sort((x, y) => y.weight - x.weight)
    .slice(0, 8);
  return {
    transformationType: CLASSIFIER_LABELS[best]!,
    probabilities,
    usedIntent,
    strongest,
  };
}

/**
 * Scores a change with given weights (the trainer passes its own; callers use the shipped ones
 * through {@linkcode classifyTransformation}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWeights, explainWith } from "./transformation.ts";
 * import { WEIGHTS } from "./transformation_weights.ts";
 * const explained = explainWith(decodeWeights(WEIGHTS), { before: "", after: "x\n" });
 * assert.equal(explained.transformationType, "enhancement"); // a new file
 * assert.equal(explained.usedIntent, false);
 * ```
 */
export function explainWith(
  model: DecodedWeights,
  input: TransformationInput,
): TransformationExplanation {
  if (typeof input.intent !== "string" && input.intentScores) {
    const stored = [...input.intentScores];
    const contributions = [{ feature: "intent (stored scores)", weights: stored }];
    return combine(model, transformationFeatures(input), stored, contributions);
  }
  return explainFeatures(model, transformationFeatures(input));
}

/**
 * Scores a list of features (as {@linkcode transformationFeatures} gives them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWeights, explainFeatures } from "./transformation.ts";
 * import { WEIGHTS } from "./transformation_weights.ts";
 * assert.equal(explainFeatures(decodeWeights(WEIGHTS), ["bias", "new"]).transformationType, "enhancement");
 * ```
 */
export function explainFeatures(
  model: DecodedWeights,
  features: readonly string[],
): TransformationExplanation {
  const contributions: Contribution[] = [];
  const intent = intentPart(model.intent, features.filter(isIntentFeature), contributions);
  return combine(model, features.filter((f) => !isIntentFeature(f)), intent, contributions);
}

function shippedModel(): DecodedWeights {
  decoded ??= {
    code: decodeTable(WEIGHTS.code),
    intent: shippedIntentTable(),
    codeShare: WEIGHTS.codeShare,
    codeOnlyBias: WEIGHTS.codeOnlyBias,
  };
  return decoded;
}

/**
 * The transformation type of a change, with the probabilities and the features behind it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainTransformation } from "./transformation.ts";
 * const explained = explainTransformation({ before: "a\n", after: "a\nb\n", intent: "fix a crash" });
 * assert.equal(explained.transformationType, "bugfix");
 * ```
 */
export function explainTransformation(input: TransformationInput): TransformationExplanation {
  return explainWith(shippedModel(), input);
}

/**
 * The Phase 4 transformation type of a change: one of `bugfix`, `enhancement`, `refactor`,
 * `optimization`. Deterministic; never throws on any text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyTransformation } from "./transformation.ts";
 * const type = classifyTransformation({
 *   before: "function f(x) {\n  return x.length;\n}\n",
 *   after: "function f(x) {\n  return x?.length ?? 0;\n}\n",
 *   intent: "handle a missing list",
 * });
 * assert.equal(type, "bugfix");
 * ```
 */
export function classifyTransformation(input: TransformationInput): TransformationType {
  return explainTransformation(input).transformationType;
}
