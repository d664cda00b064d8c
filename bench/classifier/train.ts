/**
 * Trains the transformation classifier on the training repositories of `repos.json` and writes
 * its weights to `src/record/transformation_weights.ts`.
 *
 *   deno run --allow-read --allow-write bench/classifier/train.ts [--data DIR]
 *   deno run --allow-read bench/classifier/train.ts --validate   # tune on training repos only
 *
 * `--validate` never reads the held-out repositories' labels for a decision: it holds out some
 * training repositories (`VALIDATION_REPOS`) and prints the accuracy of each setting tried.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  CLASSIFIER_LABELS,
  type DecodedWeights,
  decodeWeights,
  explainFeatures,
  explainWith,
  FEATURES_VERSION,
  intentFeatures,
  intentModelIdOf,
  isIntentFeature,
  type ScoringTable,
  transformationFeatures,
  type TransformationWeights,
} from "../../src/record/transformation.ts";
import { type Example, loadDataset } from "./dataset.ts";
import {
  type DenseModel,
  hashFeatures,
  labelIndex,
  pack,
  seeded,
  train,
  type TrainOptions,
} from "./model.ts";

/** Folds of the grouped cross-validation of `--validate`: each training repository in one. */
export const FOLDS = 5;

/**
 * Assigns each training repository to a fold, largest first into the fold with fewest examples,
 * so that folds are of similar size and a repository is never split between folds.
 */
export function repositoryFolds(
  sizes: ReadonlyMap<string, number>,
  folds: number,
): Map<string, number> {
  const load = new Array(folds).fill(0);
  const assignment = new Map<string, number>();
  const repos = [...sizes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [repo, size] of repos) {
    const fold = load.indexOf(Math.min(...load));
    assignment.set(repo, fold);
    load[fold] += size;
  }
  return assignment;
}

/** The settings the shipped weights were trained with (chosen with `--validate`). */
export const SETTINGS = {
  buckets: 1 << 15,
  epochs: 5,
  learningRate: 0.01,
  l2: 1e-5,
  seed: 7,
  /** Class weight of the code model = (largest class / class size) ^ balance. */
  balance: 0.5,
  /** The same for the intent model. */
  intentBalance: 0.5,
  /** Learning rate of the intent model. */
  intentLearningRate: 0.01,
  /** Epochs of the intent model. */
  intentEpochs: 3,
  /** Weight of the code model's scores beside the intent model's, when both speak. */
  codeShare: 0.4,
  /** Share of the class weights' shift undone when the code model decides alone (0 to 1). */
  codeOnlyCorrection: 1,
  /** Share of the training examples used (below 1 only for learning curves, `--validate`). */
  fraction: 1,
  /** Buckets kept in the shipped code table. */
  keep: 6000,
  /** Hash buckets and buckets kept of the intent model. */
  intentBuckets: 1 << 14,
  intentKeep: 3000,
};

/** Features of an example with its intent, and without. */
export function exampleFeatures(e: Example): { withIntent: string[]; codeOnly: string[] } {
  const withIntent = transformationFeatures({ before: e.before, after: e.after, intent: e.intent });
  return { withIntent, codeOnly: withIntent.filter((f) => !isIntentFeature(f)) };
}

interface Prepared {
  label: number;
  repo: string;
  intent: string;
  withIntent: string[];
  codeOnly: string[];
}

function classWeights(data: readonly Prepared[], balance: number): number[] {
  const counts = CLASSIFIER_LABELS.map((_, c) => data.filter((d) => d.label === c).length);
  const largest = Math.max(...counts);
  return counts.map((n) => n === 0 ? 0 : Math.pow(largest / n, balance));
}

/** The intent's features of an example ("intent" is its intercept). */
function intentPart(d: Prepared): string[] {
  return d.withIntent.filter(isIntentFeature);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function predictions(
  data: readonly Prepared[],
  modelOf: (d: Prepared) => DecodedWeights,
  intent: boolean,
): number[] {
  return data.map((d) =>
    CLASSIFIER_LABELS.indexOf(
      explainFeatures(modelOf(d), intent ? d.withIntent : d.codeOnly).transformationType,
    )
  );
}

function accuracyBy(
  data: readonly Prepared[],
  modelOf: (d: Prepared) => DecodedWeights,
  intent: boolean,
): number {
  const p = predictions(data, modelOf, intent);
  return p.filter((x, i) => x === data[i]!.label).length / Math.max(1, data.length);
}

function macroF1By(
  data: readonly Prepared[],
  modelOf: (d: Prepared) => DecodedWeights,
  intent: boolean,
): number {
  const classes = CLASSIFIER_LABELS.length;
  const tp = new Array(classes).fill(0), fp = new Array(classes).fill(0);
  const fn = new Array(classes).fill(0);
  predictions(data, modelOf, intent).forEach((p, i) => {
    const label = data[i]!.label;
    if (p === label) tp[p]++;
    else {
      fp[p]++;
      fn[label]++;
    }
  });
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    const precision = tp[c] / Math.max(1, tp[c] + fp[c]);
    const recall = tp[c] / Math.max(1, tp[c] + fn[c]);
    sum += precision + recall === 0 ? 0 : 2 * precision * recall / (precision + recall);
  }
  return sum / classes;
}

