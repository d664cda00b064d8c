/**
 * Evaluates the shipped classifier on the held-out repositories of `repos.json` against the
 * baselines, prints a Markdown report, and (with `--write-fixture`) freezes a sample of held-out
 * examples as features for the regression test.
 *
 *   deno run --allow-read --allow-write bench/classifier/evaluate.ts [--data DIR] [--write-fixture]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { guessTransformation } from "../../src/record/lineage.ts";
import { lineDeltaBetween } from "../../src/record/pattern.ts";
import {
  decodeWeights,
  explainFeatures,
  FEATURES_VERSION,
  isIntentFeature,
  transformationFeatures,
} from "../../src/record/transformation.ts";
import { WEIGHTS } from "../../src/record/transformation_weights.ts";
import { LABELS } from "./conventional.ts";
import { type Example, fnv1a, loadDataset } from "./dataset.ts";
import { keywordLabel } from "./keywords.ts";
import { confusion, score, type Scores } from "./metrics.ts";

/** Where the frozen evaluation sample lives. */
export const FIXTURE_FILE = new URL(
  "../../tests/fixtures/transformation_eval.json.gz",
  import.meta.url,
);
/** The hand-judged sample of held-out commits (see its note). */
export const NOISE_SAMPLE_FILE = new URL("./label_noise_sample.json", import.meta.url);

/** One commit of the hand-judged sample. */
export interface JudgedCommit {
  repo: string;
  commit: string;
  type: string;
  intent: string;
  judgement: "clear" | "ambiguous" | "contradicts";
}

/** Examples per held-out repository in the frozen sample. */
const FIXTURE_PER_REPO = 40;

/** One frozen held-out example: its features (with intent) and the answers at freezing time. */
export interface FrozenExample {
  repo: string;
  commit: string;
  path: string;
  label: string;
  features: string[];
  /** The classifier's answers when frozen: code only, with intent. */
  answers: [string, string];
}

