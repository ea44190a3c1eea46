import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ModelError } from '../../models/errors.js';
import { evaluateSets } from '../../models/evaluate.js';
import { LiveRecognizer, type LivePrediction } from '../../models/live.js';
import { loadBundledModel } from '../../models/load-model.js';
import { parseModel, serializeModel, type ModelFile } from '../../models/model-file.js';
import { Recognizer } from '../../models/recognizer.js';
import type { Sample } from '../../models/sample.js';
import { DEFAULT_SMOOTHING, ProbabilitySmoother } from '../../models/smoothing.js';
import { trainModel } from '../../models/train.js';
import { loadShared, stillSamples } from './helpers.js';

const HOP_MS = 1280;

/**
 * What the smoothed stream must be, computed from the same stream's unsmoothed windows: an exponential
 * average with weight alpha, restarted at a gap (windows not one hop apart) and after a still window.
 */
function reference(single: LivePrediction[], classes: readonly string[], alpha: number, threshold: number): { label: string; p: number[] }[] {
  let state: number[] | undefined;
  return single.map((w, i) => {
    if (w.label === 'rest') {
      state = undefined;
      return { label: 'rest', p: classes.map(() => 0) };
    }
    const p = classes.map((c) => w.probabilities[c]);
    const continued = i > 0 && w.windowStart - single[i - 1].windowStart === HOP_MS;
    state = state && continued ? state.map((s, k) => s + alpha * (p[k] - s)) : p;
    let best = 0;
    for (let k = 1; k < state.length; k++) if (state[k] > state[best]) best = k;
    return { label: state[best] >= threshold ? classes[best] : 'unknown', p: [...state] };
  });
}

function pushInChunks(live: LiveRecognizer, samples: readonly Sample[], chunk = 37): LivePrediction[] {
  const out: LivePrediction[] = [];
  for (let i = 0; i < samples.length; i += chunk) out.push(...live.push(samples.slice(i, i + chunk)));
  return out;
}

function assertMatches(smoothed: LivePrediction[], expected: { label: string; p: number[] }[], classes: readonly string[]): void {
  assert.equal(smoothed.length, expected.length);
  smoothed.forEach((w, i) => {
    assert.equal(w.label, expected[i].label, `window ${i}`);
    classes.forEach((c, k) => assert.ok(Math.abs(w.probabilities[c] - expected[i].p[k]) < 1e-12, `window ${i} ${c}`));
  });
}

