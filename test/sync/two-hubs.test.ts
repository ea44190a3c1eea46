import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { SyncStatus } from '../../sync/sync-types.js';
import { MIGRATIONS } from '../../sync/migrations.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';
import { startPostgres } from '../helpers/postgres.js';
import { assertPostgresEqualsHub, seedHubData, type SessionPlan } from './sync-fixture.js';

/** The same device ids, times and seqs on both hubs: only the hubId tells their readings apart. */
const PLANS: SessionPlan[] = [
  { deviceId: 'rack-1', label: 'squat', readings: 4000, duplicate: true },
  { deviceId: 'bench-2', label: 'bicep_curl', readings: 3000, withMag: true },
  { deviceId: 'rack-1', readings: 500 },
  { deviceId: 'rack-1', label: 'row', readings: 3000, noSeq: true },
];

test('two hubs with different hubIds migrate and sync into one Postgres at the same time, without conflict', async (t) => {
  const server = await startPostgres();
  let client: pg.Client | undefined;
  const hubs: TestHub[] = [];
  t.after(async () => {
    await client?.end().catch(() => undefined);
    for (const hub of hubs) await hub.close();
    await server.close();
  });
  const url = await server.createDatabase('two_hubs');
  const ids: string[] = [];
  // Both start at once on an empty database: both migrate at once, then upload side by side.
  hubs.push(...await Promise.all([0, 1].map((i) => startTestHub({ sync: { postgresUrl: url, chunkReadings: 1000 } }, new FakeClock(Date.UTC(2026, 0, 7, 10)), async (dataDir) => {
    ids[i] = await seedHubData(dataDir, PLANS, 7);
  }))));
  assert.notEqual(ids[0], ids[1]);
  const statuses = await Promise.all(hubs.map(async (hub) => (await hub.hub.app.inject({ method: 'POST', url: '/api/v1/sync', headers: AUTH })).json() as SyncStatus));
  for (const status of statuses) {
    assert.equal(status.state, 'idle', JSON.stringify(status.lastError));
    assert.equal(status.pendingSessions, 0);
    assert.equal(status.errors, 0, 'no run failed: no conflict between the hubs');
  }

  client = new pg.Client({ connectionString: url });
  await client.connect();
  assert.deepEqual((await client.query('SELECT version FROM gymhub_schema ORDER BY version')).rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
  assert.deepEqual((await client.query('SELECT hub_id FROM hubs ORDER BY hub_id')).rows.map((r) => r.hub_id), [...ids].sort());
  assert.equal((await client.query('SELECT count(*)::int AS n FROM devices')).rows[0].n, 4, 'each hub has its own two devices');
  for (const [i, hub] of hubs.entries()) {
    const { sessions, readings } = await assertPostgresEqualsHub(client, ids[i]!, async (path) => (await hub.hub.app.inject({ url: path, headers: AUTH })).json());
    assert.equal(sessions, 3);
    assert.equal(readings, 4000 + 3000 + 3000);
  }
  assert.equal((await client.query('SELECT count(*)::int AS n FROM readings')).rows[0].n, 2 * 10_000);
});
