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

import type { TransformationType } from "./record/lineage.ts";
import { WEIGHTS } from "./transformation_weights.ts";

/** The classes of the model, in the order of its weights. */
export const CLASSIFIER_LABELS = ["bugfix", "enhancement", "refactor", "optimization"] as const;
/** One of {@linkcode CLASSIFIER_LABELS}: the types the classifier can answer. */
export type ClassifierLabel = typeof CLASSIFIER_LABELS[number];

/** What the classifier reads. */
export interface TransformationInput {
  /** The content before the change; empty for a new file. */
  before: string;
  /** The content after the change. */
  after: string;
  /** The words of the request that asked for the change, if known. */
  intent?: string | null;
}

/** One hashed weight table, as `transformation_weights.ts` stores it. */
export interface PackedTable {
  /** Number of hash buckets (a power of two). */
  buckets: number;
  /** One intercept per class, in {@linkcode CLASSIFIER_LABELS} order. */
  bias: number[];
  /** Multiplier of the stored 8-bit weights, per class. */
  scale: number[];
  /** Base64 of the used buckets' numbers, ascending, as little-endian 16-bit integers. */
  index: string;
  /** Base64 of signed 8-bit weights, one per class for each used bucket. */
  values: string;
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
const MAX_INTENT_CHARS = 2000;

/**
 * 32-bit FNV-1a hash of a string's UTF-16 code units: the feature hash of the classifier.
 *
 * @example
 * ```ts
 * import { fnv1a } from "./transformation.ts";
 * fnv1a("a"); // 3826002220
 * ```
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

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

const INTENT_WORD = /[a-z][a-z0-9']*/g;

/**
 * Lower-cased words of an intent, lightly stemmed so "removes", "removed", "remove" agree. A
 * quoted `code span` is one word, "code": the names in it belong to one project and teach nothing
 * about the next (measured: better by cross-validation over repositories).
 */
function intentWords(intent: string): string[] {
  const text = intent.slice(0, MAX_INTENT_CHARS).toLowerCase().replace(/`[^`]*`/g, " code ");
  return (text.match(INTENT_WORD) ?? []).map(stem);
}

/**
 * Word lists of each class (a fixed lexicon, not learned): the keyword baseline of
 * `bench/classifier/keywords.ts` and two features of the intent model, which learns how far to
 * trust them. Checked in this order.
 */
export const CLASS_WORDS: readonly [ClassifierLabel, RegExp][] = [
  [
    "bugfix",
    /^(?:fix|fixe[sd]|fixing|bug|bugs|correct|correctly|handle|handles|prevent|prevents|avoid|crash|crashes|error|errors|wrong|incorrect|missing|broken|issue|issues|regression|ensure|respect|properly|should|fail|fails|failing|typo|workaround|revert|resolve|restore)$/,
  ],
  [
    "optimization",
    /^(?:perf|performance|faster|fast|speed|speedup|optimi[sz]e[sd]?|optimi[sz]ation|cache|caching|cached|memoize|efficient|efficiently|lazy|lazily|allocations?|throughput|latency)$/,
  ],
  [
    "refactor",
    /^(?:refactor|refactors|refactored|refactoring|rename|renames|renamed|move|moves|moved|extract|extracts|restructure|reorgani[sz]e|cleanup|clean|simplify|simplifies|split|consolidate|deduplicate|dedupe|inline|reuse|unify|migrate|internal|internals|replace|remove|drop|tidy)$/,
  ],
  [
    "enhancement",
    /^(?:add|adds|added|adding|support|supports|implement|implements|allow|allows|introduce|introduces|new|enable|enables|expose|exposes|option|options|feature|create|provide|provides|accept|accepts|initial)$/,
  ],
];

/** The first class of {@linkcode CLASS_WORDS} whose list has the word, if any. */
export function classOfWord(word: string): ClassifierLabel | undefined {
  for (const [label, list] of CLASS_WORDS) if (list.test(word)) return label;
  return undefined;
}

/** Words after which the request says what must not happen ("don't close stdin"). */
const NEGATIONS = new Set(["don't", "dont", "not", "no", "never", "avoid", "prevent", "without"]);

function stem(word: string): string {
  let w = word;
  if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
  else if (w.length > 4 && w.endsWith("es")) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

/**
 * The features the model reads from a change, as strings (the model hashes them). Exported for
 * the trainer and for explanations; the same input always gives the same list.
 *
 * @example
 * ```ts
 * import { transformationFeatures } from "./transformation.ts";
 * transformationFeatures({ before: "a\n", after: "a\nb\n", intent: "add b" }).includes("i:add"); // true
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

/**
 * The features of a request's words (none for empty words): the intent model's part of
 * {@linkcode transformationFeatures}.
 *
 * @example
 * ```ts
 * import { intentFeatures } from "./transformation.ts";
 * intentFeatures("fix a crash").includes("i0:fix"); // true
 * ```
 */
export function intentFeatures(intent: string): string[] {
  const words = intentWords(intent);
  if (words.length === 0) return [];
  const features = ["intent", `i0:${words[0]}`];
  // The lexicon reads the words as written (its lists hold inflected forms), not stemmed.
  const raw = intent.slice(0, MAX_INTENT_CHARS).toLowerCase().match(/[a-z]+/g) ?? [];
  const firstClass = raw[0] === undefined ? undefined : classOfWord(raw[0]);
  if (firstClass) features.push(`ik:${firstClass}`);
  for (const [label, list] of CLASS_WORDS) {
    if (raw.some((w) => list.test(w))) features.push(`ika:${label}`);
  }
  if (words.length > 1) features.push(`i01:${words[0]}_${words[1]}`);
  const seen = new Set<string>();
  let negated = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!seen.has(w)) features.push(`i:${w}`);
    seen.add(w);
    if (i + 1 < words.length) features.push(`i2:${w}_${words[i + 1]}`);
    if (negated) features.push(`in:${w}`);
    else if (NEGATIONS.has(w)) negated = true;
  }
  return features;
}

