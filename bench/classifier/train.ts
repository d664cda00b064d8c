/**
 * Trains the transformation classifier on the training repositories of `repos.json` and writes
 * its weights to `src/transformation_weights.ts`.
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
  isIntentFeature,
  type ScoringTable,
  transformationFeatures,
  type TransformationWeights,
} from "../../src/transformation.ts";
import { type Example, loadDataset } from "./dataset.ts";
import {
  type DenseModel,
  hashFeatures,
  labelIndex,
  pack,
  train,
  type TrainOptions,
} from "./model.ts";

/** Training repositories held out by `--validate` to choose the settings. */
export const VALIDATION_REPOS = [
  "unjs/nitro",
  "go-task/task",
  "meltano/meltano",
  "tauri-apps/tauri",
  "denoland/vscode_deno",
];

/** The settings the shipped weights were trained with (chosen with `--validate`). */
export const SETTINGS = {
  buckets: 1 << 15,
  epochs: 5,
  learningRate: 0.01,
  l2: 1e-5,
  seed: 7,
  /** Class weight = (largest class / class size) ^ balance. */
  balance: 0.5,
  /** Epochs of the intent model. */
  intentEpochs: 3,
  /** Weight of the code model's scores beside the intent model's, when both speak. */
  codeShare: 0.25,
  /** Buckets kept in the shipped code table. */
  keep: 4000,
  /** Hash buckets and buckets kept of the intent model. */
  intentBuckets: 1 << 14,
  intentKeep: 2000,
};

/** Features of an example with its intent, and without. */
export function exampleFeatures(e: Example): { withIntent: string[]; codeOnly: string[] } {
  const withIntent = transformationFeatures({ before: e.before, after: e.after, intent: e.intent });
  return { withIntent, codeOnly: withIntent.filter((f) => !isIntentFeature(f)) };
}

interface Prepared {
  label: number;
  repo: string;
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

function predictions(model: DecodedWeights, data: readonly Prepared[], intent: boolean): number[] {
  return data.map((d) =>
    CLASSIFIER_LABELS.indexOf(
      explainFeatures(model, intent ? d.withIntent : d.codeOnly).transformationType,
    )
  );
}

function accuracy(model: DecodedWeights, data: readonly Prepared[], intent: boolean): number {
  const p = predictions(model, data, intent);
  return p.filter((x, i) => x === data[i]!.label).length / Math.max(1, data.length);
}

function macroF1(model: DecodedWeights, data: readonly Prepared[], intent: boolean): number {
  const classes = CLASSIFIER_LABELS.length;
  const tp = new Array(classes).fill(0), fp = new Array(classes).fill(0);
  const fn = new Array(classes).fill(0);
  predictions(model, data, intent).forEach((p, i) => {
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
  return examples.map((e) => ({ label: labelIndex(e.label), repo: e.repo, ...exampleFeatures(e) }));
}

/**
 * The prepared training data, cached beside the dataset under the version of the features, so
 * that tuning runs do not extract the same features again.
 */
async function cachedPrepare(dir: string): Promise<Prepared[]> {
  const cache = `${dir}/../features-train-v${FEATURES_VERSION}.json`;
  try {
    return JSON.parse(await Deno.readTextFile(cache));
  } catch {
    const { train: examples } = await loadDataset(dir);
    const data = prepare(examples);
    await Deno.writeTextFile(cache, JSON.stringify(data)).catch(() => {});
    return data;
  }
}

/** The two trained models, dense. */
interface Trained {
  code: DenseModel;
  intent: DenseModel;
  codeShare: number;
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
      weight: weights[d.label]!,
    })),
    { ...options, buckets: settings.intentBuckets, epochs: settings.intentEpochs },
  );
  return { code, intent, codeShare: settings.codeShare };
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
    };
  }
  return decodeWeights(packed(trained, settings));
}

function packed(trained: Trained, settings: typeof SETTINGS): TransformationWeights {
  return {
    code: pack(trained.code, settings.keep),
    intent: pack(trained.intent, settings.intentKeep),
    codeShare: trained.codeShare,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string", default: ".cache/classifier/dataset" },
      validate: { type: "boolean" },
      out: { type: "string", default: "src/transformation_weights.ts" },
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
    const fit = data.filter((d) => !VALIDATION_REPOS.includes(d.repo));
    const held = data.filter((d) => VALIDATION_REPOS.includes(d.repo));
    const counts = CLASSIFIER_LABELS.map((_, c) => held.filter((d) => d.label === c).length);
    console.log(`validation: ${held.length} examples, classes ${counts.join(" / ")}`);
    const grid: Partial<typeof SETTINGS>[] = JSON.parse(Deno.env.get("GRID") ?? "[{}]");
    for (const change of grid) {
      const settings = { ...SETTINGS, ...change };
      const model = decoded(trainWith(fit, settings));
      const packed = decoded(trainWith(fit, settings), settings);
      console.log(
        JSON.stringify(change),
        `code ${(100 * accuracy(model, held, false)).toFixed(1)}%`,
        `intent ${(100 * accuracy(model, held, true)).toFixed(1)}%`,
        `macroF1 code ${macroF1(model, held, false).toFixed(3)} intent ${
          macroF1(model, held, true).toFixed(3)
        }`,
        `| packed code ${(100 * accuracy(packed, held, false)).toFixed(1)}% intent ${
          (100 * accuracy(packed, held, true)).toFixed(1)
        }%`,
      );
    }
  } else {
    const weights = packed(trainWith(data, SETTINGS), SETTINGS);
    const module = `// Generated by bench/classifier/train.ts from the training repositories of
// bench/classifier/repos.json; do not edit. Settings: ${JSON.stringify(SETTINGS)}.
import type { TransformationWeights } from "./transformation.ts";

/** The shipped weights of the transformation classifier. */
export const WEIGHTS: TransformationWeights = ${JSON.stringify(weights, null, 2)};
`;
    await Deno.writeTextFile(values.out, module);
    const check = explainWith(decodeWeights(weights), { before: "", after: "x\n" });
    console.error(
      `wrote ${values.out} (${module.length} bytes); a new file reads as ${check.transformationType}`,
    );
  }
}
