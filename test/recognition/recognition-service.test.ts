import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sessionLabel } from '../../models/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { recordingReadings, startRig, type Rig } from './helpers.js';

const SQUAT = 'squat_kamyar_set1_reps10_1.csv';
const CURL = 'bicep_kamyar_set1_reps10_1.csv';

describe('RecognitionService on real recordings', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig.close());

  it('turns a session of readings into stored predictions with its sessionId, live reps and final results', async () => {
    const t0 = rig.clock.now() + 1000;
    const squat = await recordingReadings(SQUAT, 'rack-1', t0);
    rig.clock.advance(500);
    const session = rig.sessions.start('rack-1');
    await rig.stream(squat);
    await rig.service.idle();

    const mine = rig.emitted.predictions.filter((p) => p.deviceId === 'rack-1');
    const durationS = (squat[squat.length - 1].ts - squat[0].ts) / 1000;
    assert.ok(mine.length >= Math.floor((durationS - 2.56) / 1.28) - 1, `${mine.length} windows in ${durationS} s`);
    assert.ok(mine.every((p) => p.sessionId === session.id), 'every window of the session carries its id');
    assert.ok(mine.every((p) => p.windowEnd - p.windowStart === 2560 && p.modelVersion === rig.service.status().version));
    const vote = sessionLabel(mine.map((p) => p.label));
    assert.equal(vote.label, 'squat', JSON.stringify(mine.map((p) => p.label)));

    // stored, and listed by session and by device alike, oldest first
    const bySession = await rig.service.listPredictions({ sessionId: session.id, limit: 10_000 });
    assert.equal(bySession.items.length, mine.length);
    assert.equal(bySession.nextCursor, null);
    bySession.items.forEach((p, i) => {
      assert.equal(p.windowStart, mine[i].windowStart);
      assert.equal(p.label, mine[i].label);
      assert.equal(p.sessionId, session.id);
      assert.ok(Math.abs(p.confidence - mine[i].confidence) < 1e-6);
      assert.deepEqual(Object.keys(p.probabilities), Object.keys(mine[i].probabilities));
    });
    const byDevice = await rig.service.listPredictions({ deviceId: 'rack-1', limit: 10_000 });
    assert.deepEqual(byDevice.items.map((p) => p.windowStart), mine.map((p) => p.windowStart));

    // live reps: announced as they move, and written to the session at most once a second
    const reps = rig.emitted.reps.filter((r) => r.sessionId === session.id);
    assert.ok(reps.length >= 3, `${reps.length} reps events`);
    for (let i = 1; i < reps.length; i++) assert.ok(reps[i].reps >= reps[i - 1].reps);
    const live = rig.sessions.resultsOf(session.id);
    assert.ok(live.some((r) => r.reps !== undefined) && live.some((r) => r.predictedLabel === 'squat'));
    assert.ok(live.length <= durationS + 2, `${live.length} live writes in ${durationS} s`);

    rig.sessions.end(session.id);
    await rig.service.idle();
    const final = rig.sessions.resultsOf(session.id).at(-1)!;
    assert.equal(final.predictedLabel, 'squat');
    assert.ok(Math.abs(final.reps! - 10) <= 1, `final reps ${final.reps}`);
    assert.equal(rig.sessions.sessions.get(session.id)!.reps, final.reps);
    assert.equal(rig.service.status().activeSessions, 0);
  });

  it('restricts labels to the candidates, and follows a change of candidates', async () => {
    const t0 = rig.clock.now() + 1000;
    const squat = await recordingReadings(SQUAT, 'curl-bench', t0);
    const session = rig.sessions.start('curl-bench', { candidates: ['bicep_curl', 'shoulder_press'] });
    const half = Math.floor(squat.length / 2);
    await rig.stream(squat.slice(0, half));
    const restricted = rig.emitted.predictions.filter((p) => p.sessionId === session.id);
    assert.ok(restricted.length > 5);
    assert.ok(restricted.every((p) => ['bicep_curl', 'shoulder_press', 'rest', 'unknown'].includes(p.label)), JSON.stringify(restricted.map((p) => p.label)));
    assert.ok(restricted.every((p) => p.probabilities.squat === 0));

    rig.sessions.update(session.id, { candidates: ['squat'] });
    await rig.stream(squat.slice(half));
    const after = rig.emitted.predictions.filter((p) => p.sessionId === session.id).slice(restricted.length);
    assert.ok(after.length > 5);
    assert.ok(after.every((p) => ['squat', 'rest', 'unknown'].includes(p.label)));
    assert.ok(after.filter((p) => p.label === 'squat').length >= after.length - 2);
    rig.sessions.end(session.id);
    await rig.service.idle();
  });

  it('ignores candidates the model does not know instead of failing', async () => {
    const curl = await recordingReadings(CURL, 'odd-station', rig.clock.now() + 1000);
    const session = rig.sessions.start('odd-station', { candidates: ['zercher_squat', 'bicep_curl'] });
    await rig.stream(curl.slice(0, 1500));
    const mine = rig.emitted.predictions.filter((p) => p.sessionId === session.id);
    assert.ok(mine.length > 5);
    assert.ok(mine.every((p) => ['bicep_curl', 'rest', 'unknown'].includes(p.label)));
    rig.sessions.end(session.id);
    await rig.service.idle();
  });

  it('classifies devices without a session too, and mixed-device batches', async () => {
    const t0 = rig.clock.now() + 1000;
    const a = await recordingReadings(SQUAT, 'mix-a', t0);
    const b = await recordingReadings(CURL, 'mix-b', t0);
    const n = Math.min(a.length, b.length, 1500);
    const mixed = [];
    for (let i = 0; i < n; i++) mixed.push(a[i], b[i]);
    await rig.stream(mixed, 40);
    const pa = rig.emitted.predictions.filter((p) => p.deviceId === 'mix-a');
    const pb = rig.emitted.predictions.filter((p) => p.deviceId === 'mix-b');
    assert.ok(pa.length > 5 && pb.length > 5);
    assert.ok([...pa, ...pb].every((p) => p.sessionId === undefined));
    assert.equal(sessionLabel(pb.map((p) => p.label)).label, 'bicep_curl');
    // merged listing: every device, ordered by window start then device, paged by cursor
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await rig.service.listPredictions({ from: t0, limit: 7, cursor });
      pages.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const expected = [...pa, ...pb].sort((x, y) => x.windowStart - y.windowStart || (x.deviceId < y.deviceId ? -1 : 1));
    assert.deepEqual(pages.map((p) => `${p.deviceId}@${p.windowStart}`), expected.map((p) => `${p.deviceId}@${p.windowStart}`));
  });

  it('forgets idle devices after 10 minutes; a failing step is logged, never thrown into the bus', async () => {
    assert.ok(rig.service.status().devices > 0);
    rig.clock.advance(11 * 60_000);
    assert.equal(rig.service.status().devices, 0);
    const broken = rig.sessions.active.bind(rig.sessions);
    rig.sessions.active = () => {
      throw new Error('sessions unavailable');
    };
    const before = rig.service.status().errors;
    const squat = await recordingReadings(SQUAT, 'rack-9', rig.clock.now());
    await rig.ingest(squat.slice(0, 100));
    assert.equal(rig.service.status().errors, before + 1);
    rig.sessions.active = broken;
  });
});