function prepare(examples: readonly Example[]): Prepared[] {
  return examples.map((e) => ({
    label: labelIndex(e.label),
    repo: e.repo,
    intent: e.intent,
    ...exampleFeatures(e),
  }));
}

/**
 * The prepared training data, cached beside the dataset under the version of the features, so
 * that tuning runs do not extract the same features again.
 */
async function cachedPrepare(dir: string): Promise<Prepared[]> {
  // Only the code's features are cached: they are what costs (the intent's are recomputed).
  const cache = `${dir}/../features-code-v${FEATURES_VERSION}.json`;
  let cached: { label: number; repo: string; intent: string; codeOnly: string[] }[];
  try {
    cached = JSON.parse(await Deno.readTextFile(cache));
  } catch {
    const { train: examples } = await loadDataset(dir);
    cached = prepare(examples).map(({ label, repo, intent, codeOnly }) => ({
      label,
      repo,
      intent,
      codeOnly,
    }));
    await Deno.writeTextFile(cache, JSON.stringify(cached)).catch(() => {});
  }
  return cached.map((d) => ({ ...d, withIntent: [...d.codeOnly, ...intentFeatures(d.intent)] }));
}

/** The two trained models, dense. */
interface Trained {
  code: DenseModel;
  intent: DenseModel;
  codeShare: number;
  codeOnlyBias: number[];
}

/**
 * Trains the code model (code features, with the "bias" feature) and the intent model (intent
 * features, with the "intent" feature) apart: one table each, so that the many code features do
 * not collide with the few intent ones.
 */
function trainWith(data: readonly Prepared[], settings: typeof SETTINGS): Trained {
  const options: TrainOptions = {
    buckets: settings.buckets,
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    l2: settings.l2,
    seed: settings.seed,
  };
  const weights = classWeights(data, settings.balance);
  const intentWeights = classWeights(data, settings.intentBalance);
  const code = train(
    data.map((d) => ({
      buckets: hashFeatures(d.codeOnly, settings.buckets),
      label: d.label,
      weight: weights[d.label]!,
    })),
    options,
  );
  const intent = train(
    data.map((d) => ({
      buckets: hashFeatures(intentPart(d), settings.intentBuckets),
      label: d.label,
      weight: intentWeights[d.label]!,
    })),
    {
      ...options,
      buckets: settings.intentBuckets,
      epochs: settings.intentEpochs,
      learningRate: settings.intentLearningRate,
    },
  );
  // Class weights shift a model's scores by about log(weight) per class: undone when it is alone.
  const codeOnlyBias = weights.map((w) =>
    w === 0 ? 0 : Number((-settings.codeOnlyCorrection * Math.log(w)).toFixed(4))
  );
  return { code, intent, codeShare: settings.codeShare, codeOnlyBias };
}

function dense(model: DenseModel): ScoringTable {
  return {
    mask: model.buckets - 1,
    bias: [...model.bias],
    scale: CLASSIFIER_LABELS.map(() => 1),
    values: model.w,
    slotOf: (bucket) => bucket,
  };
}

/** The trained models as the classifier reads them, unpacked or through packing. */
function decoded(trained: Trained, settings?: typeof SETTINGS): DecodedWeights {
  if (!settings) {
    return {
      code: dense(trained.code),
      intent: dense(trained.intent),
      codeShare: trained.codeShare,
      codeOnlyBias: trained.codeOnlyBias,
    };
  }
  return decodeWeights(packed(trained, settings));
}

