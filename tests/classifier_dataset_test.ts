/** The classifier's dataset rules, baseline and metrics (bench/classifier/). */
import assert from "node:assert/strict";
import {
  isSourcePath,
  isTestPath,
  labelOf,
  parseSubject,
} from "../bench/classifier/conventional.ts";
import { cleanSplits, type Example, hasMessageArtefact } from "../bench/classifier/dataset.ts";
import { keywordLabel } from "../bench/classifier/keywords.ts";
import { score } from "../bench/classifier/metrics.ts";

Deno.test("dataset: conventional subjects give the label and the intent without type, scope or PR number", () => {
  const s = parseSubject("feat(router)!: add a wildcard route (#123)")!;
  assert.deepEqual(s, {
    type: "feat",
    scope: "router",
    breaking: true,
    intent: "add a wildcard route",
  });
  assert.equal(parseSubject("Merge pull request #1 from x/y"), null);
  assert.equal(parseSubject("fix: "), null);
  assert.deepEqual(labelOf(parseSubject("fix: a")!, "Ada"), { label: "bugfix" });
  assert.deepEqual(labelOf(parseSubject("refactor: a")!, "Ada"), { label: "refactor" });
  assert.deepEqual(labelOf(parseSubject("perf: a")!, "Ada"), { label: "optimization" });
  assert.deepEqual(labelOf(parseSubject("docs: a")!, "Ada"), { skip: "type docs" });
  assert.deepEqual(labelOf(parseSubject("fix(deps): bump x")!, "Ada"), {
    skip: "dependency update",
  });
  assert.deepEqual(labelOf(parseSubject("fix: a")!, "renovate[bot]"), { skip: "bot author" });
});

Deno.test("dataset: source paths exclude generated, vendored, snapshot and changelog files", () => {
  for (const p of ["src/a.ts", "lib/x.py", "cmd/main.go", "crates/a/src/lib.rs", "App.vue"]) {
    assert.ok(isSourcePath(p), p);
  }
  for (
    const p of [
      "README.md",
      "package.json",
      "dist/a.js",
      "vendor/x.go",
      "a.min.js",
      "types/a.d.ts",
      "tests/__snapshots__/a.ts",
      "tests/fixtures/a.ts",
      "Makefile",
    ]
  ) assert.ok(!isSourcePath(p), p);
  assert.ok(isTestPath("src/a_test.ts") && isTestPath("tests/x.py") && isTestPath("a.spec.ts"));
  assert.ok(!isTestPath("src/contest.ts"));
});

function example(over: Partial<Example>): Example {
  return {
    repo: "o/r",
    commit: "c1",
    path: "a.ts",
    test: false,
    type: "fix",
    label: "bugfix",
    intent: "x",
    before: "a\n",
    after: "b\n",
    ...over,
  };
}

Deno.test("dataset: cleaning drops held-out changes from training, duplicates, shared commits and message artefacts", () => {
  const test = [example({ repo: "t/t", commit: "t1" }), example({ repo: "t/t", commit: "t2" })];
  const train = [
    example({ commit: "c1" }), // the same change as a held-out one: a leak
    example({ commit: "c2", after: "c\n" }),
    example({ commit: "c3", after: "c\n" }), // a duplicate within training
    example({ repo: "f/f", commit: "c2", after: "d\n" }), // the same commit in a fork
    example({ commit: "c4", after: "- fix: the parser\n" }),
  ];
  const { train: kept, test: held, report } = cleanSplits(train, test);
  assert.deepEqual(held.map((e) => e.commit), ["t1"]);
  assert.deepEqual(kept.map((e) => e.commit), ["c2"]);
  assert.deepEqual(report, {
    duplicateCommits: 1,
    duplicateChanges: 2,
    trainLeaks: 1,
    messageArtefacts: 1,
  });
  assert.ok(
    hasMessageArtefact({
      before: "",
      after: "// handle the empty response body\n",
      intent: "handle the empty response body",
    }),
  );
  assert.ok(!hasMessageArtefact({ before: "", after: "const fix = 1;\n", intent: "a" }));
});

Deno.test("keyword baseline and metrics", () => {
  assert.equal(keywordLabel("add a --json flag"), "enhancement");
  assert.equal(keywordLabel("handle an empty list"), "bugfix");
  assert.equal(keywordLabel("rename the helpers"), "refactor");
  assert.equal(keywordLabel("make parsing faster"), "optimization");
  assert.equal(keywordLabel("zzz"), "bugfix");
  const s = score(["a", "a", "b", "c"], ["a", "b", "b", "b"], ["a", "b"]);
  assert.equal(s.accuracy, 0.5);
  assert.equal(s.perClass.a!.precision, 0.5);
  assert.equal(s.perClass.b!.recall, 1 / 3);
  const f1a = 2 * 0.5 * 1 / 1.5;
  const f1b = 2 * 1 * (1 / 3) / (1 + 1 / 3);
  assert.ok(Math.abs(s.macroF1 - (f1a + f1b) / 2) < 1e-12);
});
