/**
 * The keyword baseline: a transformation type from the words of the request alone, by fixed word
 * lists (no learning). The first word decides when it is on a list (conventional-commit subjects
 * and requests start with the verb); otherwise any listed word, in the order bugfix, optimization,
 * refactor, enhancement; otherwise `bugfix`, the most common label of the training repositories.
 *
 * @module
 */

import { CLASS_WORDS as WORDS } from "../../src/record/transformation.ts";
import type { Label } from "./conventional.ts";

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