describe('temporal smoothing of window probabilities', () => {
  let model: ModelFile;
  let smoothedModel: Recognizer;
  let singleModel: Recognizer;
  let squat: Sample[];
  let curl: Sample[];

  before(async () => {
    model = await loadBundledModel();
    smoothedModel = new Recognizer(model);
    singleModel = new Recognizer({ ...model, smoothing: undefined });
    const [s, c] = await loadShared(['squat_kamyar_set2_reps10_1.csv', 'bicep_anuj_set1_rep10_1.csv']);
    squat = s.samples;
    curl = c.samples;
  });

  it('is an exponential average whose weight per window follows the hop, restarted by reset()', () => {
    const s = new ProbabilitySmoother({ method: 'ema', timeConstantS: 5 }, 2, 1.28);
    const a = 1 - Math.exp(-1.28 / 5);
    assert.ok(Math.abs(s.alpha - a) < 1e-15 && s.enabled);
    assert.deepEqual(Array.from(s.apply(Float64Array.of(1, 0))), [1, 0]);
    const second = Array.from(s.apply(Float64Array.of(0, 1)));
    assert.ok(Math.abs(second[0] - (1 - a)) < 1e-15 && Math.abs(second[1] - a) < 1e-15);
    s.reset();
    assert.deepEqual(Array.from(s.apply(Float64Array.of(0.2, 0.8))), [0.2, 0.8]);
    // at half the hop, two windows weigh what one does at the full hop: the average spans the same time
    const fine = new ProbabilitySmoother({ method: 'ema', timeConstantS: 5 }, 2, 0.64);
    assert.ok(Math.abs((1 - fine.alpha) ** 2 - (1 - s.alpha)) < 1e-15);
    const none = new ProbabilitySmoother(undefined, 2, 1.28);
    assert.equal(none.enabled, false);
    none.apply(Float64Array.of(1, 0));
    assert.deepEqual(Array.from(none.apply(Float64Array.of(0, 1))), [0, 1]);
  });

  it('the bundled model asks for it; live windows are the causal average of the single windows, restarted at a gap', () => {
    assert.deepEqual(model.smoothing, DEFAULT_SMOOTHING);
    // squat, a 3 s gap, then the curl set re-timed after it
    const gapStart = squat[899].ts + 3000;
    const stream = [...squat.slice(0, 900), ...curl.map((s) => ({ ...s, ts: s.ts - curl[0].ts + gapStart }))];
    const smoothed = pushInChunks(new LiveRecognizer(smoothedModel), stream);
    const single = pushInChunks(new LiveRecognizer(singleModel), stream);
    assert.ok(single.some((w, i) => i > 0 && w.windowStart - single[i - 1].windowStart !== HOP_MS), 'the stream has a gap');
    const alpha = 1 - Math.exp(-HOP_MS / 1000 / DEFAULT_SMOOTHING.timeConstantS);
    assertMatches(smoothed, reference(single, smoothedModel.classes, alpha, model.unknownThreshold), smoothedModel.classes);
    // averaging changes something: some window differs from its single self
    assert.ok(smoothed.some((w, i) => Math.abs(w.confidence - single[i].confidence) > 1e-3));
  });

  it('restarts after a still window, on a change of candidates and on restartSmoothing()', () => {
    // squat, 6 s of a still bar (rest windows), then the curl: one continuous stream, no gap
    const still = stillSamples(300, 50, 3, squat[599].ts + 20);
    const curlStart = still[still.length - 1].ts + 20;
    const stream = [...squat.slice(0, 600), ...still, ...curl.slice(0, 700).map((s) => ({ ...s, ts: s.ts - curl[0].ts + curlStart }))];
    const smoothed = pushInChunks(new LiveRecognizer(smoothedModel), stream);
    const single = pushInChunks(new LiveRecognizer(singleModel), stream);
    assert.ok(single.some((w) => w.label === 'rest'), 'the still bar gives rest windows');
    const alpha = 1 - Math.exp(-HOP_MS / 1000 / DEFAULT_SMOOTHING.timeConstantS);
    assertMatches(smoothed, reference(single, smoothedModel.classes, alpha, model.unknownThreshold), smoothedModel.classes);

    const live = new LiveRecognizer(smoothedModel);
    const plain = new LiveRecognizer(singleModel);
    const first = squat.slice(0, 800);
    live.push(first);
    plain.push(first);
    live.restartSmoothing();
    const [afterRestart] = live.push(squat.slice(800, 870));
    const [alone] = plain.push(squat.slice(800, 870));
    assert.deepEqual(afterRestart, alone);
    live.setCandidates(['squat', 'shoulder_press']);
    plain.setCandidates(['squat', 'shoulder_press']);
    const [afterCandidates] = live.push(squat.slice(870, 940));
    const [restricted] = plain.push(squat.slice(870, 940));
    assert.deepEqual(afterCandidates, restricted);
  });

  it('evaluate scores windows the same way by default, one by one with smoothing: false', () => {
    const sets = [{ name: 's', label: 'squat', samples: squat }];
    const live = pushInChunks(new LiveRecognizer(smoothedModel), squat);
    const smoothed = evaluateSets(smoothedModel, sets);
    assert.deepEqual(smoothed.smoothing, DEFAULT_SMOOTHING);
    assert.equal(smoothed.windows, live.length);
    assert.equal(smoothed.perSet[0].correctWindows, live.filter((w) => w.label === 'squat').length);
    const single = evaluateSets(smoothedModel, sets, { smoothing: false });
    assert.equal(single.smoothing, undefined);
    const singleLive = pushInChunks(new LiveRecognizer(singleModel), squat);
    assert.equal(single.perSet[0].correctWindows, singleLive.filter((w) => w.label === 'squat').length);
    assert.equal(evaluateSets(singleModel, sets).smoothing, undefined, 'a model without smoothing is scored one by one');
  });

  it('is recorded in the model file, checked when read, and can be left out', () => {
    const bad = (smoothing: unknown) => {
      try {
        parseModel({ ...model, smoothing });
      } catch (e) {
        return e instanceof ModelError && e.code === 'invalid_model';
      }
      return false;
    };
    assert.ok(bad({ method: 'median', timeConstantS: 5 }));
    assert.ok(bad({ method: 'ema', timeConstantS: 0 }));
    assert.ok(bad({ method: 'ema' }));
    assert.ok(bad(null));
    const { smoothing: _smoothing, ...old } = model;
    assert.equal(parseModel(JSON.parse(serializeModel(old as ModelFile))).smoothing, undefined, 'a model file from before smoothing still loads');

    const recordings = [
      { label: 'squat', samples: squat.slice(0, 800) },
      { label: 'bicep_curl', samples: curl.slice(0, 800) },
    ];
    const options = { forest: { nEstimators: 3, seed: 1 } };
    const plain = trainModel(recordings, { ...options, smoothing: 'none' });
    assert.equal('smoothing' in plain, false);
    const custom = trainModel(recordings, { ...options, smoothing: { method: 'ema', timeConstantS: 2 } });
    assert.deepEqual(custom.smoothing, { method: 'ema', timeConstantS: 2 });
    assert.notEqual(custom.version, plain.version, 'smoothing changes predictions, so it is part of the version');
  });
});
