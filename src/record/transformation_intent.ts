/**
 * The words side of the transformation classifier (`transformation.ts`): the features of a
 * request's words, the intent model's table, and what the words add to a change's scores — its
 * {@linkcode intentScores}, four numbers the tracker stores for each request instead of its text.
 * A module of its own, with its own weights (`intent_weights.ts`), so that the prompt hook loads
 * neither the code model nor its weights.
 *
 * @module
 */

import { INTENT_MODEL_ID, INTENT_TABLE } from "./intent_weights.ts";

const MAX_INTENT_CHARS = 2000;

/** The decoded intent table of the shipped weights, on first use. */
let decodedIntent: ScoringTable | null = null;

/** The classes of the model, in the order of its weights. */
export const CLASSIFIER_LABELS = ["bugfix", "enhancement", "refactor", "optimization"] as const;
/** One of {@linkcode CLASSIFIER_LABELS}: the types the classifier can answer. */
export type ClassifierLabel = typeof CLASSIFIER_LABELS[number];

/** One hashed weight table, as `transformation_weights.ts` and `intent_weights.ts` store it. */
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
 * 32-bit FNV-1a hash of a string's UTF-16 code units: the feature hash of the classifier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fnv1a } from "./transformation_intent.ts";
 * assert.equal(fnv1a("a"), 3826002220);
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
 * The features of a request's words (none for empty words): the intent model's part of
 * {@linkcode transformationFeatures}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intentFeatures } from "./transformation_intent.ts";
 * assert.ok(intentFeatures("fix a crash").includes("i0:fix"));
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
 * import assert from "node:assert/strict";
 * import { decodeTable, fnv1a, intentFeatures } from "./transformation_intent.ts";
 * import { INTENT_TABLE } from "./intent_weights.ts";
 * const table = decodeTable(INTENT_TABLE);
 * // A bucket without weights has no slot; the features of a common request have some.
 * assert.equal(table.slotOf(0), -1);
 * const slots = intentFeatures("fix a crash").map((f) => table.slotOf(fnv1a(f) & table.mask));
 * assert.ok(slots.some((slot) => slot >= 0));
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

/** Whether a feature is read from the intent (the intent model's) rather than the code. */
export function isIntentFeature(feature: string): boolean {
  return feature === "intent" || /^i(?:0|01|2|n|k|ka)?:/.test(feature);
}

/** One feature's weight per class. */
export interface Contribution {
  feature: string;
  weights: number[];
}

/** Adds the weights of some features from one table to `scores`, each hash bucket once. */
export function addFeatures(
  table: ScoringTable,
  features: readonly string[],
  factor: number,
  scores: number[],
  contributions: Contribution[],
): void {
  const classes = CLASSIFIER_LABELS.length;
  const used = new Set<number>();
  for (const feature of features) {
    const b = fnv1a(feature) & table.mask;
    if (used.has(b)) continue; // a hash collision within one change counts once
    used.add(b);
    const slot = table.slotOf(b);
    if (slot < 0) continue;
    const weights: number[] = [];
    for (let c = 0; c < classes; c++) {
      const w = factor * table.values[slot * classes + c]! * table.scale[c]!;
      scores[c]! += w;
      weights.push(w);
    }
    contributions.push({ feature, weights });
  }
}

/**
 * The intent model's scores of some intent features (as {@linkcode intentFeatures} gives them),
 * one per class in {@linkcode CLASSIFIER_LABELS} order, its bias included: what the words add to
 * the code's scores. Null when there are no features (words without a word: code alone decides).
 */
export function intentPart(
  table: ScoringTable,
  features: readonly string[],
  contributions: Contribution[],
): number[] | null {
  if (!features.includes("intent")) return null;
  const scores = [...table.bias];
  addFeatures(table, features, 1, scores, contributions);
  return scores;
}

/** The shipped intent table, decoded once per process. */
export function shippedIntentTable(): ScoringTable {
  decodedIntent ??= decodeTable(INTENT_TABLE);
  return decodedIntent;
}

/**
 * What a request's words add to the classification of the changes made for it: the intent
 * model's score of each class, in {@linkcode CLASSIFIER_LABELS} order (its bias included), or null
 * when the words hold no word (the code alone then decides). Four numbers that say nothing of the
 * text; classifying with them (`intentScores` of {@linkcode TransformationInput}) gives exactly
 * what classifying with the words gives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intentScores } from "./transformation_intent.ts";
 * assert.equal(intentScores("fix the crash when the list is empty")?.length, 4);
 * assert.equal(intentScores("!!!"), null);
 * ```
 */
export function intentScores(intent: string): number[] | null {
  return intentPart(shippedIntentTable(), intentFeatures(intent), []);
}

/**
 * The class the words alone point to (the highest of {@linkcode intentScores}): the request's
 * intent label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intentLabel, intentScores } from "./transformation_intent.ts";
 * assert.equal(intentLabel(intentScores("fix the crash when the list is empty")!), "bugfix");
 * ```
 */
export function intentLabel(scores: readonly number[]): ClassifierLabel {
  let best = 0;
  for (let c = 1; c < CLASSIFIER_LABELS.length; c++) if (scores[c]! > scores[best]!) best = c;
  return CLASSIFIER_LABELS[best]!;
}

/**
 * The name of an intent model: FNV-1a of its table, 8 hex digits. Stored beside each request's
 * {@linkcode intentScores}, so that scores made by other weights are not mixed with this code
 * model. The trainer writes the shipped one into `intent_weights.ts` (`INTENT_MODEL_ID`):
 * hashing the table costs a hook milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intentModelIdOf } from "./transformation_intent.ts";
 * import { INTENT_MODEL_ID, INTENT_TABLE } from "./intent_weights.ts";
 * assert.equal(intentModelIdOf(INTENT_TABLE), INTENT_MODEL_ID);
 * ```
 */
export function intentModelIdOf(table: PackedTable): string {
  const text = `${table.buckets}|${table.bias.join(",")}|${
    table.scale.join(",")
  }|${table.index}|${table.values}`;
  return fnv1a(text).toString(16).padStart(8, "0");
}

/**
 * The name of the shipped intent model ({@linkcode intentModelIdOf} of its table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intentModelId, intentModelIdOf } from "./transformation_intent.ts";
 * import { INTENT_TABLE } from "./intent_weights.ts";
 * assert.match(intentModelId(), /^[0-9a-f]{8}$/); // e.g. "e2700f17"
 * assert.equal(intentModelId(), intentModelIdOf(INTENT_TABLE));
 * ```
 */
export function intentModelId(): string {
  return INTENT_MODEL_ID;
}
