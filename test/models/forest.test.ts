import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { RandomForestClassifier } from 'ml-random-forest';
import { FEATURE_COUNT, INVARIANT_FEATURES } from '../../models/features/feature-list.js';
import type { RandomForestJson } from '../../models/forest-format.js';
import { trainForest } from '../../models/forest-train.js';
import { CompiledForest } from '../../models/forest.js';
import { loadBundledModel } from '../../models/load-model.js';
import { buildTrainingSet, type TrainingSet } from '../../models/train.js';
import { loadShared } from './helpers.js';

const FILES = [
  'squat_kamyar_set1_reps10_1.csv',
  'bicep_kamyar_set1_reps10_1.csv',
  'dead_kamyar_set1_reps10_1.csv',
  'row_anuj_set1_rep10_1.csv',
  'shoulder_anuj_set1_rep10_1.csv',
  'rdl_udai_set1_reps10_1.csv',
];

describe('forest trainer and predictor', () => {
  let set: TrainingSet;
  const small = { nEstimators: 12, seed: 7, featurePool: INVARIANT_FEATURES };

  before(async () => {
    const recordings = await loadShared(FILES);
    set = buildTrainingSet(recordings.map((r) => ({ label: r.label, samples: r.samples, group: r.lifter })));
  });

  it('trains deterministically: same seed, same bytes; another seed, other trees', () => {
    const a = JSON.stringify(trainForest(set.rows, set.labels, set.classes.length, small));
    const b = JSON.stringify(trainForest(set.rows, set.labels, set.classes.length, small));
    const c = JSON.stringify(trainForest(set.rows, set.labels, set.classes.length, { ...small, seed: 8 }));
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('writes a model ml-random-forest loads and predicts with exactly as our predictor does', () => {
    const json = trainForest(set.rows, set.labels, set.classes.length, small);
    const roundTripped = JSON.parse(JSON.stringify(json)) as RandomForestJson;
    const library = RandomForestClassifier.load(roundTripped as never);
    const ours = CompiledForest.fromJson(roundTripped, set.classes.length, FEATURE_COUNT);
    const X = set.rows.map((r) => Array.from(r));
    const libraryVotes = library.predictionValues(X);
    const libraryPredictions = library.predict(X);
    for (let i = 0; i < X.length; i++) {
      assert.deepEqual(Array.from(ours.treeVotes(set.rows[i])), libraryVotes.getRow(i), `tree votes of row ${i}`);
      assert.equal(ours.majorityVote(set.rows[i]), libraryPredictions[i], `forest vote of row ${i}`);
    }
    // and it learned something: in-sample votes mostly right
    const right = libraryPredictions.filter((p, i) => p === set.labels[i]).length;
    assert.ok(right / X.length > 0.9, `${right}/${X.length}`);
  });

  it('round-trips a model through toJSON / load with identical predictions', () => {
    // the library's own trainer, on a slice small enough for it
    const cols = INVARIANT_FEATURES.slice(0, 40);
    const X = set.rows.filter((_, i) => i % 4 === 0).map((r) => cols.map((c) => r[c]));
    const y = set.labels.filter((_, i) => i % 4 === 0);
    const trained = new RandomForestClassifier({ nEstimators: 5, maxFeatures: 0.5, seed: 3, noOOB: true, useSampleBagging: true });
    trained.train(X, y);
    const before = trained.predict(X);
    const reloaded = RandomForestClassifier.load(JSON.parse(JSON.stringify(trained.toJSON())));
    assert.deepEqual(reloaded.predict(X), before);
    // our predictor reads the library's own models too
    const ours = CompiledForest.fromJson(JSON.parse(JSON.stringify(trained.toJSON())), set.classes.length, cols.length);
    X.forEach((row, i) => assert.equal(ours.majorityVote(row), before[i]));
  });

  it('predicts like ml-random-forest with the committed bundled model', async () => {
    const model = await loadBundledModel();
    const library = RandomForestClassifier.load(JSON.parse(JSON.stringify(model.forest)) as never);
    const ours = CompiledForest.fromJson(model.forest, model.classes.length, FEATURE_COUNT);
    const rows = set.rows.filter((_, i) => i % 5 === 0);
    const predictions = library.predict(rows.map((r) => Array.from(r)));
    rows.forEach((row, i) => assert.equal(ours.majorityVote(row), predictions[i], `row ${i}`));
  });

  it('gives probabilities that sum to 1', () => {
    const forest = CompiledForest.fromJson(trainForest(set.rows, set.labels, set.classes.length, small), set.classes.length, FEATURE_COUNT);
    const p = forest.predictProba(set.rows[0]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-3);
  });

  it('refuses malformed forests', () => {
    assert.throws(() => CompiledForest.fromJson({ name: 'nope' } as never, 2, 10), /RFClassifier/);
    const json = trainForest(set.rows, set.labels, set.classes.length, small);
    assert.throws(() => CompiledForest.fromJson(json, set.classes.length, 3), /outside/);
  });
});
