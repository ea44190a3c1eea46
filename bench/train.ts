/**
 * bench/train: seconds to train the bundled model from the shared recordings (SPEC section 11: <= 2 minutes
 * on one core), by phase, and the raw baseline measured in the same run: ml-random-forest's own trainer
 * growing ONE tree on a small slice of the same rows (its cost grows with rows^2, so it is run small).
 *
 *   node --import tsx bench/train.ts [--data DIR] [--baseline-rows N] [--baseline-features N]
 */
import { parseArgs } from 'node:util';
import { RandomForestClassifier } from 'ml-random-forest';
import { BUNDLED_TRAIN_OPTIONS } from '../models/bundled-options.js';
import { defaultDataDir } from '../models/data-dir.js';
import { loadRecordings } from '../models/dataset.js';
import { INVARIANT_FEATURES } from '../models/features/feature-list.js';
import { trainForest } from '../models/forest-train.js';
import { serializeModel } from '../models/model-file.js';
import { buildTrainingSet, trainModelFromSet } from '../models/train.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    'baseline-rows': { type: 'string', default: '600' },
    'baseline-features': { type: 'string', default: '100' },
  },
});

const t0 = performance.now();
const recordings = await loadRecordings(args.data ?? (await defaultDataDir(process.env)));
const t1 = performance.now();
const set = buildTrainingSet(
  recordings.map((r) => ({ label: r.label, samples: r.samples, group: r.lifter })),
  BUNDLED_TRAIN_OPTIONS,
);
const t2 = performance.now();
const model = trainModelFromSet(set, BUNDLED_TRAIN_OPTIONS);
const t3 = performance.now();
const bytes = Buffer.byteLength(serializeModel(model));
const s = (ms: number) => Number((ms / 1000).toFixed(2));
process.stdout.write(
  `${JSON.stringify({
    bench: 'train',
    figure: 'bundled-model',
    seconds: s(t3 - t0),
    target: 120,
    loadSeconds: s(t1 - t0),
    featureSeconds: s(t2 - t1),
    forestSeconds: s(t3 - t2),
    recordings: recordings.length,
    rows: set.rows.length,
    features: INVARIANT_FEATURES.length,
    trees: BUNDLED_TRAIN_OPTIONS.forest.nEstimators,
    modelBytes: bytes,
  })}\n`,
);

// baseline: one tree, same rows and features, by the library's trainer and by ours
const rows = Number(args['baseline-rows']);
const cols = INVARIANT_FEATURES.slice(0, Number(args['baseline-features']));
const step = Math.max(1, Math.floor(set.rows.length / rows));
const pick = set.rows.map((_, i) => i).filter((i) => i % step === 0).slice(0, rows);
const X = pick.map((i) => cols.map((c) => set.rows[i][c]));
const y = pick.map((i) => set.labels[i]);
const b0 = performance.now();
new RandomForestClassifier({ nEstimators: 1, maxFeatures: 1.0, replacement: false, seed: 1, noOOB: true, useSampleBagging: true }).train(X, y);
const b1 = performance.now();
trainForest(X, y, set.classes.length, { nEstimators: 1, maxFeatures: cols.length, seed: 1, minSamplesSplit: 2, minSamplesLeaf: 1 });
const b2 = performance.now();
process.stdout.write(
  `${JSON.stringify({
    bench: 'train',
    figure: 'one-tree',
    rows: X.length,
    features: cols.length,
    seconds: s(b2 - b1),
    baselineSeconds: s(b1 - b0),
    ratio: Number(((b1 - b0) / Math.max(1e-6, b2 - b1)).toFixed(1)),
    baseline: 'ml-random-forest trainer, all features tried at every split',
  })}\n`,
);