function packed(trained: Trained, settings: typeof SETTINGS): TransformationWeights {
  return {
    code: pack(trained.code, settings.keep),
    intent: pack(trained.intent, settings.intentKeep),
    codeShare: trained.codeShare,
    codeOnlyBias: trained.codeOnlyBias,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string", default: ".cache/classifier/dataset" },
      validate: { type: "boolean" },
      out: { type: "string", default: "src/record/transformation_weights.ts" },
    },
  });
  const started = performance.now();
  const data = await cachedPrepare(values.data);
  console.error(
    `${data.length} training examples, features in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  if (values.validate) {
    // Grouped cross-validation over the training repositories: every repository is predicted by
    // a model that never saw it, as the held-out ones are. The test repositories are not read.
    const sizes = new Map<string, number>();
    for (const d of data) sizes.set(d.repo, (sizes.get(d.repo) ?? 0) + 1);
    const folds = repositoryFolds(sizes, FOLDS);
    const grid: Partial<typeof SETTINGS>[] = JSON.parse(Deno.env.get("GRID") ?? "[{}]");
    const shares = [0, 0.1, 0.25, 0.4, 0.6, 0.8, 1];
    for (const change of grid) {
      const settings = { ...SETTINGS, ...change };
      const models: DecodedWeights[] = [];
      // A learning curve: each fold trains on a seeded share of its training examples.
      const random = seeded(settings.seed);
      const kept = data.map(() => random() < settings.fraction);
      for (let fold = 0; fold < FOLDS; fold++) {
        models.push(
          decoded(
            trainWith(data.filter((d, i) => kept[i] && folds.get(d.repo) !== fold), settings),
            settings,
          ),
        );
      }
      const modelOf = (d: Prepared, share?: number): DecodedWeights => {
        const model = models[folds.get(d.repo)!]!;
        return share === undefined ? model : { ...model, codeShare: share };
      };
      const cells = [
        `code ${pct(accuracyBy(data, (d) => modelOf(d), false))}`,
        // The correction scales the shift linearly: other values, without training again.
        ...[0, 0.5, 1.5].map((t) =>
          `code (correction ${t}) ${
            pct(accuracyBy(data, (d) => {
              const model = modelOf(d);
              const factor = t / (settings.codeOnlyCorrection || 1);
              return { ...model, codeOnlyBias: model.codeOnlyBias.map((b) => b * factor) };
            }, false))
          }`
        ),
        `words ${pct(accuracyBy(data, (d) => modelOf(d, 0), true))}`,
        ...shares.map((share) =>
          `share ${share}: ${pct(accuracyBy(data, (d) => modelOf(d, share), true))}`
        ),
        `macroF1 code ${macroF1By(data, (d) => modelOf(d), false).toFixed(3)} both ${
          macroF1By(data, (d) => modelOf(d), true).toFixed(3)
        }`,
      ];
      console.log(JSON.stringify(change), cells.join(" | "));
    }
  } else {
    const weights = packed(trainWith(data, SETTINGS), SETTINGS);
    const json = (value: unknown) => JSON.stringify(value, null, 2);
    const generated = `// Generated by bench/classifier/train.ts from the training repositories of
// bench/classifier/repos.json; do not edit. Settings: ${JSON.stringify(SETTINGS)}.`;
    // The intent table is a module of its own: the prompt hook loads it without the code table.
    const intentModule = `${generated}
import type { PackedTable } from "../../src/record/transformation_intent.ts";

/** The intent model's table (the prompt hook reads it alone, without the code model's). */
export const INTENT_TABLE: PackedTable = ${json(weights.intent)};

/** The intent model's name (\`intentModelIdOf(INTENT_TABLE)\`), stored with each request's scores. */
export const INTENT_MODEL_ID = "${intentModelIdOf(weights.intent)}";
`;
    const module = `${generated}
import { INTENT_TABLE } from "../../src/record/intent_weights.ts";
import type { PackedTable } from "../../src/record/transformation_intent.ts";
import type { TransformationWeights } from "../../src/record/transformation.ts";

/** The code model's table. */
export const CODE_TABLE: PackedTable = ${json(weights.code)};

/** The shipped weights of the transformation classifier. */
export const WEIGHTS: TransformationWeights = {
  code: CODE_TABLE,
  intent: INTENT_TABLE,
  codeShare: ${weights.codeShare},
  codeOnlyBias: ${JSON.stringify(weights.codeOnlyBias)},
};
`;
    // Beside the code model's file, whatever it is called.
    await Deno.writeTextFile(values.out.replace(/[^/\\]*$/, "intent_weights.ts"), intentModule);
    await Deno.writeTextFile(values.out, module);
    const check = explainWith(decodeWeights(weights), { before: "", after: "x\n" });
    console.error(
      `wrote ${values.out} (${module.length} bytes); a new file reads as ${check.transformationType}`,
    );
  }
}