/**
 * A table ready to score: `values[slot * classes + class] * scale[class]` is the weight of the
 * bucket that `slotOf` maps to that slot (-1: an unused bucket, weight 0).
 */
export interface ScoringTable {
  mask: number;
  bias: number[];
  scale: number[];
  values: ArrayLike<number>;
  slotOf(bucket: number): number;
}

/** Decoded weights of both models. */
export interface DecodedWeights {
  code: ScoringTable;
  intent: ScoringTable;
  codeShare: number;
  codeOnlyBias: readonly number[];
}

let decoded: DecodedWeights | null = null;

// Native base64 decoding where the runtime has it (Deno 2): no loop over the bytes at load.
const fromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array })
  .fromBase64;

function base64Bytes(text: string): Uint8Array {
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Reads one stored table without expanding it: the bucket numbers and the weights are views of
 * the decoded bytes, and a bucket is found by binary search (hooks load this once per process,
 * so loading does no work per weight).
 *
 * @example
 * ```ts
 * import { decodeTable } from "./transformation.ts";
 * import { WEIGHTS } from "./transformation_weights.ts";
 * decodeTable(WEIGHTS.code).slotOf(0); // a slot number, or -1
 * ```
 */
export function decodeTable(table: PackedTable): ScoringTable {
  const indexBytes = base64Bytes(table.index);
  const keys = new Uint16Array(indexBytes.buffer, indexBytes.byteOffset, indexBytes.length >> 1);
  const valueBytes = base64Bytes(table.values);
  const values = new Int8Array(valueBytes.buffer, valueBytes.byteOffset, valueBytes.length);
  return {
    mask: table.buckets - 1,
    bias: table.bias,
    scale: table.scale,
    values,
    slotOf(bucket: number): number {
      let lo = 0;
      let hi = keys.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const key = keys[mid]!;
        if (key === bucket) return mid;
        if (key < bucket) lo = mid + 1;
        else hi = mid - 1;
      }
      return -1;
    },
  };
}

/**
 * Expands stored weights (once per process for the shipped weights).
 *
 * @example
 * ```ts
 * import { decodeWeights } from "./transformation.ts";
 * import { WEIGHTS } from "./transformation_weights.ts";
 * decodeWeights(WEIGHTS).codeShare; // WEIGHTS.codeShare
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

/** Whether a feature is read from the intent (the intent model's) rather than the code. */
export function isIntentFeature(feature: string): boolean {
  return feature === "intent" || /^i(?:0|01|2|n|k|ka)?:/.test(feature);
}

