import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resample, StreamingResampler } from '../../models/resample.js';
import type { Sample, Vec3 } from '../../models/sample.js';

/** A signal linear in time, so linear interpolation must reproduce it exactly at every grid point. */
const ramp = (ts: number): Sample => ({
  ts,
  accel: [ts / 1000, 2 * (ts / 1000), -ts / 1000] as Vec3,
  gyro: [1, ts / 500, 0] as Vec3,
});

describe('resample', () => {
  it('puts irregular samples on a 50 Hz grid by linear interpolation', () => {
    const times = [0, 13, 47, 61, 99, 152, 163, 210, 275, 301];
    const [segment] = resample(times.map(ramp));
    assert.equal(segment.rateHz, 50);
    assert.equal(segment.t0Ms, 0);
    assert.equal(segment.length, 16); // 0, 20, ..., 300
    for (let k = 0; k < segment.length; k++) {
      const t = k * 20;
      assert.ok(Math.abs(segment.columns[0][k] - t / 1000) < 1e-12, `ax at ${t}`);
      assert.ok(Math.abs(segment.columns[1][k] - (2 * t) / 1000) < 1e-12);
      assert.ok(Math.abs(segment.columns[4][k] - t / 500) < 1e-12, `gy at ${t}`);
    }
  });

  it('splits at gaps longer than maxGapMs and does not interpolate across them', () => {
    const times = [0, 20, 40, 60, 80, 100, 2100, 2120, 2140, 2500, 2520];
    const segments = resample(times.map(ramp), { maxGapMs: 1000 });
    assert.equal(segments.length, 2);
    assert.equal(segments[0].t0Ms, 0);
    assert.equal(segments[0].length, 6);
    assert.equal(segments[1].t0Ms, 2100);
    // 360 ms without samples is below maxGapMs: bridged
    assert.equal(segments[1].length, Math.floor((2520 - 2100) / 20) + 1);
    assert.ok(Math.abs(segments[1].columns[0][1] - 2.12) < 1e-12);
  });

  it('honours another rate and gap limit', () => {
    const times = Array.from({ length: 31 }, (_, i) => i * 33);
    const [segment] = resample(times.map(ramp), { rateHz: 100 });
    assert.equal(segment.length, Math.floor(990 / 10) + 1);
    assert.equal(resample([0, 100, 400].map(ramp), { maxGapMs: 250 }).length, 2);
  });

  it('drops repeats and late samples, and sorts a shuffled recording', () => {
    const times = [0, 20, 20, 40, 30, 60];
    const streamed: number[] = [];
    const resampler = new StreamingResampler({ segmentStart() {}, sample: (t) => streamed.push(t) });
    for (const t of times) resampler.push(ramp(t));
    assert.deepEqual(streamed, [0, 20, 40, 60]);
    assert.equal(resampler.dropped, 2);
    const [segment] = resample([60, 0, 40, 20].map(ramp));
    assert.equal(segment.length, 4);
  });

  it('gives the same grid streamed in pieces as in one go', () => {
    const times: number[] = [];
    let t = 5;
    for (let i = 0; i < 500; i++) {
      t += 5 + ((i * 37) % 61);
      if (i === 250) t += 4000;
      times.push(t);
    }
    const samples = times.map(ramp);
    const offline = resample(samples);
    const streamed: { t0: number; values: number[] }[] = [];
    const resampler = new StreamingResampler({
      segmentStart: (t0) => streamed.push({ t0, values: [] }),
      sample: (_t, v) => streamed[streamed.length - 1].values.push(v[0]),
    });
    for (let i = 0; i < samples.length; i += 17) for (const s of samples.slice(i, i + 17)) resampler.push(s);
    assert.equal(streamed.length, offline.length);
    streamed.forEach((s, i) => {
      assert.equal(s.t0, offline[i].t0Ms);
      assert.deepEqual(s.values, Array.from(offline[i].columns[0]));
    });
  });

  it('rejects a non-positive rate', () => {
    assert.throws(() => new StreamingResampler({ segmentStart() {}, sample() {} }, { rateHz: 0 }), RangeError);
  });
});