/** The frozen sample. */
export interface Fixture {
  featuresVersion: number;
  examples: FrozenExample[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function systemRow(name: string, s: Scores): string {
  const cells = LABELS.map((c) => {
    const p = s.perClass[c]!;
    return `${pct(p.precision)} / ${pct(p.recall)}`;
  });
  return `| ${name} | ${pct(s.accuracy)} | ${s.macroF1.toFixed(3)} | ${cells.join(" | ")} |`;
}

function balanceRow(name: string, examples: readonly Example[]): string {
  const cells = LABELS.map((c) => {
    const n = examples.filter((e) => e.label === c).length;
    return `${n} (${pct(n / Math.max(1, examples.length))})`;
  });
  return `| ${name} | ${examples.length} | ${cells.join(" | ")} |`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string", default: ".cache/classifier/dataset" },
      "write-fixture": { type: "boolean" },
    },
  });
  const { train, test, report, repos } = await loadDataset(values.data);
  const model = decodeWeights(WEIGHTS);
  const labels = test.map((e) => e.label);
  const counts = LABELS.map((c) => train.filter((e) => e.label === c).length);
  const majority = LABELS[counts.indexOf(Math.max(...counts))]!;

  const features = test.map((e) =>
    transformationFeatures({ before: e.before, after: e.after, intent: e.intent })
  );
  const codeOnly = features.map((f) => f.filter((x) => !isIntentFeature(x)));
  const answer = (f: readonly string[]) => explainFeatures(model, f).transformationType;
  const systems: [string, string[]][] = [
    [`majority label (\`${majority}\`)`, test.map(() => majority)],
    [
      "`guessTransformation` (today's hooks)",
      test.map((e) =>
        guessTransformation({
          before: e.before,
          after: e.after,
          delta: lineDeltaBetween(e.before, e.after),
          replaceAll: false,
        })
      ),
    ],
    ["keyword rule, words only", test.map((e) => keywordLabel(e.intent))],
    ["classifier, code only", codeOnly.map(answer)],
    [
      "classifier, words only (intent model)",
      features.map((f) => answer(f.filter((x) => isIntentFeature(x) || x === "bias"))),
    ],
    ["classifier, code + words", features.map(answer)],
  ];
  const out: string[] = [];
  out.push(
    `Held-out repositories: ${
      repos.filter((r) => r.split === "test").map((r) => `${r.repo} (${r.language})`).join(", ")
    }. Training: ${repos.filter((r) => r.split === "train").map((r) => r.repo).join(", ")}.`,
    "",
    `Taken out before use: ${report.duplicateChanges} duplicate changes, ${report.duplicateCommits} commits present in two repositories, ${report.trainLeaks} training changes also in a held-out repository, ${report.messageArtefacts} changes that write the commit message into the code.`,
    "",
    "Class balance:",
    "",
    `| split | examples | ${LABELS.join(" | ")} |`,
    `| --- | ---: | ${LABELS.map(() => "---:").join(" | ")} |`,
    balanceRow("training", train),
    balanceRow("held out", test),
    "",
    `On the ${test.length} held-out changes (precision / recall per class):`,
    "",
    `| system | accuracy | macro-F1 | ${LABELS.join(" | ")} |`,
    `| --- | ---: | ---: | ${LABELS.map(() => "---:").join(" | ")} |`,
  );
  for (const [name, answers] of systems) out.push(systemRow(name, score(answers, labels, LABELS)));

  const codeAnswers = systems[3]![1];
  const bothAnswers = systems[5]![1];
  out.push(
    "",
    "Per held-out repository (accuracy, classifier code only / code + words; keyword rule):",
    "",
  );
  out.push("| repository | changes | code only | code + words | keyword rule |");
  out.push("| --- | ---: | ---: | ---: | ---: |");
  const groups: [string, (e: Example) => boolean][] = [
    ...repos.filter((r) => r.split === "test").map((
      r,
    ): [string, (e: Example) => boolean] => [r.repo, (e) => e.repo === r.repo]),
    ["new files (empty before)", (e) => e.before === ""],
    ["modified files", (e) => e.before !== ""],
    ["test files", (e) => e.test],
    ["other files", (e) => !e.test],
  ];
  for (const [name, member] of groups) {
    const idx = test.flatMap((e, i) => member(e) ? [i] : []);
    const acc = (answers: string[]) =>
      pct(idx.filter((i) => answers[i] === labels[i]).length / Math.max(1, idx.length));
    out.push(
      `| ${name} | ${idx.length} | ${acc(codeAnswers)} | ${acc(bothAnswers)} | ${
        acc(systems[2]![1])
      } |`,
    );
  }

  for (
    const [name, answers] of [["code only", codeAnswers], ["code + words", bothAnswers]] as const
  ) {
    const matrix = confusion(answers, labels, LABELS);
    out.push(
      "",
      `Confusion matrix, classifier ${name} (rows: label; columns: answer):`,
      "",
      `| label \\ answer | ${LABELS.join(" | ")} |`,
      `| --- | ${LABELS.map(() => "---:").join(" | ")} |`,
      ...LABELS.map((label, r) => `| ${label} | ${matrix[r]!.join(" | ")} |`),
    );
  }
  out.push(
    "",
    "Recall per class and held-out repository, classifier code + words (code only in brackets):",
    "",
    `| repository | ${LABELS.map((l) => `${l} (n)`).join(" | ")} |`,
    `| --- | ${LABELS.map(() => "---:").join(" | ")} |`,
  );
  for (const r of repos.filter((r) => r.split === "test")) {
    const idx = test.flatMap((e, i) => e.repo === r.repo ? [i] : []);
    const cells = LABELS.map((label) => {
      const of = idx.filter((i) => labels[i] === label);
      if (of.length === 0) return "–";
      const recall = (answers: string[]) =>
        pct(of.filter((i) => answers[i] === label).length / of.length);
      return `${recall(bothAnswers)} (${recall(codeAnswers)}) (${of.length})`;
    });
    out.push(`| ${r.repo} | ${cells.join(" | ")} |`);
  }

  // Why words alone stop near 70%: the commonest first words of the training repositories' requests
  // and how their changes are labelled (the test repositories are not read for this).
  const byFirstWord = new Map<string, number[]>();
  for (const e of train) {
    const first = e.intent.toLowerCase().match(/[a-z][a-z']*/)?.[0] ?? "";
    const row = byFirstWord.get(first) ?? LABELS.map(() => 0);
    row[LABELS.indexOf(e.label)]!++;
    byFirstWord.set(first, row);
  }
  const commonest = [...byFirstWord].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, 16);
  out.push(
    "",
    "The commonest first words of the training requests, and the labels of their changes:",
    "",
    `| first word | changes | ${LABELS.join(" | ")} |`,
    `| --- | ---: | ${LABELS.map(() => "---:").join(" | ")} |`,
    ...commonest.map(([word, row]) =>
      `| ${word} | ${sum(row)} | ${row.map((n) => pct(n / sum(row))).join(" | ")} |`
    ),
  );

  const judged: JudgedCommit[] = JSON.parse(await Deno.readTextFile(NOISE_SAMPLE_FILE)).commits;
  const judgementOf = new Map(judged.map((j) => [j.commit, j.judgement]));
  out.push(
    "",
    `Hand-judged sample: ${judged.length} held-out commits judged from their words alone (bench/classifier/label_noise_sample.json); accuracy on their changes:`,
    "",
    "| judgement | commits | changes | keyword rule | classifier, words only | classifier, code + words |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const judgement of ["clear", "ambiguous", "contradicts"] as const) {
    const commits = judged.filter((j) => j.judgement === judgement).length;
    const idx = test.flatMap((e, i) => judgementOf.get(e.commit) === judgement ? [i] : []);
    const acc = (answers: string[]) =>
      pct(idx.filter((i) => answers[i] === labels[i]).length / Math.max(1, idx.length));
    out.push(
      `| ${judgement} | ${commits} | ${idx.length} | ${acc(systems[2]![1])} | ${
        acc(systems[4]![1])
      } | ${acc(bothAnswers)} |`,
    );
  }
  console.log(out.join("\n"));

  if (values["write-fixture"]) {
    const examples: FrozenExample[] = [];
    for (const r of repos.filter((r) => r.split === "test")) {
      const picked = test
        .map((e, i) => ({ e, i }))
        .filter(({ e }) => e.repo === r.repo)
        .sort((a, b) => fnv1a(a.e.commit + a.e.path) - fnv1a(b.e.commit + b.e.path))
        .slice(0, FIXTURE_PER_REPO);
      for (const { e, i } of picked) {
        examples.push({
          repo: e.repo,
          commit: e.commit,
          path: e.path,
          label: e.label,
          features: features[i]!,
          answers: [codeAnswers[i]!, bothAnswers[i]!],
        });
      }
    }
    const fixture: Fixture = { featuresVersion: FEATURES_VERSION, examples };
    const gz = new Response(
      new Blob([JSON.stringify(fixture)]).stream().pipeThrough(new CompressionStream("gzip")),
    );
    await Deno.writeFile(FIXTURE_FILE, new Uint8Array(await gz.arrayBuffer()));
    console.error(`wrote ${FIXTURE_FILE.pathname}: ${examples.length} examples`);
  }
}
