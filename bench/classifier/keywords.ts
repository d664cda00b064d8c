/**
 * The keyword baseline: a transformation type from the words of the request alone, by fixed word
 * lists (no learning). The first word decides when it is on a list (conventional-commit subjects
 * and requests start with the verb); otherwise any listed word, in the order bugfix, optimization,
 * refactor, enhancement; otherwise `bugfix`, the most common label of the training repositories.
 *
 * @module
 */

import type { Label } from "./conventional.ts";

const WORDS: readonly [Label, RegExp][] = [
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

/**
 * The keyword rule's label for some words.
 *
 * @example
 * ```ts
 * import { keywordLabel } from "./keywords.ts";
 * keywordLabel("add a --json flag"); // "enhancement"
 * keywordLabel("handle an empty list"); // "bugfix"
 * ```
 */
export function keywordLabel(intent: string): Label {
  const words = intent.toLowerCase().match(/[a-z]+/g) ?? [];
  const first = words[0];
  if (first !== undefined) {
    for (const [label, list] of WORDS) if (list.test(first)) return label;
  }
  for (const [label, list] of WORDS) if (words.some((w) => list.test(w))) return label;
  return "bugfix";
}
