/**
 * Pure rules of the classifier's dataset: which commits of a conventional-commit history are
 * labelled examples, with which label and intent, and which of their files are source changes.
 *
 * @module
 */

import type { TransformationType } from "../../src/record/lineage.ts";

/**
 * The conventional-commit types that name a transformation, and the label each becomes. Every
 * other type (docs, test, chore, style, build, ci, revert, …) says nothing about what the code
 * change was for, or is not a code change: such commits are left out.
 */
export const LABEL_OF_TYPE: Readonly<Record<string, TransformationType>> = {
  fix: "bugfix",
  feat: "enhancement",
  refactor: "refactor",
  perf: "optimization",
};

/** The labels the dataset can hold, in a fixed order (the classifier's output classes). */
export const LABELS = ["bugfix", "enhancement", "refactor", "optimization"] as const;
/** One of {@linkcode LABELS}. */
export type Label = typeof LABELS[number];

/** A commit subject read as a conventional commit. */
export interface ConventionalSubject {
  type: string;
  scope: string | null;
  breaking: boolean;
  /** The description: what the author asked for, without type, scope or a trailing PR number. */
  intent: string;
}

const SUBJECT = /^([A-Za-z]+)(?:\(([^)]*)\))?(!)?:\s*(.+)$/;

/**
 * Reads `type(scope)!: description (#123)`; null when the subject is not of that form.
 *
 * @example
 * ```ts
 * import { parseSubject } from "./conventional.ts";
 * parseSubject("fix(client): skip an undefined entry (#5280)");
 * // { type: "fix", scope: "client", breaking: false, intent: "skip an undefined entry" }
 * ```
 */
export function parseSubject(subject: string): ConventionalSubject | null {
  const match = SUBJECT.exec(subject.trim());
  if (!match) return null;
  const intent = (match[4] ?? "").replace(/\s*\((?:#\d+(?:,\s*)?)+\)\s*$/, "").trim();
  if (intent === "") return null;
  return {
    type: (match[1] ?? "").toLowerCase(),
    scope: match[2] ?? null,
    breaking: match[3] === "!",
    intent,
  };
}

/**
 * The label of a commit, or why it is left out: another type, a dependency bump (`fix(deps)`,
 * written by bots), or a bot author.
 *
 * @example
 * ```ts
 * import { labelOf, parseSubject } from "./conventional.ts";
 * labelOf(parseSubject("perf: avoid a copy")!, "Ada"); // { label: "optimization" }
 * labelOf(parseSubject("fix(deps): update rust crate x")!, "renovate[bot]"); // { skip: "dependency update" }
 * ```
 */
export function labelOf(
  subject: ConventionalSubject,
  author: string,
): { label: Label } | { skip: string } {
  const label = LABEL_OF_TYPE[subject.type];
  if (label === undefined) return { skip: `type ${subject.type}` };
  if (subject.scope !== null && /^(?:deps|deps-dev|dependencies)$/i.test(subject.scope)) {
    return { skip: "dependency update" };
  }
  if (/\[bot\]|^(?:renovate|dependabot|github-actions)\b/i.test(author)) {
    return { skip: "bot author" };
  }
  return { label: label as Label };
}

const SOURCE_EXTENSIONS = new Set([
  "ts",
  "tsx",
  "mts",
  "cts",
  "js",
  "jsx",
  "mjs",
  "cjs",
  "vue",
  "svelte",
  "py",
  "go",
  "rs",
  "java",
  "kt",
  "c",
  "h",
  "cc",
  "cpp",
  "hpp",
  "rb",
  "php",
  "swift",
  "cs",
  "sh",
]);

// Generated, vendored or data paths: their changes are not what the author wrote for the commit.
const NOT_AUTHORED =
  /(?:^|\/)(?:node_modules|vendor|dist|build|third_party|__snapshots__|snapshots|fixtures?|testdata|test-fixtures|__fixtures__|generated|\.yarn)\/|\.min\.[cm]?js$|\.d\.ts$|(?:^|\/)(?:package-lock|yarn\.lock|pnpm-lock)|\.snap$|(?:^|\/)CHANGELOG/i;

/**
 * Whether a changed path is a hand-written source file: a source extension, not generated, not
 * vendored, not a snapshot or fixture.
 *
 * @example
 * ```ts
 * import { isSourcePath } from "./conventional.ts";
 * isSourcePath("src/client/client.ts"); // true
 * isSourcePath("tests/__snapshots__/a.ts.snap"); // false
 * ```
 */
export function isSourcePath(path: string): boolean {
  const dot = path.lastIndexOf(".");
  if (dot < 0 || dot < path.lastIndexOf("/")) return false;
  if (!SOURCE_EXTENSIONS.has(path.slice(dot + 1).toLowerCase())) return false;
  return !NOT_AUTHORED.test(path);
}

/**
 * Whether a path looks like a test file (reported separately; the classifier never sees paths).
 *
 * @example
 * ```ts
 * import { isTestPath } from "./conventional.ts";
 * isTestPath("src/a_test.ts"); // true
 * isTestPath("src/a.ts"); // false
 * ```
 */
export function isTestPath(path: string): boolean {
  return /(?:^|\/)(?:tests?|__tests__|spec|e2e)\/|[._-](?:test|spec)\.[a-z]+$|_test\.[a-z]+$|(?:^|\/)test_[^/]*\.py$/i
    .test(path);
}
