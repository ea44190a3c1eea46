import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyntheticMotion, type SyntheticExercise } from '../../drivers/simulator/synthetic.js';
import { loadBundledModel, predictReadings, Recognizer } from '../../models/index.js';

const HZ = 50;

function record(exercise: SyntheticExercise, seed: number, seconds: number) {
  const motion = new SyntheticMotion({ exercise, hz: HZ, seed });
  const readings = Array.from({ length: HZ * seconds }, (_, i) => {
    const s = motion.next();
    return { ts: (i * 1000) / HZ, accel: [s[0], s[1], s[2]] as [number, number, number], gyro: [s[3], s[4], s[5]] as [number, number, number] };
  });
  return { motion, readings };
}

describe('synthetic motion', () => {
  it('is deterministic per seed, differs between seeds, and counts its samples', () => {
    const a = new SyntheticMotion({ exercise: 'squat', hz: 100, seed: 7 });
    const b = new SyntheticMotion({ exercise: 'squat', hz: 100, seed: 7 });
    const c = new SyntheticMotion({ exercise: 'squat', hz: 100, seed: 8 });
    const first = Array.from({ length: 500 }, () => a.next());
    assert.deepEqual(Array.from({ length: 500 }, () => b.next()), first);
    assert.notDeepEqual(Array.from({ length: 500 }, () => c.next()), first);
    assert.equal(a.seq, 500);
    for (const sample of first) assert.equal(sample.length, 6);
  });

  it('feels gravity at rest and moves at an exercise pace: about 20 reps a minute', () => {
    const rest = record('rest', 1, 10).readings;
    const mean = rest.reduce((sum, r) => sum + Math.hypot(...r.accel), 0) / rest.length;
    assert.ok(Math.abs(mean - 9.81) < 0.05, `|a| at rest ${mean}`);
    for (const exercise of ['squat', 'bicep_curl'] as const) {
      const { motion } = record(exercise, 3, 60);
      assert.ok(motion.reps >= 15 && motion.reps <= 32, `${exercise}: ${motion.reps} reps in a minute`);
    }
    assert.equal(record('rest', 2, 60).motion.reps, 0);
  });

  // The demo falls back on these devices when the recordings are missing: the bundled model must know them.
  it('is recognised by the bundled model for what it is, and its reps are counted', async () => {
    const recognizer = new Recognizer(await loadBundledModel());
    for (const exercise of ['squat', 'bicep_curl', 'rest'] as const) {
      for (const seed of [1, 2]) {
        const { motion, readings } = record(exercise, seed, 30);
        const result = predictReadings(recognizer, readings);
        assert.equal(result.label, exercise, `${exercise} seed ${seed}: ${result.predictions.map((p) => p.label).join(' ')}`);
        assert.ok(result.confidence >= 0.8, `${exercise} seed ${seed}: confidence ${result.confidence}`);
        if (exercise !== 'rest') assert.ok(Math.abs(result.reps - motion.reps) <= 1, `${exercise} seed ${seed}: ${result.reps} reps counted, ${motion.reps} done`);
      }
    }
  });
});
