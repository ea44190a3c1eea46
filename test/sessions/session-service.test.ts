import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTime, isValid } from 'ulid';
import type { GymhubError } from '../../daemon/errors.js';
import type { Session } from '../../daemon/sessions/types.js';
import { CLASSES, openSessions } from './helpers.js';

/** Rejects with a GymhubError of this status (and code, when given). */
function failsWith(status: number, code?: string) {
  return (err: unknown) => {
    const e = err as GymhubError;
    assert.equal(e.statusCode, status, e.message);
    if (code) assert.equal(e.code, code, e.message);
    return true;
  };
}

describe('session lifecycle', () => {
  it('starts, labels and ends a session, with the clock and events of each step', async () => {
    const f = await openSessions();
    try {
      const t0 = f.clock.now();
      const started = await f.service.start({ deviceId: 'rack-1', athleteId: 'ath-7', notes: 'warm-up' });
      assert.ok(isValid(started.id), started.id);
      assert.equal(decodeTime(started.id), t0);
      assert.deepEqual(started, { id: started.id, deviceId: 'rack-1', athleteId: 'ath-7', startedAt: t0, notes: 'warm-up', status: 'active', synced: false });
      assert.deepEqual(f.service.active('rack-1'), started);

      f.clock.advance(5_000);
      const labelled = await f.service.update(started.id, { label: 'squat', notes: null });
      assert.equal(labelled.label, 'squat');
      assert.equal(labelled.notes, undefined);
      f.clock.advance(25_000);
      const ended = await f.service.update(started.id.toLowerCase(), { end: true });
      assert.equal(ended.status, 'ended');
      assert.equal(ended.endedAt, t0 + 30_000);
      assert.equal(f.service.active('rack-1'), undefined);
      assert.deepEqual(await f.service.get(started.id), ended);

      f.clock.advance(1_000);
      const again = await f.service.update(started.id, { end: true });
      assert.equal(again.endedAt, t0 + 30_000, 'ending twice changes nothing');
      assert.deepEqual(f.events.map((e) => [e.type, e.session.status]), [['started', 'active'], ['updated', 'active'], ['ended', 'ended']]);
      assert.deepEqual(f.events[2].session, ended);
    } finally {
      await f.close();
    }
  });

  it('allows one active session per device: a second start is a 409 naming the active one', async () => {
    const f = await openSessions();
    try {
      const first = await f.service.start({ deviceId: 'rack-1' });
      await assert.rejects(f.service.start({ deviceId: 'rack-1', label: 'squat' }), (err: unknown) => {
        failsWith(409, 'conflict')(err);
        assert.deepEqual((err as GymhubError).details, { deviceId: 'rack-1', activeSessionId: first.id });
        assert.match((err as Error).message, new RegExp(first.id));
        return true;
      });
      await f.service.start({ deviceId: 'rack-2' });
      await f.service.update(first.id, { end: true });
      await f.service.start({ deviceId: 'rack-1' });

      // Two starts at the same moment: exactly one wins.
      const race = await Promise.allSettled([f.service.start({ deviceId: 'bench-1' }), f.service.start({ deviceId: 'bench-1' })]);
      assert.deepEqual(race.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.equal((await f.service.list({ deviceId: 'bench-1' })).items.length, 1);
    } finally {
      await f.close();
    }
  });

  it('deletes the record (404 afterwards), frees the device, and says so on the bus', async () => {
    const f = await openSessions();
    try {
      const s = await f.service.start({ deviceId: 'rack-1', label: 'squat' });
      await f.service.delete(s.id);
      await assert.rejects(f.service.get(s.id), failsWith(404, 'not_found'));
      await assert.rejects(f.service.delete(s.id), failsWith(404, 'not_found'));
      assert.equal(f.service.active('rack-1'), undefined);
      assert.equal(f.events.at(-1)?.type, 'deleted');
      assert.equal(f.events.at(-1)?.session.id, s.id);
      assert.deepEqual((await f.service.list()).items, []);
      await f.service.start({ deviceId: 'rack-1' });
    } finally {
      await f.close();
    }
  });

  it('answers bad ids with 400 and unknown ones with 404; checks fields itself', async () => {
    const f = await openSessions();
    try {
      for (const id of ['nope', '', '01ARZ3NDEKTSV4RRFFQ69G5FAVX', '81ARZ3NDEKTSV4RRFFQ69G5FAV', '01ARZ3NDEKTSV4RRFFQ69G5FAU']) {
        await assert.rejects(f.service.get(id), failsWith(400, 'bad_session_id'), id);
      }
      await assert.rejects(f.service.get('01ARZ3NDEKTSV4RRFFQ69G5FAV'), failsWith(404));
      await assert.rejects(f.service.update('01ARZ3NDEKTSV4RRFFQ69G5FAV', { label: 'squat' }), failsWith(404));
      await assert.rejects(f.service.start({ deviceId: 'bad id' }), failsWith(400));
      await assert.rejects(f.service.start({ deviceId: 'rack-1', label: 'x'.repeat(65) }), failsWith(400));
      await assert.rejects(f.service.start({ deviceId: 'rack-1', label: 'bench press' }), failsWith(400));
      await assert.rejects(f.service.start({ deviceId: 'rack-1', notes: 'n'.repeat(2001) }), failsWith(400));
      await assert.rejects(f.service.start({ deviceId: 'rack-1', athleteId: 'a\u0000b' }), failsWith(400));
      assert.deepEqual((await f.service.list()).items, [], 'nothing stored');
      assert.equal(f.events.length, 0);
    } finally {
      await f.close();
    }
  });
});

describe('labels and sync', () => {
  it('a relabel after sync makes the session unsynced, and a stale markSynced is refused', async () => {
    const f = await openSessions();
    try {
      const s = await f.service.start({ deviceId: 'rack-1', label: 'squat' });
      assert.equal(await f.service.markSynced(s.id, 1), false, 'an active session is not synced');
      assert.deepEqual(await f.service.pendingSync(), [], 'sync uploads ended sessions only');
      await f.service.update(s.id, { end: true });
      const [pending] = await f.service.pendingSync();
      assert.equal(pending.session.id, s.id);
      assert.equal(pending.labelVersion, 1);

      assert.equal(await f.service.markSynced(s.id, 1), true);
      assert.equal((await f.service.get(s.id)).synced, true);
      assert.deepEqual(await f.service.pendingSync(), []);
      assert.equal(await f.service.markSynced(s.id, 1), false, 'already synced');

      assert.equal((await f.service.update(s.id, { label: 'squat' })).synced, true, 'the same label is no change');
      assert.equal((await f.service.update(s.id, { notes: 'deep' })).synced, true, 'notes do not resync');
      const relabelled = await f.service.update(s.id, { label: 'dead' });
      assert.equal(relabelled.synced, false);
      const [again] = await f.service.pendingSync();
      assert.equal(again.labelVersion, 2);
      assert.equal(again.session.label, 'dead');

      // Sync uploaded version 2; the app relabels before it reports back: the session must sync once more.
      await f.service.update(s.id, { label: 'rdl' });
      assert.equal(await f.service.markSynced(s.id, 2), false);
      assert.equal((await f.service.get(s.id)).synced, false);
      assert.equal(await f.service.markSynced(s.id, 3), true);
      assert.equal(await f.service.markSynced('01ARZ3NDEKTSV4RRFFQ69G5FAV', 1), false, 'a session that is gone');
    } finally {
      await f.close();
    }
  });

  it('unlabelled sessions never wait for sync; labelling one later does', async () => {
    const f = await openSessions();
    try {
      const s = await f.service.start({ deviceId: 'rack-1' });
      await f.service.update(s.id, { end: true });
      assert.deepEqual(await f.service.pendingSync(), []);
      assert.equal(await f.service.markSynced(s.id, 0), false);
      await f.service.update(s.id, { label: 'row' });
      assert.equal((await f.service.pendingSync()).length, 1);
    } finally {
      await f.close();
    }
  });
});

describe('candidates', () => {
  it("are checked against the active model's classes: unknown ones are a 400 listing the valid ones", async () => {
    const f = await openSessions();
    try {
      await assert.rejects(f.service.start({ deviceId: 'rack-1', candidates: ['squat', 'zumba'] }), (err: unknown) => {
        failsWith(400, 'unknown_candidates')(err);
        assert.deepEqual((err as GymhubError).details, { unknown: ['zumba'], valid: CLASSES });
        assert.match((err as Error).message, /zumba.*bicep_curl/);
        return true;
      });
      assert.deepEqual((await f.service.list()).items, [], 'nothing stored');
      const s = await f.service.start({ deviceId: 'rack-1', candidates: ['squat', 'squat', 'dead'] });
      assert.deepEqual(s.candidates, ['squat', 'dead']);
      await assert.rejects(f.service.update(s.id, { candidates: ['rest', 'squat'] }), failsWith(400, 'unknown_candidates'));
      assert.deepEqual((await f.service.get(s.id)).candidates, ['squat', 'dead'], 'unchanged after a refused update');
    } finally {
      await f.close();
    }
  });

  it("fall back to the paired device's defaults when the session has none", async () => {
    const f = await openSessions();
    try {
      assert.equal(f.service.candidatesFor('curl-1'), undefined);
      await f.state.pair({ deviceId: 'curl-1', transport: 'ble', candidates: ['bicep_curl', 'shoulder_press'] });
      assert.deepEqual(f.service.candidatesFor('curl-1'), ['bicep_curl', 'shoulder_press'], 'no session: the default');
      const s = await f.service.start({ deviceId: 'curl-1', candidates: ['bicep_curl'] });
      assert.deepEqual(f.service.candidatesFor('curl-1'), ['bicep_curl']);
      const cleared = await f.service.update(s.id, { candidates: null });
      assert.equal(cleared.candidates, undefined);
      assert.deepEqual(f.service.candidatesFor('curl-1'), ['bicep_curl', 'shoulder_press']);
      await f.service.update(s.id, { candidates: ['row'] });
      await f.service.update(s.id, { end: true });
      assert.deepEqual(f.service.candidatesFor('curl-1'), ['bicep_curl', 'shoulder_press'], 'an ended session no longer applies');
    } finally {
      await f.close();
    }
  });

  it('cannot be set while no model is active, and says why', async () => {
    const f = await openSessions({ classes: () => [] });
    try {
      await assert.rejects(f.service.start({ deviceId: 'rack-1', candidates: ['squat'] }), /no model is active/);
      await f.service.start({ deviceId: 'rack-1', candidates: [] });
      assert.equal(f.service.active('rack-1')?.candidates, undefined, 'an empty list is none');
    } finally {
      await f.close();
    }
  });
});

describe('recognition results', () => {
  it('records live reps and the predicted label, announces changes only, and ignores sessions that are gone', async () => {
    const f = await openSessions();
    try {
      const s = await f.service.start({ deviceId: 'rack-1' });
      await f.service.recordRecognition(s.id, { reps: 3, predictedLabel: 'squat' });
      await f.service.recordRecognition(s.id, { reps: 3, predictedLabel: 'squat' });
      await f.service.recordRecognition(s.id, { reps: -1 });
      assert.deepEqual(f.events.map((e) => e.type), ['started', 'updated']);
      assert.equal(f.service.active('rack-1')?.reps, 3);
      await f.service.update(s.id, { end: true });
      await f.service.recordRecognition(s.id, { reps: 4 });
      assert.equal((await f.service.get(s.id)).reps, 4, 'a final count after the end');
      await f.service.recordRecognition('01ARZ3NDEKTSV4RRFFQ69G5FAV', { reps: 1 });
      assert.equal((await f.reopen().then((svc) => svc.get(s.id))).reps, 4, 'kept across a restart');
    } finally {
      await f.close();
    }
  });
});

describe('persistence', () => {
  it('survives a restart: records, active sessions (still one per device) and what retention must keep', async () => {
    const f = await openSessions();
    try {
      const done = await f.service.start({ deviceId: 'rack-1', label: 'squat' });
      f.clock.advance(60_000);
      const ended = await f.service.update(done.id, { end: true });
      const running = await f.service.start({ deviceId: 'rack-2', candidates: ['row'], athleteId: 'a1' });
      const before = await f.service.list();

      const service = await f.reopen();
      assert.deepEqual(await service.get(done.id), ended);
      assert.deepEqual(service.active('rack-2'), running);
      assert.deepEqual(service.candidatesFor('rack-2'), ['row']);
      assert.deepEqual(await service.list(), before);
      await assert.rejects(service.start({ deviceId: 'rack-2' }), failsWith(409));
      assert.equal(await service.retentionPolicy.isDeletable('rack-1', done.startedAt + 10, done.startedAt + 20), false);
      assert.equal(await service.retentionPolicy.isDeletable('rack-2', running.startedAt, running.startedAt + 10), true, 'unlabelled');
    } finally {
      await f.close();
    }
  });
});

describe('list', () => {
  it('pages newest first through every session once, with filters by device, status and label', async () => {
    const f = await openSessions();
    try {
      const all: Session[] = [];
      for (let i = 0; i < 25; i++) {
        const deviceId = `dev-${i % 3}`;
        const s = await f.service.start({ deviceId, ...(i % 2 === 0 && { label: i % 4 === 0 ? 'squat' : 'row' }) });
        f.clock.advance(i % 5 === 0 ? 0 : 1_000);
        all.push(i < 22 ? await f.service.update(s.id, { end: true }) : s);
      }
      const newestFirst = [...all].sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1));

      const collect = async (query: Parameters<typeof f.service.list>[0]) => {
        const items: Session[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await f.service.list({ ...query, cursor });
          assert.ok(page.items.length <= (query?.limit ?? 100));
          items.push(...page.items);
          cursor = page.nextCursor ?? undefined;
          pages += 1;
        } while (cursor);
        return { ids: items.map((s) => s.id), pages };
      };
      const expect = (keep: (s: Session) => boolean) => newestFirst.filter(keep).map((s) => s.id);

      const everything = await collect({ limit: 10 });
      assert.deepEqual(everything.ids, expect(() => true));
      assert.equal(everything.pages, 3);
      assert.equal((await collect({ limit: 25 })).pages, 1, 'no empty last page');
      assert.deepEqual((await collect({ deviceId: 'dev-1', limit: 3 })).ids, expect((s) => s.deviceId === 'dev-1'));
      assert.deepEqual((await collect({ label: 'squat', limit: 2 })).ids, expect((s) => s.label === 'squat'));
      assert.deepEqual((await collect({ status: 'ended', limit: 4 })).ids, expect((s) => s.status === 'ended'));
      assert.deepEqual((await collect({ status: 'active', limit: 1 })).ids, expect((s) => s.status === 'active'));
      assert.deepEqual((await collect({ status: 'active', deviceId: 'dev-0' })).ids, expect((s) => s.status === 'active' && s.deviceId === 'dev-0'));
      assert.deepEqual(
        (await collect({ deviceId: 'dev-2', label: 'row', status: 'ended', limit: 1 })).ids,
        expect((s) => s.deviceId === 'dev-2' && s.label === 'row' && s.status === 'ended'),
      );
      assert.deepEqual((await collect({ deviceId: 'nobody' })).ids, []);

      // Relabelling moves a session between label lists.
      const moved = expect((s) => s.label === 'squat')[0];
      await f.service.update(moved, { label: 'row' });
      assert.ok(!(await collect({ label: 'squat' })).ids.includes(moved));
      assert.ok((await collect({ label: 'row' })).ids.includes(moved));

      const cursor = (await f.service.list({ limit: 5 })).nextCursor!;
      await assert.rejects(f.service.list({ deviceId: 'dev-1', cursor }), failsWith(400, 'bad_cursor'), 'a cursor of another query');
      await assert.rejects(f.service.list({ cursor: 'garbage' }), failsWith(400, 'bad_cursor'));
      await assert.rejects(f.service.list({ label: 'no spaces allowed' }), failsWith(400));
    } finally {
      await f.close();
    }
  });
});
