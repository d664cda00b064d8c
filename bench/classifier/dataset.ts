/**
 * The classifier's dataset as the trainer and the evaluator read it: examples of held-out and
 * training repositories, with duplicates and commit-message artefacts taken out.
 *
 * @module
 */

import { fnv1a } from "../../src/record/transformation.ts";
import type { Label } from "./conventional.ts";

export { fnv1a };

/** `bench/classifier/repos.json`: the repositories, each up to a commit, and its split. */
export const REPOS_FILE = new URL("./repos.json", import.meta.url);

/** One entry of `repos.json`. */
export interface RepoEntry {
  repo: string;
  commit: string;
  split: "train" | "test";
  language: string;
}

/** One labelled change: one source file of one conventional commit. */
export interface Example {
  repo: string;
  commit: string;
  path: string;
  /** The path looks like a test file. */
  test: boolean;
  /** The conventional-commit type as written (fix, feat, refactor, perf). */
  type: string;
  label: Label;
  /** The subject without type, scope or PR number. */
  intent: string;
  before: string;
  after: string;
}

/** What {@linkcode cleanSplits} took out, and why. */
export interface CleaningReport {
  /** The same commit in two repositories (forks, imported histories): kept in the first only. */
  duplicateCommits: number;
  /** The same change (before and after) seen before: in test, or twice in one split. */
  duplicateChanges: number;
  /** Training examples whose change also occurs in a held-out repository. */
  trainLeaks: number;
  /** The commit subject, or a `type:` line, written into the code (changelogs, release notes). */
  messageArtefacts: number;
}

/**
 * Whether the change writes the commit message into the code: the intent itself (when it is long
 * enough to be unlikely by chance) or a conventional `type(scope): …` line among the added lines.
 *
 * @example
 * ```ts
 * import { hasMessageArtefact } from "./dataset.ts";
 * hasMessageArtefact({ before: "", after: "- fix: parse empty input\n", intent: "parse empty input" }); // true
 * ```
 */
export function hasMessageArtefact(e: { before: string; after: string; intent: string }): boolean {
  const old = new Set(e.before.split("\n"));
  const added = e.after.split("\n").filter((line) => !old.has(line)).join("\n");
  if (e.intent.length >= 16 && added.toLowerCase().includes(e.intent.toLowerCase())) return true;
  return /^\W*(?:fix|feat|perf|refactor)(?:\([^)]*\))?!?: \w/m.test(added);
}

/**
 * Takes duplicates and leaks out of the splits. Held-out examples are read first, so a change that
 * occurs in both splits stays in test and leaves training; within a split, the first copy stays.
 *
 * @example
 * ```ts
 * import { cleanSplits } from "./dataset.ts";
 * const { train, test, report } = cleanSplits([], []);
 * ```
 */
export function cleanSplits(
  train: readonly Example[],
  test: readonly Example[],
): { train: Example[]; test: Example[]; report: CleaningReport } {
  const report: CleaningReport = {
    duplicateCommits: 0,
    duplicateChanges: 0,
    trainLeaks: 0,
    messageArtefacts: 0,
  };
  const commitRepo = new Map<string, string>();
  const testChanges = new Set<string>();
  const seen = new Set<string>();
  const keep = (e: Example, split: "train" | "test"): boolean => {
    const owner = commitRepo.get(e.commit);
    if (owner !== undefined && owner !== e.repo) {
      report.duplicateCommits++;
      return false;
    }
    commitRepo.set(e.commit, e.repo);
    const key = `${fnv1a(e.before)}:${e.before.length}:${fnv1a(e.after)}:${e.after.length}`;
    if (split === "train" && testChanges.has(key)) {
      report.trainLeaks++;
      return false;
    }
    if (seen.has(key)) {
      report.duplicateChanges++;
      return false;
    }
    seen.add(key);
    if (split === "test") testChanges.add(key);
    if (hasMessageArtefact(e)) {
      report.messageArtefacts++;
      return false;
    }
    return true;
  };
  const cleanTest = test.filter((e) => keep(e, "test"));
  seen.clear();
  const cleanTrain = train.filter((e) => keep(e, "train"));
  return { train: cleanTrain, test: cleanTest, report };
}

/**
 * Reads the dataset the builder wrote (`<dir>/OWNER+NAME.jsonl`) and cleans it.
 *
 * @example
 * ```ts ignore
 * import { loadDataset } from "./dataset.ts";
 * const { train, test, report } = await loadDataset(".cache/classifier/dataset");
 * ```
 */
export async function loadDataset(
  dir: string,
): Promise<{ train: Example[]; test: Example[]; report: CleaningReport; repos: RepoEntry[] }> {
  const repos: RepoEntry[] = JSON.parse(await Deno.readTextFile(REPOS_FILE)).repos;
  const bySplit: Record<"train" | "test", Example[]> = { train: [], test: [] };
  for (const entry of repos) {
    const file = `${dir}/${entry.repo.replace("/", "+")}.jsonl`;
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch {
      throw new Error(
        `no dataset file ${file}: run bench/classifier/build_dataset.ts first (see bench/classifier/README.md)`,
      );
    }
    for (const line of text.split("\n")) {
      if (line.trim() !== "") bySplit[entry.split].push(JSON.parse(line));
    }
  }
  return { ...cleanSplits(bySplit.train, bySplit.test), repos };
}
