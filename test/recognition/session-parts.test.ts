import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabelTally } from '../../daemon/recognition/label-tally.js';
import { splitSessions } from '../../daemon/recognition/hub-training.js';
import { RecognitionRecorder } from '../../daemon/recognition/recognition-recorder.js';
import type { Session } from '../../daemon/sessions/types.js';
import { seededRandom } from '../../models/random.js';
import { sessionLabel } from '../../models/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { silent } from './helpers.js';

describe('LabelTally', () => {
  it("gives what models' sessionLabel gives, window by window, ties and rest included", () => {
    const random = seededRandom(11);
    const pools = [['squat', 'bicep_curl', 'rest', 'unknown'], ['rest'], ['rest', 'unknown'], ['squat', 'row']];
    for (let run = 0; run < 400; run++) {
      const pool = pools[run % pools.length];
      const tally = new LabelTally();
      const labels: string[] = [];
      assert.deepEqual(tally.result(), sessionLabel([]));
      for (let i = 0; i < 1 + Math.floor(random() * 30); i++) {
        const label = pool[Math.floor(random() * pool.length)];
        labels.push(label);
        tally.add(label);
        assert.deepEqual(tally.result(), sessionLabel(labels), JSON.stringify(labels));
      }
    }
  });
});

describe('RecognitionRecorder', () => {
  it('writes a session at most once per interval with the latest values; finals go at once and end the live ones', async () => {
    const clock = new FakeClock();
    const calls: { sessionId: string; result: object; at: number }[] = [];
    const sessions = { recordRecognition: async (sessionId: string, result: object) => void calls.push({ sessionId, result, at: clock.now() }) };
    const recorder = new RecognitionRecorder(sessions, clock, silent, 1000);
    recorder.update('s1', { reps: 1 });
    recorder.update('s1', { reps: 2 });
    recorder.update('s1', { predictedLabel: 'squat' });
    clock.advance(300);
    recorder.update('s1', { reps: 3 });
    assert.equal(calls.length, 1);
    clock.advance(700);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls.map((c) => c.result), [{ reps: 1 }, { reps: 3, predictedLabel: 'squat' }]);
    assert.equal(calls[1].at - calls[0].at, 1000);
    recorder.update('s1', { reps: 4 });
    await recorder.final('s1', { reps: 5, predictedLabel: 'squat' });
    clock.advance(5000);
    assert.deepEqual(calls.slice(2).map((c) => c.result), [{ reps: 5, predictedLabel: 'squat' }]);
  });

  it('logs a failing write and carries on', async () => {
    const clock = new FakeClock();
    const recorder = new RecognitionRecorder({ recordRecognition: async () => Promise.reject(new Error('disk full')) }, clock, silent, 1000);
    recorder.update('s2', { reps: 1 });
    await recorder.idle();
    await recorder.final('s2', { reps: 2 });
  });
});

describe('splitSessions', () => {
  const session = (id: string, label: string, startedAt: number): Session & { label: string } => ({ id, label, deviceId: 'd', startedAt, status: 'ended', synced: false });
  it('holds out every 5th session of each label in time order, the last of a small label, none of a single one', () => {
    const sessions = [
      ...Array.from({ length: 11 }, (_, i) => session(`sq${i}`, 'squat', 100 - i)),
      ...Array.from({ length: 3 }, (_, i) => session(`cu${i}`, 'curl', i)),
      session('row0', 'row', 5),
    ];
    const { train, test, perLabel } = splitSessions(sessions, 5);
    assert.deepEqual(perLabel, { curl: 3, row: 1, squat: 11 });
    // squats in time order are sq10 (startedAt 90) ... sq0 (100): the 5th and 10th are sq6 and sq1
    assert.deepEqual(test.map((s) => s.id), ['cu2', 'sq6', 'sq1']);
    assert.equal(train.length, sessions.length - 3);
    assert.ok(!train.some((s) => test.includes(s)));
    for (let i = 1; i < train.length; i++) assert.ok(train[i - 1].startedAt >= train[i].startedAt, 'newest first');
  });
});