/** The answer of the classifier with what led to it. */
export interface TransformationExplanation {
  transformationType: ClassifierLabel;
  /** Probability of each class (softmax of the scores). */
  probabilities: Record<ClassifierLabel, number>;
  /** Whether intent words were read. */
  usedIntent: boolean;
  /** The features that pushed most towards the answer, strongest first. */
  strongest: { feature: string; weight: number }[];
}

/**
 * Scores a change with given weights (the trainer passes its own; callers use the shipped ones
 * through {@linkcode classifyTransformation}).
 *
 * @example
 * ```ts
 * import { decodeWeights, explainWith } from "./transformation.ts";
 * import { WEIGHTS } from "./transformation_weights.ts";
 * explainWith(decodeWeights(WEIGHTS), { before: "", after: "x\n" }).transformationType;
 * ```
 */
export function explainWith(
  model: DecodedWeights,
  input: TransformationInput,
): TransformationExplanation {
  return explainFeatures(model, transformationFeatures(input));
}

/**
 * Scores a list of features (as {@linkcode transformationFeatures} gives them).
 *
 * @example
 * ```ts
 * import { decodeWeights, explainFeatures } from "./transformation.ts";
 * import { WEIGHTS } from "./transformation_weights.ts";
 * explainFeatures(decodeWeights(WEIGHTS), ["bias", "new"]).transformationType;
 * ```
 */
export function explainFeatures(
  model: DecodedWeights,
  features: readonly string[],
): TransformationExplanation {
  const classes = CLASSIFIER_LABELS.length;
  const usedIntent = features.includes("intent");
  const share = usedIntent ? model.codeShare : 1;
  const scores = model.code.bias.map((b, c) =>
    share * b + (usedIntent ? model.intent.bias[c]! : model.codeOnlyBias[c] ?? 0)
  );
  const contributions: { feature: string; weights: number[] }[] = [];
  const used = new Set<number>();
  for (const feature of features) {
    const intentFeature = isIntentFeature(feature);
    const table = intentFeature ? model.intent : model.code;
    const b = fnv1a(feature) & table.mask;
    const key = intentFeature ? -1 - b : b;
    if (used.has(key)) continue; // a hash collision within one change counts once
    used.add(key);
    const slot = table.slotOf(b);
    if (slot < 0) continue;
    const factor = intentFeature ? 1 : share;
    const weights: number[] = [];
    for (let c = 0; c < classes; c++) {
      const w = factor * table.values[slot * classes + c]! * table.scale[c]!;
      scores[c]! += w;
      weights.push(w);
    }
    contributions.push({ feature, weights });
  }
  let best = 0;
  for (let c = 1; c < classes; c++) if (scores[c]! > scores[best]!) best = c;
  const top = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - top));
  const total = exps.reduce((a, b) => a + b, 0);
  const probabilities = Object.fromEntries(
    CLASSIFIER_LABELS.map((label, c) => [label, exps[c]! / total]),
  ) as Record<ClassifierLabel, number>;
  const strongest = contributions
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
 * The transformation type of a change, with the probabilities and the features behind it.
 *
 * @example
 * ```ts
 * import { explainTransformation } from "./transformation.ts";
 * explainTransformation({ before: "a\n", after: "a\nb\n", intent: "fix a crash" }).transformationType; // "bugfix"
 * ```
 */
export function explainTransformation(input: TransformationInput): TransformationExplanation {
  decoded ??= decodeWeights(WEIGHTS);
  return explainWith(decoded, input);
}

/**
 * The Phase 4 transformation type of a change: one of `bugfix`, `enhancement`, `refactor`,
 * `optimization`. Deterministic; never throws on any text.
 *
 * @example
 * ```ts
 * import { classifyTransformation } from "./transformation.ts";
 * classifyTransformation({
 *   before: "function f(x) {\n  return x.length;\n}\n",
 *   after: "function f(x) {\n  return x?.length ?? 0;\n}\n",
 *   intent: "handle a missing list",
 * }); // "bugfix"
 * ```
 */
export function classifyTransformation(input: TransformationInput): TransformationType {
  return explainTransformation(input).transformationType;
}
