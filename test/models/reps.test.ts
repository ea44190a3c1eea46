import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countReps, RepCounter } from '../../models/reps.js';
import type { Sample, Vec3 } from '../../models/sample.js';
import { loadShared } from './helpers.js';

/** A bar moving up and down `reps` times with period `periodS`, sampled irregularly, with still ends. */
function synthetic(reps: number, periodS: number, amplitude: number): Sample[] {
  const samples: Sample[] = [];
  const durationS = reps * periodS + 4;
  let t = 0;
  let i = 0;
  while (t < durationS * 1000) {
    const s = t / 1000 - 2;
    const moving = s > 0 && s < reps * periodS;
    const w = (2 * Math.PI) / periodS;
    const a = moving ? -amplitude * w * w * Math.cos(w * s) : 0;
    samples.push({ ts: t, accel: [0.1, a * 0.6, 9.81 + a * 0.8] as Vec3, gyro: [0.05, 0, 0] as Vec3 });
    t += 15 + ((i++ * 7) % 11);
  }
  return samples;
}

describe('rep counting', () => {
  it('counts synthetic sets at fast and slow tempo', () => {
    assert.equal(countReps(synthetic(10, 2, 0.25)).reps, 10);
    assert.equal(countReps(synthetic(8, 5, 0.1)).reps, 8);
    assert.equal(countReps(synthetic(3, 3, 0.2)).reps, 3);
  });

  it('counts real sets within one rep: fast, slow and gentle, and low-rate recordings', async () => {
    const files = [
      'squat_adam_set1_reps10_1.csv', // 63 Hz
      'bicep_suzan_set1_reps10_1.csv', // slow: 5 s per rep
      'rdl_suzan_set1_reps10_1.csv', // the gentlest signal in the data
      'row_anuj_set2_rep10_1.csv', // 25 Hz, fast
      'shoulder_kamyar_set2_reps10_1.csv',
      'dead_kamyar_set1_reps10_1.csv',
    ];
    for (const r of await loadShared(files)) {
      const counted = countReps(r.samples).reps;
      assert.ok(Math.abs(counted - r.reps!) <= 1, `${r.file}: ${counted} counted, ${r.reps} done`);
    }
  });

  it('counts the set, not the fiddling before a long link outage', async () => {
    const [r] = await loadShared(['bicep_udai_set3_reps10_1.csv']);
    const result = countReps(r.samples);
    assert.ok(result.bouts.length >= 2, 'split at the ~100 s gap');
    assert.ok(Math.abs(result.reps - 10) <= 1, `${result.reps}`);
  });

  it('counts live as it goes, never backwards, and finishes with the offline count', async () => {
    const [r] = await loadShared(['squat_kamyar_set1_reps10_1.csv']);
    const counter = new RepCounter();
    const live: number[] = [];
    for (let i = 0; i < r.samples.length; i += 50) live.push(counter.push(r.samples.slice(i, i + 50)));
    for (let i = 1; i < live.length; i++) assert.ok(live[i] >= live[i - 1]);
    assert.ok(live[Math.floor(live.length / 2)] >= 3 && live[Math.floor(live.length / 2)] <= 7, `halfway: ${live[Math.floor(live.length / 2)]}`);
    assert.equal(counter.finish(), countReps(r.samples).reps);
    assert.ok(Math.abs(counter.count - 10) <= 1);
  });

  it('keeps counting past its buffer limit', () => {
    const counter = new RepCounter({ maxBufferS: 30, recountEveryS: 1 });
    const samples = synthetic(30, 2.5, 0.2);
    for (let i = 0; i < samples.length; i += 40) counter.push(samples.slice(i, i + 40));
    assert.ok(Math.abs(counter.count - 30) <= 2, `${counter.count}`);
  });
});
