import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { UnsyncedIntervalIndex } from '../../daemon/sessions/retention-index.js';
import { SessionService } from '../../daemon/sessions/session-service.js';
import type { Session } from '../../daemon/sessions/types.js';
import { EventBus } from '../../daemon/event-bus.js';
import { ReadingStore } from '../../daemon/store/reading-store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { collectIterate, readings } from '../store/store-helpers.js';
import { CLASSES, openSessions } from './helpers.js';

function session(id: string, deviceId: string, startedAt: number, endedAt: number | undefined, extra: Partial<Session> = {}): Session {
  return { id, deviceId, startedAt, endedAt, status: endedAt === undefined ? 'active' : 'ended', synced: false, label: 'squat', ...extra };
}

describe('unsynced interval index', () => {
  it('finds overlaps with inclusive bounds, open-ended active sessions, nested intervals and other devices', () => {
    const index = new UnsyncedIntervalIndex();
    index.update(session('a', 'D', 100, 200));
    index.update(session('b', 'D', 1000, 5000));
    index.update(session('c', 'D', 1100, 1200));
    index.update(session('d', 'E', 50, undefined));
    const cases: Array<[string, number, number, boolean]> = [
      ['D', 0, 99, false],
      ['D', 0, 100, true],
      ['D', 200, 300, true],
      ['D', 201, 999, false],
      ['D', 3000, 3001, true], // inside b, after the later-starting c ended
      ['D', 5001, 9e12, false],
      ['E', 0, 49, false],
      ['E', 9e12, 9e12 + 1, true],
      ['F', 0, 9e12, false],
    ];
    for (const [deviceId, from, to, expected] of cases) assert.equal(index.overlaps(deviceId, from, to), expected, `${deviceId} [${from}, ${to}]`);

    index.update(session('b', 'D', 1000, 5000, { synced: true }));
    assert.equal(index.overlaps('D', 3000, 3001), false, 'synced: no longer kept');
    assert.equal(index.overlaps('D', 1150, 1150), true);
    index.update(session('c', 'D', 1100, 1200, { label: undefined }));
    assert.equal(index.overlaps('D', 1150, 1150), false, 'unlabelled: not kept');
    index.remove({ id: 'a', deviceId: 'D' });
    assert.equal(index.overlaps('D', 150, 150), false);
    assert.equal(index.size, 1);
  });

  it('agrees with a brute-force check on random intervals and queries', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const index = new UnsyncedIntervalIndex();
    const intervals: Array<[number, number]> = [];
    for (let i = 0; i < 300; i++) {
      const start = Math.floor(random() * 100_000);
      const end = random() < 0.05 ? undefined : start + Math.floor(random() * 3_000);
      intervals.push([start, end ?? Infinity]);
      index.update(session(`s${i}`, 'D', start, end));
      if (i % 50 === 0) index.overlaps('D', 0, 1); // interleave rebuilds with changes
    }
    for (let q = 0; q < 2_000; q++) {
      const from = Math.floor(random() * 110_000);
      const to = from + Math.floor(random() * 500);
      const expected = intervals.some(([s, e]) => s <= to && e >= from);
      assert.equal(index.overlaps('D', from, to), expected, `[${from}, ${to}]`);
    }
  });
});

describe('session retention policy', () => {
  it('keeps unsynced labelled sessions (ended or active) and nothing else; everything until open()', async () => {
    const f = await openSessions();
    try {
      const log = pino({ level: 'silent' });
      const unopened = new SessionService({ dir: join(f.dataDir, 'other'), log, clock: f.clock, bus: new EventBus(log), knownClasses: () => CLASSES, devices: f.state });
      assert.equal(await unopened.retentionPolicy.isDeletable('D', 0, 1), false, 'not loaded: keep everything');

      const policy = f.service.retentionPolicy;
      const t0 = f.clock.now();
      const labelled = await f.service.start({ deviceId: 'D', label: 'squat' });
      f.clock.advance(10_000);
      assert.equal(await policy.isDeletable('D', t0 + 50_000, t0 + 60_000), false, 'active and labelled: kept up to now and on');
      await f.service.update(labelled.id, { end: true });
      const unlabelled = await f.service.start({ deviceId: 'D' });
      f.clock.advance(10_000);
      await f.service.update(unlabelled.id, { end: true });

      assert.equal(await policy.isDeletable('D', t0 - 1000, t0 - 1), true, 'before any session');
      assert.equal(await policy.isDeletable('D', t0 - 1000, t0), false, 'touches the labelled session');
      assert.equal(await policy.isDeletable('D', t0 + 10_001, t0 + 19_000), true, 'the unlabelled session');
      assert.equal(await policy.isDeletable('E', t0, t0 + 5000), true, 'another device');

      assert.equal(await f.service.markSynced(labelled.id, 1), true);
      assert.equal(await policy.isDeletable('D', t0, t0 + 5000), true, 'synced');
      await f.service.update(labelled.id, { label: 'dead' });
      assert.equal(await policy.isDeletable('D', t0, t0 + 5000), false, 'relabelled: kept until synced again');
      await f.service.delete(labelled.id);
      assert.equal(await policy.isDeletable('D', t0, t0 + 5000), true, 'deleted');
    } finally {
      await f.close();
    }
  });

  it("drives the reading store's retention: a labelled session's readings survive until synced", async () => {
    const f = await openSessions();
    const storeDir = join(f.dataDir, 'db');
    const log = pino({ level: 'silent' });
    try {
      // 10 blocks of 256 readings at 100 Hz from T0 (= the fake clock's start), written without limits.
      const filling = new ReadingStore({ dir: storeDir, log, clock: new FakeClock(), maxBytes: 1e9 });
      await filling.open();
      for (let b = 0; b < 10; b++) await filling.append(readings('D', b * 256, 256));
      const bytes = filling.stats().bytes;
      await filling.close();

      // The session covers readings 0..999 (the first four blocks).
      const s = await f.service.start({ deviceId: 'D', label: 'squat' });
      f.clock.advance(10_000);
      await f.service.update(s.id, { end: true });

      const store = new ReadingStore({ dir: storeDir, log, clock: new FakeClock(), maxBytes: Math.round(bytes * 0.3), retention: f.service.retentionPolicy });
      await store.open();
      try {
        const first = await store.runRetention();
        // Under the target only by deleting protected blocks: every other block goes, those four stay.
        assert.equal(first.reachedTarget, false);
        assert.equal(first.keptBlocks, 4, JSON.stringify(first));
        const kept = (await collectIterate(store.iterate('D'))).items.map((r) => r.seq!);
        assert.deepEqual(kept, Array.from({ length: 1024 }, (_, i) => i), 'the blocks touching readings 0..999 stay');

        assert.equal(await f.service.markSynced(s.id, 1), true);
        await store.runRetention();
        const after = (await collectIterate(store.iterate('D'))).items.map((r) => r.seq!);
        assert.ok(!after.includes(0), 'synced: the oldest readings may go now');
      } finally {
        await store.close();
      }
    } finally {
      await f.close();
    }
  });
});