describe('RecognitionService across a restart', () => {
  it('restores a session that was active from the stores: the final count and vote cover all of it', async () => {
    const clock = new FakeClock();
    const first = await startRig({ clock });
    const t0 = clock.now() + 1000;
    const squat = await recordingReadings(SQUAT, 'rack-r', t0);
    const session = first.sessions.start('rack-r');
    const cut = Math.floor(squat.length * 0.6);
    await first.stream(squat.slice(0, cut));
    const windowsBefore = first.emitted.predictions.length;
    await first.close(true);

    // a new process: same stores, same (still active) session
    const second = await startRig({ dir: first.dir, clock, sessions: (bus, c) => Object.assign(first.sessions, { bus, clock: c }) });
    await second.stream(squat.slice(cut));
    await second.service.idle();
    second.sessions.end(session.id);
    await second.service.idle();
    const final = second.sessions.resultsOf(session.id).at(-1)!;
    assert.ok(Math.abs(final.reps! - 10) <= 1, `final reps ${final.reps} after a restart`);
    assert.equal(final.predictedLabel, 'squat');
    const stored = await second.service.listPredictions({ sessionId: session.id, limit: 10_000 });
    assert.equal(stored.items.length, windowsBefore + second.emitted.predictions.length);
    await second.close();
  });
});
