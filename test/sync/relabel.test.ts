import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import WebSocket from 'ws';
import type { Session } from '../../daemon/sessions/types.js';
import type { SyncEvent, SyncStatus } from '../../sync/sync-types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, TEST_TOKEN, startTestHub, type TestHub } from '../helpers/hub.js';
import { startPostgres } from '../helpers/postgres.js';
import { assertPostgresEqualsHub, nextSyncEvent, seedHubData } from './sync-fixture.js';

test('a session relabelled after its sync, and one relabelled while its readings go up: Postgres shows the new label, once', async (t) => {
  const server = await startPostgres();
  let client: pg.Client | undefined;
  let hub: TestHub | undefined;
  t.after(async () => {
    await client?.end().catch(() => undefined);
    await hub?.close();
    await server.close();
  });
  const url = await server.createDatabase('relabel');
  let hubId = '';
  hub = await startTestHub({ sync: { postgresUrl: url, chunkReadings: 500 } }, new FakeClock(Date.UTC(2026, 0, 6, 9)), async (dataDir) => {
    hubId = await seedHubData(dataDir, [
      { deviceId: 'rack-1', label: 'squat', readings: 6000 },
      { deviceId: 'bench-2', label: 'row', readings: 8000, withMag: true, duplicate: true },
    ], 3);
  });
  const { bus, app } = hub.hub;
  const api = (method: 'GET' | 'POST' | 'PATCH', path: string, payload?: object) => app.inject({ method, url: path, headers: AUTH, ...(payload && { payload }) });
  const sessions = (await api('GET', '/api/v1/sessions?status=ended')).json().items as Session[];
  const rack = sessions.find((s) => s.deviceId === 'rack-1')!;
  const bench = sessions.find((s) => s.deviceId === 'bench-2')!;
  const seen: SyncEvent[] = [];
  bus.on('sync', 'test-log', (e) => seen.push(e));

  // bench-2's session is relabelled while its readings are on their way (the first sync after start).
  const relabelledMidway = nextSyncEvent(bus, (e) => e.event === 'progress' && e.deviceId === 'bench-2')
    .then(() => api('PATCH', `/api/v1/sessions/${bench.id}`, { label: 'shoulder_press' }));
  assert.equal((await relabelledMidway).statusCode, 200);
  const first = (await api('POST', '/api/v1/sync')).json() as SyncStatus;
  assert.equal(first.state, 'idle');
  assert.equal(first.pendingSessions, 0);
  const benchEvents = seen.filter((e) => e.event === 'session' && e.sessionId === bench.id);
  assert.deepEqual(benchEvents.map((e) => e.event === 'session' && [e.labelVersion, e.rowOnly]), [[1, false], [2, true]], 'its readings went up once, then its row again with the new label');

  client = new pg.Client({ connectionString: url });
  await client.connect();
  const rows = async () => (await client!.query('SELECT session_id, label, label_version, reading_count FROM sessions WHERE hub_id = $1 ORDER BY session_id', [hubId])).rows;
  const before = await rows();
  assert.deepEqual(before.map((r) => [r.session_id, r.label, r.label_version]), [[rack.id, 'squat', 1], [bench.id, 'shoulder_press', 2]]);
  const readingsBefore = (await client.query('SELECT count(*)::int AS n FROM readings')).rows[0].n;

  // rack-1's session is relabelled after its sync: its row goes up again, alone. The app sees it live.
  const ws = new WebSocket(`ws://127.0.0.1:${hub.hub.address.port}/api/v1/stream?token=${TEST_TOKEN}&topics=sync`);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  t.after(() => ws.close());
  const rowAgain = nextSyncEvent(bus, (e) => e.event === 'session' && e.sessionId === rack.id);
  const idle = nextSyncEvent(bus, (e) => e.event === 'state' && e.status.state === 'idle');
  assert.equal((await api('PATCH', `/api/v1/sessions/${rack.id}`, { label: 'bicep_curl', notes: 'was a curl' })).statusCode, 200);
  const again = await rowAgain;
  assert.ok(again.event === 'session' && again.rowOnly && again.labelVersion === 2 && again.readings === 6000);
  await idle;
  const streamed = () => messages.filter((m) => m.type === 'sync').map((m) => `${m.event}:${m.event === 'state' ? (m.status as SyncStatus).state : m.rowOnly}`);
  while (!streamed().includes('state:idle')) await new Promise((resolve) => ws.once('message', resolve));
  assert.deepEqual(streamed(), ['state:syncing', 'session:true', 'state:idle'], 'the WebSocket forwards sync events');
  const after = await rows();
  assert.deepEqual(after.map((r) => [r.session_id, r.label, r.label_version, r.reading_count]), [[rack.id, 'bicep_curl', 2, 6000], [bench.id, 'shoulder_press', 2, 8000]]);
  assert.equal((await client.query('SELECT notes FROM sessions WHERE session_id = $1', [rack.id])).rows[0].notes, 'was a curl');
  assert.equal((await client.query('SELECT count(*)::int AS n FROM readings')).rows[0].n, readingsBefore, 'no reading sent twice');
  assert.equal(((await api('GET', `/api/v1/sessions/${rack.id}`)).json() as Session).synced, true);

  const { sessions: count } = await assertPostgresEqualsHub(client, hubId, async (path) => (await api('GET', path)).json());
  assert.equal(count, 2);
  const status = (await api('GET', '/api/v1/sync')).json() as SyncStatus;
  assert.equal(status.uploadedSessions, 4, 'two full uploads and two rows alone');
  assert.equal(status.uploadedReadings, 14_000, 'the rows alone add no readings');
});
