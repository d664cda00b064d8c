/**
 * Pure scoring of a classifier's answers: accuracy, macro-F1 and per-class precision and recall.
 *
 * @module
 */

/** Scores of one system on one set of examples. */
export interface Scores {
  n: number;
  accuracy: number;
  macroF1: number;
  perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
}

/**
 * Scores answers against labels over the given classes (answers outside them count as wrong; a
 * class's F1 is 0 when it is never answered right). Macro-F1 averages the classes that occur in the
 * labels.
 *
 * @example
 * ```ts
 * import { score } from "./metrics.ts";
 * score(["a", "b"], ["a", "a"], ["a", "b"]).accuracy; // 0.5
 * ```
 */
export function score(
  answers: readonly string[],
  labels: readonly string[],
  classes: readonly string[],
): Scores {
  const perClass: Scores["perClass"] = {};
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (answers[i] === labels[i]) right++;
  let f1Sum = 0;
  let present = 0;
  for (const c of classes) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < labels.length; i++) {
      if (answers[i] === c && labels[i] === c) tp++;
      else if (answers[i] === c) fp++;
      else if (labels[i] === c) fn++;
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : 2 * precision * recall / (precision + recall);
    perClass[c] = { precision, recall, f1, support: tp + fn };
    if (tp + fn > 0) {
      f1Sum += f1;
      present++;
    }
  }
  return {
    n: labels.length,
    accuracy: labels.length === 0 ? 0 : right / labels.length,
    macroF1: present === 0 ? 0 : f1Sum / present,
    perClass,
  };
}

/**
 * The confusion matrix of answers against labels: `matrix[label][answer]` counts, over the given
 * classes (rows and columns in their order; answers outside them are not counted).
 *
 * @example
 * ```ts
 * import { confusion } from "./metrics.ts";
 * confusion(["a", "b", "a"], ["a", "a", "b"], ["a", "b"]); // [[1, 1], [1, 0]]
 * ```
 */
export function confusion(
  answers: readonly string[],
  labels: readonly string[],
  classes: readonly string[],
): number[][] {
  const matrix = classes.map(() => classes.map(() => 0));
  for (let i = 0; i < labels.length; i++) {
    const row = classes.indexOf(labels[i]!);
    const column = classes.indexOf(answers[i]!);
    if (row >= 0 && column >= 0) matrix[row]![column]!++;
  }
  return matrix;
}
