import assert from 'node:assert/strict';
import { join } from 'node:path';
import type pg from 'pg';
import { pino } from 'pino';
import { EventBus, type HubEvents } from '../../daemon/event-bus.js';
import { SessionService } from '../../daemon/sessions/session-service.js';
import type { Session } from '../../daemon/sessions/types.js';
import { openState } from '../../daemon/state.js';
import { ReadingStore } from '../../daemon/store/reading-store.js';
import type { Reading } from '../../drivers/reading.js';
import { seededRandom } from '../../models/random.js';
import type { SyncEvent } from '../../sync/sync-types.js';
import { FakeClock } from '../helpers/fake-clock.js';

export interface SessionPlan {
  deviceId: string;
  /** Unlabelled sessions are not synced. */
  label?: string;
  readings: number;
  /** Left active: not synced either. */
  active?: boolean;
  /** Readings without the device's sample counter (seq -1 in Postgres). */
  noSeq?: boolean;
  withMag?: boolean;
  /** One reading stored twice, as a broker redelivery after a hub crash leaves it. */
  duplicate?: boolean;
}

const SAMPLE_MS = 10;
const APPEND_BATCH = 1000;
const CLASSES = ['squat', 'bicep_curl', 'row', 'shoulder_press'];

/**
 * Writes sessions and their readings into a hub's data directory (state.json, sessions, reading store) the
 * way the hub would have, before the hub under test starts on it. Between sessions each device also sends a
 * few readings that belong to no session: they must never reach Postgres. Returns the hubId.
 */
export async function seedHubData(dataDir: string, plans: readonly SessionPlan[], seed = 1): Promise<string> {
  const clock = new FakeClock(Date.UTC(2025, 11, 1, 8) + seed * 3_600_000);
  const random = seededRandom(seed);
  const value = (scale: number) => Math.round((random() * 2 - 1) * scale * 1000) / 1000;
  const log = pino({ level: 'silent' });
  const state = await openState(dataDir, { clock });
  const sessions = new SessionService({ dir: join(dataDir, 'sessions'), log, clock, bus: new EventBus(log), knownClasses: () => CLASSES, devices: state });
  const store = new ReadingStore({ dir: join(dataDir, 'db'), log, clock });
  await store.open();
  await sessions.open();
  const seqs = new Map<string, number>();
  const make = (plan: SessionPlan, ts: number): Reading => {
    const seq = seqs.get(plan.deviceId) ?? 0;
    seqs.set(plan.deviceId, seq + 1);
    const reading: Reading = { deviceId: plan.deviceId, ts, accel: [value(20), value(20), 9.8 + value(2)], gyro: [value(4), value(4), value(4)] };
    if (!plan.noSeq) reading.seq = seq;
    if (plan.withMag) {
      reading.mag = [value(60), value(60), value(60)];
      reading.temp = 20 + value(10);
    }
    return reading;
  };
  const append = async (readings: Reading[]) => {
    for (let i = 0; i < readings.length; i += APPEND_BATCH) await store.append(readings.slice(i, i + APPEND_BATCH));
  };
  try {
    for (const plan of plans) {
      await append(Array.from({ length: 5 }, (_, i) => make(plan, clock.now() + i * SAMPLE_MS)));
      clock.advance(1000);
      const session = await sessions.start({ deviceId: plan.deviceId, ...(plan.label !== undefined && { label: plan.label }) });
      const readings = Array.from({ length: plan.readings }, (_, i) => make(plan, session.startedAt + i * SAMPLE_MS));
      await append(readings);
      if (plan.duplicate && readings.length > 0) await store.append([readings[Math.floor(readings.length / 2)]]);
      clock.advance(plan.readings * SAMPLE_MS + 1);
      if (!plan.active) await sessions.update(session.id, { end: true });
      clock.advance(1000);
    }
    return state.hubId;
  } finally {
    await sessions.close();
    await store.close();
  }
}

/** The hub's view through its API: GET a path, JSON back. */
export type HubGet = (path: string) => Promise<unknown>;

