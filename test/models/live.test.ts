import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ModelError } from '../../models/errors.js';
import { evaluateSets } from '../../models/evaluate.js';
import { LiveRecognizer } from '../../models/live.js';
import { loadBundledModel } from '../../models/load-model.js';
import { predictReadings } from '../../models/predict.js';
import { Recognizer } from '../../models/recognizer.js';
import type { Sample } from '../../models/sample.js';
import { loadShared } from './helpers.js';

describe('live recognition and POST /predict', () => {
  let recognizer: Recognizer;
  let squat: Sample[];
  let curl: Sample[];

  before(async () => {
    recognizer = new Recognizer(await loadBundledModel());
    const [s, c] = await loadShared(['squat_kamyar_set2_reps10_1.csv', 'bicep_anuj_set1_rep10_1.csv']);
    squat = s.samples;
    curl = c.samples;
  });

  it('emits one prediction per completed window, the same as offline evaluation', () => {
    const live = new LiveRecognizer(recognizer);
    const out = [];
    for (let i = 0; i < squat.length; i += 23) out.push(...live.push(squat.slice(i, i + 23)));
    const offline = evaluateSets(recognizer, [{ name: 's', label: 'squat', samples: squat }]);
    assert.equal(out.length, offline.windows);
    assert.equal(out.filter((p) => p.label === 'squat').length, offline.perSet[0].correctWindows);
    for (let i = 1; i < out.length; i++) assert.equal(out[i].windowStart - out[i - 1].windowStart, 1280);
    assert.equal(out[0].windowEnd - out[0].windowStart, 2560);
    assert.equal(out[0].modelVersion, recognizer.version);
    assert.ok(out.filter((p) => p.label === 'squat').length / out.length > 0.8);
  });

  it('restarts at gaps: no window spans one', () => {
    const live = new LiveRecognizer(recognizer);
    const first = live.push(squat.slice(0, 300));
    const gapStart = squat[299].ts;
    // the curl set, re-timed to start 3 s after the squat readings stopped
    const resumed = curl.slice(0, 400).map((s) => ({ ...s, ts: s.ts - curl[0].ts + gapStart + 3000 }));
    const second = live.push(resumed);
    assert.ok(first.length > 0 && second.length > 0);
    for (const p of second) assert.ok(p.windowStart >= gapStart + 3000, 'a window after the gap starts after it');
    assert.equal(second[0].windowStart, gapStart + 3000);
  });

  it('follows candidates set on the fly, and refuses unknown classes', () => {
    const live = new LiveRecognizer(recognizer, { candidates: ['shoulder_press', 'dead'] });
    const restricted = live.push(curl.slice(0, 600));
    for (const p of restricted) {
      assert.ok(['shoulder_press', 'dead', 'unknown', 'rest'].includes(p.label), p.label);
      assert.equal(p.probabilities.bicep_curl, 0);
    }
    live.setCandidates(['squat', 'bicep_curl']);
    const after = live.push(curl.slice(600));
    assert.ok(after.filter((p) => p.label === 'bicep_curl').length / after.length > 0.9);
    assert.throws(() => live.setCandidates(['pilates']), (e: unknown) => e instanceof ModelError && e.code === 'unknown_class');
    live.setCandidates(undefined);
  });

  it('predicts a batch statelessly', () => {
    const result = predictReadings(recognizer, curl.map((s) => ({ ...s, extra: true })), { candidates: ['squat', 'bicep_curl'] });
    assert.equal(result.label, 'bicep_curl');
    assert.ok(result.confidence > 0.9);
    assert.ok(result.predictions.length > 10);
    assert.ok(Math.abs(result.reps - 10) <= 1, `${result.reps} reps`);
    assert.equal(result.modelVersion, recognizer.version);
  });

  it('throws coded errors for bad batches', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof ModelError, String(e));
        return e.code;
      }
      return 'no error';
    };
    assert.equal(code(() => predictReadings(recognizer, squat.slice(0, 50))), 'too_few_samples');
    assert.equal(code(() => predictReadings(recognizer, [])), 'too_few_samples');
    assert.equal(code(() => predictReadings(recognizer, 'nope')), 'invalid_sample');
    const withNaN = squat.slice(0, 400).map((s, i) => (i === 17 ? { ...s, accel: [NaN, 0, 9.8] } : s));
    assert.equal(code(() => predictReadings(recognizer, withNaN)), 'invalid_sample');
    assert.equal(code(() => predictReadings(recognizer, [{ ts: 1, accel: [0, 0], gyro: [0, 0, 0] }])), 'invalid_sample');
    assert.equal(code(() => predictReadings(recognizer, [{ ts: '1', accel: [0, 0, 9], gyro: [0, 0, 0] }])), 'invalid_sample');
    assert.equal(code(() => predictReadings(recognizer, squat, { candidates: ['zumba'] })), 'unknown_class');
    // many readings, but split by gaps into stretches shorter than a window
    const gappy = squat.slice(0, 600).map((s, i) => ({ ...s, ts: s.ts + Math.floor(i / 60) * 5000 }));
    assert.equal(code(() => predictReadings(recognizer, gappy)), 'too_few_samples');
    try {
      predictReadings(recognizer, withNaN);
    } catch (e) {
      assert.match((e as Error).message, /reading 17/);
    }
  });
});
