import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ModelError } from '../../models/errors.js';
import { FEATURE_COUNT } from '../../models/features/feature-list.js';
import { parseModel, parseModelJson, serializeModel, type ModelFile } from '../../models/model-file.js';
import { motionLevel } from '../../models/motion.js';
import { Recognizer, REST_LABEL, UNKNOWN_LABEL } from '../../models/recognizer.js';
import { resample } from '../../models/resample.js';
import { trainModel, type LabelledRecording } from '../../models/train.js';
import { segmentWindows } from '../../models/windowing.js';
import { loadShared, stillSamples } from './helpers.js';

const FILES = ['squat_adam_set1_reps10_1.csv', 'bicep_adam_set1_reps10_1.csv', 'row_adam_set1_reps10_1.csv', 'squat_kamyar_set1_reps10_1.csv', 'bicep_kamyar_set1_reps10_1.csv'];
const SMALL = { forest: { nEstimators: 10, seed: 5 } };

describe('model training, file and recognizer', () => {
  let recordings: LabelledRecording[];
  let model: ModelFile;

  before(async () => {
    recordings = (await loadShared(FILES)).map((r) => ({ label: r.label, samples: r.samples, group: r.lifter }));
    model = trainModel(recordings, SMALL);
  });

  it('trains twice to byte-identical model files, named by their content', () => {
    const again = trainModel(recordings, SMALL);
    assert.equal(serializeModel(again), serializeModel(model));
    assert.match(model.version, /^fv\d+-[0-9a-f]{12}$/);
    const other = trainModel(recordings, { forest: { nEstimators: 10, seed: 6 } });
    assert.notEqual(other.version, model.version);
    assert.deepEqual(model.classes, ['bicep_curl', 'row', 'squat']);
  });

  it('reloads from JSON and predicts the same', () => {
    const reloaded = parseModelJson(serializeModel(model));
    const a = new Recognizer(model);
    const b = new Recognizer(reloaded);
    const extractor = a.createExtractor();
    const features = new Float64Array(FEATURE_COUNT);
    const [segment] = resample(recordings[0].samples);
    for (const w of segmentWindows(segment, a.shape).slice(0, 5)) {
      extractor.extract(segment.columns, w.offset, features);
      assert.deepEqual(b.classifyFeatures(features), a.classifyFeatures(features));
    }
  });

  it('refuses files of another feature version or format', () => {
    assert.throws(() => parseModel({ ...model, featureVersion: model.featureVersion + 1 }), (e: unknown) => e instanceof ModelError && e.code === 'feature_version_mismatch');
    assert.throws(() => parseModel({ ...model, format: 'other' }), (e: unknown) => e instanceof ModelError && e.code === 'invalid_model');
    assert.throws(() => parseModelJson('{not json'), (e: unknown) => e instanceof ModelError && e.code === 'invalid_model');
  });

  it('restricts recognition to candidate classes by renormalising', () => {
    const recognizer = new Recognizer(model);
    const extractor = recognizer.createExtractor();
    const features = new Float64Array(FEATURE_COUNT);
    const mask = recognizer.candidateMask(['squat', 'bicep_curl', REST_LABEL]);
    let windows = 0;
    for (const recording of recordings.filter((r) => r.label === 'row')) {
      for (const segment of resample(recording.samples)) {
        for (const w of segmentWindows(segment, recognizer.shape)) {
          const free = recognizer.classifyWindow(segment.columns, w.offset, extractor, features);
          const p = recognizer.classifyWindow(segment.columns, w.offset, extractor, features, mask);
          assert.equal(p.probabilities.row, 0);
          assert.ok(['squat', 'bicep_curl', UNKNOWN_LABEL].includes(p.label), p.label);
          const sum = p.probabilities.squat + p.probabilities.bicep_curl;
          if (sum > 0) {
            assert.ok(Math.abs(sum - 1) < 1e-9);
            const ratio = free.probabilities.squat / (free.probabilities.squat + free.probabilities.bicep_curl);
            assert.ok(Math.abs(p.probabilities.squat - ratio) < 1e-9, 'renormalised, not re-ranked');
          }
          windows++;
        }
      }
    }
    assert.ok(windows > 10);
    assert.throws(() => recognizer.candidateMask(['squat', 'bench_press']), (e: unknown) => e instanceof ModelError && e.code === 'unknown_class');
    assert.equal(recognizer.candidateMask([]), undefined);
  });

  it('says unknown when the top probability is under the threshold', () => {
    const strict = new Recognizer({ ...model, unknownThreshold: 1.01 });
    const extractor = strict.createExtractor();
    const [segment] = resample(recordings[0].samples);
    const p = strict.classifyWindow(segment.columns, 128, extractor, new Float64Array(FEATURE_COUNT));
    assert.equal(p.label, UNKNOWN_LABEL);
    assert.ok(p.confidence > 0);
  });

  it('detects rest on still data, real and simulated, and not on a set', async () => {
    const recognizer = new Recognizer(model);
    const extractor = recognizer.createExtractor();
    const features = new Float64Array(FEATURE_COUNT);
    const [still] = resample(stillSamples(400, 60));
    for (const w of segmentWindows(still, recognizer.shape)) {
      const p = recognizer.classifyWindow(still.columns, w.offset, extractor, features);
      assert.equal(p.label, REST_LABEL);
      assert.equal(p.probabilities[REST_LABEL], 1);
    }
    // the bar set down during a real set (udai's third row set, after its 90 s link gap)
    const [row] = await loadShared(['row_udai_set3_reps10_1.csv']);
    const restWindows = resample(row.samples).flatMap((s) =>
      segmentWindows(s, recognizer.shape).filter((w) => recognizer.isRest(motionLevel(s.columns, w.offset, w.length))),
    );
    assert.ok(restWindows.length >= 1);
    const [squat] = resample(recordings[0].samples);
    const moving = segmentWindows(squat, recognizer.shape).filter((w) => recognizer.isRest(motionLevel(squat.columns, w.offset, w.length)));
    assert.equal(moving.length, 0);
  });
});