interface PgReading {
  session_id: string;
  device_id: string;
  ts: string;
  seq: string;
  ax: number; ay: number; az: number; gx: number; gy: number; gz: number;
  mx: number | null; my: number | null; mz: number | null; temp: number | null;
}

/** The hub's readings as Postgres keys them: each (ts, seq) once, in (ts, seq) order. */
export function distinctReadings(readings: readonly Reading[]): Reading[] {
  const seen = new Set<string>();
  const out = readings.filter((r) => {
    const key = `${r.ts}/${r.seq ?? -1}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return out.sort((a, b) => a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1));
}

/**
 * Postgres holds exactly the hub's labelled, ended sessions and their readings: every session row with its
 * label and count, every reading once with the very values the hub's export gives (float32 both sides, so
 * equal as numbers), none missing, none extra, and the hub shows each of them synced.
 */
export async function assertPostgresEqualsHub(client: pg.ClientBase, hubId: string, get: HubGet): Promise<{ sessions: number; readings: number }> {
  const hubSessions: Session[] = [];
  let cursor: string | null = null;
  do {
    const page = (await get(`/api/v1/sessions?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)) as { items: Session[]; nextCursor: string | null };
    hubSessions.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const syncable = hubSessions.filter((s) => s.status === 'ended' && s.label !== undefined);
  const rows = await client.query('SELECT * FROM sessions WHERE hub_id = $1 ORDER BY session_id', [hubId]);
  assert.deepEqual(rows.rows.map((r) => r.session_id), syncable.map((s) => s.id).sort(), 'Postgres has a row for each labelled, ended session and no other');

  let total = 0;
  for (const session of syncable) {
    assert.equal(session.synced, true, `session ${session.id} is marked synced on the hub`);
    const row = rows.rows.find((r) => r.session_id === session.id)!;
    const expected = distinctReadings((await get(`/api/v1/sessions/${session.id}/readings.json`)) as Reading[]);
    assert.ok(expected.length > 0, 'a session with readings');
    assert.equal(row.label, session.label);
    assert.equal(row.device_id, session.deviceId);
    assert.equal(Number(row.started_at), session.startedAt);
    assert.equal(Number(row.ended_at), session.endedAt);
    assert.equal(row.reading_count, expected.length, `session ${session.id}: reading_count is its distinct readings`);
    const held = await client.query<PgReading>('SELECT * FROM readings WHERE hub_id = $1 AND session_id = $2 ORDER BY ts, seq', [hubId, session.id]);
    assert.equal(held.rows.length, expected.length, `session ${session.id}: every reading once`);
    held.rows.forEach((r, i) => {
      const e = expected[i]!;
      const where = `session ${session.id} reading ${i}`;
      assert.equal(r.device_id, session.deviceId, where);
      assert.equal(Number(r.ts), e.ts, where);
      assert.equal(Number(r.seq), e.seq ?? -1, where);
      assert.deepEqual([r.ax, r.ay, r.az, r.gx, r.gy, r.gz], [...e.accel, ...e.gyro], where);
      assert.deepEqual([r.mx, r.my, r.mz], e.mag ? [...e.mag] : [null, null, null], where);
      assert.equal(r.temp, e.temp ?? null, where);
    });
    total += expected.length;
  }
  const all = await client.query<{ n: string }>('SELECT count(*) AS n FROM readings WHERE hub_id = $1', [hubId]);
  assert.equal(Number(all.rows[0]!.n), total, 'no reading outside the synced sessions');
  return { sessions: syncable.length, readings: total };
}

/** The next 'sync' event on the bus that matches. */
export function nextSyncEvent(bus: Pick<EventBus, 'on' | 'removeListeners'>, match: (event: SyncEvent) => boolean): Promise<SyncEvent> {
  const owner = `test-${Math.random()}`;
  return new Promise((resolve) => {
    bus.on('sync', owner, (event: HubEvents['sync']) => {
      if (!match(event)) return;
      bus.removeListeners(owner);
      resolve(event);
    });
  });
}
