import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { FeatureExtractor } from '../../models/features/extractor.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURES, INVARIANT_FEATURES } from '../../models/features/feature-list.js';
import { resample, type Segment } from '../../models/resample.js';
import { segmentWindows, windowShape } from '../../models/windowing.js';
import { loadShared, randomRotation } from './helpers.js';

const FILES = ['squat_adam_set1_reps10_1.csv', 'bicep_suzan_set1_reps10_1.csv', 'rdl_udai_set1_reps10_1.csv', 'shoulder_anuj_set1_rep10_1.csv'];

describe('features', () => {
  const shape = windowShape(50);
  let segments: Segment[] = [];

  before(async () => {
    segments = (await loadShared(FILES)).flatMap((r) => resample(r.samples));
  });

  it('lists at least 200 features with unique names and a description each', () => {
    assert.ok(FEATURE_COUNT >= 200, `${FEATURE_COUNT} features`);
    assert.equal(new Set(FEATURE_NAMES).size, FEATURE_COUNT);
    for (const f of FEATURES) assert.ok(f.doc.length > 3, f.name);
    assert.ok(INVARIANT_FEATURES.length >= 200, `${INVARIANT_FEATURES.length} invariant features`);
    for (const group of ['channel', 'cross', 'sensor']) assert.ok(FEATURES.some((f) => f.group === group));
  });

  it('is finite on every window of real recordings', () => {
    const extractor = new FeatureExtractor(shape.length, 50);
    let windows = 0;
    for (const segment of segments) {
      for (const w of segmentWindows(segment, shape)) {
        const f = extractor.extract(segment.columns, w.offset);
        windows++;
        for (let i = 0; i < FEATURE_COUNT; i++) assert.ok(Number.isFinite(f[i]), `${FEATURE_NAMES[i]} = ${f[i]}`);
      }
    }
    assert.ok(windows > 50);
  });

  it('is finite on constant and all-zero input', () => {
    const extractor = new FeatureExtractor(shape.length, 50);
    for (const values of [
      [0.3, -2.1, 9.5, 0.09, 0, 0.01],
      [0, 0, 0, 0, 0, 0],
    ]) {
      const columns = values.map((v) => new Float64Array(shape.length).fill(v));
      const f = extractor.extract(columns, 0);
      for (let i = 0; i < FEATURE_COUNT; i++) assert.ok(Number.isFinite(f[i]), `${FEATURE_NAMES[i]} = ${f[i]} on ${values}`);
      assert.ok(f[FEATURE_NAMES.indexOf('accVert.std')] < 1e-9);
    }
  });

  it('leaves the orientation-invariant features unchanged when the sensor is rotated', () => {
    const extractor = new FeatureExtractor(shape.length, 50);
    let checked = 0;
    let sensorChanged = 0;
    segments.forEach((segment, s) => {
      const windows = segmentWindows(segment, shape);
      for (const w of [windows[1], windows[Math.floor(windows.length / 2)]]) {
        if (!w) continue;
        const original = extractor.extract(segment.columns, w.offset).slice();
        const m = randomRotation(100 + s * 7 + w.offset);
        const rotated = segment.columns.map(() => new Float64Array(shape.length));
        for (let i = 0; i < shape.length; i++) {
          for (const base of [0, 3]) {
            const v = [0, 1, 2].map((k) => segment.columns[base + k][w.offset + i]);
            for (let r = 0; r < 3; r++) rotated[base + r][i] = m[r * 3] * v[0] + m[r * 3 + 1] * v[1] + m[r * 3 + 2] * v[2];
          }
        }
        const after = extractor.extract(rotated, 0);
        for (const i of INVARIANT_FEATURES) {
          const tolerance = 1e-6 * Math.max(1, Math.abs(original[i]));
          assert.ok(Math.abs(after[i] - original[i]) <= tolerance, `${FEATURE_NAMES[i]}: ${original[i]} -> ${after[i]}`);
        }
        for (const f of FEATURES) if (!f.invariant && Math.abs(after[f.index] - original[f.index]) > 1e-3) sensorChanged++;
        checked++;
      }
    });
    assert.ok(checked >= 6);
    // the rotation is real: the sensor-frame features do move
    assert.ok(sensorChanged > checked * 10, `${sensorChanged} sensor-frame changes`);
  });

  it('rejects windows too short to analyse', () => {
    assert.throws(() => new FeatureExtractor(4, 50), RangeError);
  });
});
