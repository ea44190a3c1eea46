import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { SYNC_BACKOFF_MAX_MS, SYNC_BACKOFF_MIN_MS } from '../../sync/sync-service.js';
import type { SyncEvent, SyncStatus } from '../../sync/sync-types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';
import { startPostgres } from '../helpers/postgres.js';
import { assertPostgresEqualsHub, nextSyncEvent, seedHubData, type SessionPlan } from './sync-fixture.js';

const PLANS: SessionPlan[] = [
  { deviceId: 'rack-1', label: 'squat', readings: 2500, duplicate: true },
  { deviceId: 'bench-2', label: 'bicep_curl', readings: 8000, withMag: true },
  { deviceId: 'rack-1', label: 'squat', readings: 2000, noSeq: true },
  { deviceId: 'rack-1', readings: 300 },
  { deviceId: 'bench-2', label: 'row', readings: 1500 },
  { deviceId: 'rack-1', label: 'squat', readings: 200, active: true },
];

test('Postgres stopped mid-upload and started again: retries back off, then every labelled reading is in Postgres exactly once', async (t) => {
  const server = await startPostgres();
  let client: pg.Client | undefined;
  let hub: TestHub | undefined;
  // One hook, in order: a client still connected when its server stops would see an unhandled 'error'.
  t.after(async () => {
    await client?.end().catch(() => undefined);
    await hub?.close();
    await server.close();
  });
  const url = await server.createDatabase('restart');
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 12));
  let hubId = '';
  let seen: SyncEvent[] = [];
  hub = await startTestHub({ sync: { postgresUrl: url, chunkReadings: 500 } }, clock, async (dataDir) => {
    hubId = await seedHubData(dataDir, PLANS);
  });
  const bus = hub.hub.bus;
  const app = hub.hub.app;
  bus.on('sync', 'test-log', (event) => seen.push(event));
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string) => app.inject({ method, url, headers: AUTH });
  const stateIs = (...states: string[]) => (e: SyncEvent) => e.event === 'state' && states.includes(e.status.state);

  // The first session goes up; Postgres stops (the signal leaves at once, from the listener) as soon as the
  // second one's first chunk is in.
  let stopping: Promise<void> | undefined;
  bus.on('sync', 'test-cut', (e) => {
    if (e.event === 'progress' && e.deviceId === 'bench-2') stopping ??= server.stop();
  });
  const failed = nextSyncEvent(bus, stateIs('backoff', 'error'));
  const backoff = ((await failed) as { status: SyncStatus }).status;
  await stopping;
  bus.removeListeners('test-cut');
  assert.equal(backoff.state, 'backoff', 'an unreachable Postgres is retried, not an error');
  assert.ok(seen.some((e) => e.event === 'session' && e.deviceId === 'rack-1'), 'the first session was synced before the cut');
  assert.ok(!seen.some((e) => e.event === 'session' && e.deviceId === 'bench-2'), 'the second was cut mid-upload');
  assert.equal(backoff.nextAttemptAt! - backoff.lastError!.at, SYNC_BACKOFF_MIN_MS, 'the first retry comes after 1 s');

  const status = (await api('GET', '/api/v1/sync')).json() as SyncStatus;
  assert.equal(status.state, 'backoff');
  assert.equal(status.pendingSessions, 3);
  assert.equal(status.pendingReadings, 8000 + 2000 + 1500);
  assert.ok(status.oldestUnsyncedAgeS! > 0);
  const health = (await api('GET', '/health')).json();
  assert.equal(health.components.sync.state, 'degraded');
  assert.match(health.components.sync.detail, /cannot reach Postgres/);
  assert.equal(health.status, 'degraded');
  const metrics = (await api('GET', '/metrics')).body;
  assert.match(metrics, /^gymhub_sync_pending_sessions 3$/m);
  assert.match(metrics, /^gymhub_sync_up 0$/m);
  assert.match(metrics, /^gymhub_sync_errors_total 1$/m);

  // While Postgres is down the retries keep failing, further apart each time but never beyond 5 min.
  const delays: number[] = [];
  for (let attempt = 0; attempt < 12; attempt++) {
    const again = nextSyncEvent(bus, stateIs('backoff', 'error'));
    clock.advance(SYNC_BACKOFF_MAX_MS);
    const next = ((await again) as { status: SyncStatus }).status;
    delays.push(next.nextAttemptAt! - next.lastError!.at);
  }
  assert.ok(delays.every((d) => d >= SYNC_BACKOFF_MIN_MS && d <= SYNC_BACKOFF_MAX_MS), `delays within 1 s..5 min: ${delays}`);
  assert.ok(Math.max(...delays) > 60_000, `the delays grow: ${delays}`);

  await server.start();
  seen = [];
  const done = nextSyncEvent(bus, stateIs('idle', 'backoff', 'error'));
  clock.advance(SYNC_BACKOFF_MAX_MS);
  const after = ((await done) as { status: SyncStatus }).status;
  assert.equal(after.state, 'idle', JSON.stringify(after.lastError));
  assert.equal(after.pendingSessions, 0);
  assert.equal(after.pendingReadings, 0);
  assert.equal(after.lastError, null);
  assert.equal(seen.filter((e) => e.event === 'session').length, 3, 'the three sessions left were synced');

  client = new pg.Client({ connectionString: url });
  await client.connect();
  const get = async (path: string) => (await api('GET', path)).json();
  const { sessions, readings } = await assertPostgresEqualsHub(client, hubId, get);
  assert.equal(sessions, 4);
  assert.equal(readings, 2500 + 8000 + 2000 + 1500);
  const finalMetrics = (await api('GET', '/metrics')).body;
  assert.match(finalMetrics, /^gymhub_sync_pending_sessions 0$/m);
  assert.match(finalMetrics, /^gymhub_sync_uploaded_sessions_total 4$/m);
  assert.match(finalMetrics, /^gymhub_sync_uploaded_readings_total 14000$/m);
  assert.equal((await api('GET', '/health')).json().components.sync.state, 'ok');
});
