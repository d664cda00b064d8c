/**
 * Training and packing of the classifier's linear model: multinomial logistic regression over
 * hashed features, trained by AdaGrad with L2, then the strongest buckets kept and quantized to
 * 8 bits per class for `src/record/transformation_weights.ts`.
 *
 * @module
 */

import {
  CLASSIFIER_LABELS,
  type ClassifierLabel,
  fnv1a,
  type PackedTable,
} from "../../src/record/transformation.ts";

/** One training instance: hashed feature buckets (unique) and its class index. */
export interface Instance {
  buckets: Int32Array;
  label: number;
  weight: number;
}

/** Hyper-parameters of {@linkcode train}. */
export interface TrainOptions {
  buckets: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

/** Unique buckets of a feature list. */
export function hashFeatures(features: readonly string[], buckets: number): Int32Array {
  const set = new Set<number>();
  for (const f of features) set.add(fnv1a(f) & (buckets - 1));
  return Int32Array.from(set);
}

/** The class index of a label. */
export function labelIndex(label: ClassifierLabel): number {
  return CLASSIFIER_LABELS.indexOf(label);
}

/** A small seeded generator (mulberry32), so training is reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A trained model before packing: dense weights `w[bucket * classes + class]` and biases. */
export interface DenseModel {
  buckets: number;
  w: Float32Array;
  bias: Float64Array;
}

/**
 * Trains the model. The bias is the always-present "bias" feature's bucket plus a free intercept.
 */
export function train(instances: readonly Instance[], options: TrainOptions): DenseModel {
  const classes = CLASSIFIER_LABELS.length;
  const w = new Float32Array(options.buckets * classes);
  const g2 = new Float32Array(options.buckets * classes).fill(1e-6);
  const bias = new Float64Array(classes);
  const biasG2 = new Float64Array(classes).fill(1e-6);
  const random = seeded(options.seed);
  const order = instances.map((_, i) => i);
  const scores = new Float64Array(classes);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const index of order) {
      const x = instances[index]!;
      for (let c = 0; c < classes; c++) scores[c] = bias[c]!;
      for (const b of x.buckets) {
        for (let c = 0; c < classes; c++) scores[c]! += w[b * classes + c]!;
      }
      let top = -Infinity;
      for (let c = 0; c < classes; c++) top = Math.max(top, scores[c]!);
      let total = 0;
      for (let c = 0; c < classes; c++) {
        scores[c] = Math.exp(scores[c]! - top);
        total += scores[c]!;
      }
      for (let c = 0; c < classes; c++) {
        const grad = x.weight * (scores[c]! / total - (c === x.label ? 1 : 0));
        biasG2[c]! += grad * grad;
        bias[c]! -= options.learningRate * grad / Math.sqrt(biasG2[c]!);
        for (const b of x.buckets) {
          const k = b * classes + c;
          const g = grad + options.l2 * w[k]!;
          g2[k]! += g * g;
          w[k]! -= options.learningRate * g / Math.sqrt(g2[k]!);
        }
      }
    }
  }
  return { buckets: options.buckets, w, bias };
}

/**
 * Packs a dense model: the `keep` buckets with the largest weights, 8 bits per class weight with a
 * per-class scale, bucket numbers as 16-bit integers (little-endian, as typed arrays are on every
 * platform Deno runs on).
 */
export function pack(model: DenseModel, keep: number): PackedTable {
  const classes = CLASSIFIER_LABELS.length;
  const strength: { b: number; s: number }[] = [];
  for (let b = 0; b < model.buckets; b++) {
    let s = 0;
    for (let c = 0; c < classes; c++) s = Math.max(s, Math.abs(model.w[b * classes + c]!));
    if (s > 0) strength.push({ b, s });
  }
  strength.sort((x, y) => y.s - x.s || x.b - y.b);
  const kept = strength.slice(0, keep).map((x) => x.b).sort((x, y) => x - y);
  const scale: number[] = [];
  for (let c = 0; c < classes; c++) {
    let max = 0;
    for (const b of kept) max = Math.max(max, Math.abs(model.w[b * classes + c]!));
    scale.push(Number((max / 127 || 1).toPrecision(6)));
  }
  if (model.buckets > 65536) throw new Error("bucket numbers are stored in 16 bits");
  const index = new Uint16Array(kept);
  const values = new Int8Array(kept.length * classes);
  kept.forEach((b, slot) => {
    for (let c = 0; c < classes; c++) {
      values[slot * classes + c] = Math.max(
        -127,
        Math.min(127, Math.round(model.w[b * classes + c]! / scale[c]!)),
      );
    }
  });
  return {
    buckets: model.buckets,
    bias: [...model.bias].map((x) => Number(x.toFixed(4))),
    scale,
    index: toBase64(new Uint8Array(index.buffer)),
    values: toBase64(new Uint8Array(values.buffer)),
  };
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
