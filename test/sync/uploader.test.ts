import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Session } from '../../daemon/sessions/types.js';
import type { Reading } from '../../drivers/reading.js';
import { SessionUploader } from '../../sync/session-uploader.js';
import { SyncIntegrityError } from '../../sync/sync-errors.js';
import type { SyncReadingSource } from '../../sync/sync-types.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const HUB = 'HUB-UPLOADER';
const T0 = Date.UTC(2026, 1, 1);
const session: Session = { id: '01KBCJ7TK8FB9DXTWRHNQWKAF1', deviceId: 'rack-1', label: 'squat', startedAt: T0, endedAt: T0 + 10_000, status: 'ended', synced: false };
const readings: Reading[] = Array.from({ length: 1000 }, (_, i) => ({ deviceId: 'rack-1', ts: T0 + i * 10, seq: i, accel: [i / 8, -1.5, 9.75], gyro: [0.125, 0, -0.25] }));

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server.close());

async function connect(name: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await server.createDatabase(name) });
  await client.connect();
  return client;
}

/** The readings in chunks of 100, with `beforeFirst` run when the uploader asks for them. */
function source(items: Reading[], beforeFirst?: () => Promise<void>): SyncReadingSource {
  return {
    async *iterate(_deviceId, from = -Infinity, to = Infinity) {
      await beforeFirst?.();
      const inRange = items.filter((r) => r.ts >= from && r.ts < to);
      for (let i = 0; i < inRange.length; i += 100) yield inRange.slice(i, i + 100);
    },
  };
}

test('a chunk that would repeat a reading already there is refused whole, then goes through staging: each reading once', async () => {
  const client = await connect('uploader_race');
  try {
    const uploader = new SessionUploader({ client, hubId: HUB, chunkReadings: 300, now: () => T0, readings: source(readings, async () => {
      // After the uploader found none of the session in Postgres: the third reading turns up there meanwhile.
      await client.query("INSERT INTO readings (hub_id, device_id, session_id, ts, seq, ax, ay, az, gx, gy, gz) VALUES ($1, 'rack-1', 'x', $2, 2, 0, 0, 0, 0, 0, 0)", [HUB, T0 + 20]);
    }) });
    await uploader.prepare();
    const result = await uploader.upload({ session, labelVersion: 1 });
    assert.deepEqual({ readings: result.readings, inserted: result.inserted, rowOnly: result.rowOnly }, { readings: 1000, inserted: 999, rowOnly: false });
    const { rows } = await client.query('SELECT count(*)::int AS n, count(DISTINCT (ts, seq))::int AS d FROM readings');
    assert.deepEqual(rows[0], { n: 1000, d: 1000 });
    assert.equal((await client.query('SELECT reading_count FROM sessions')).rows[0].reading_count, 1000);
  } finally {
    await client.end();
  }
});

test('Postgres holding other readings in the session range: not confirmed, no session row', async () => {
  const client = await connect('uploader_integrity');
  try {
    const uploader = new SessionUploader({ client, hubId: HUB, now: () => T0, readings: source(readings) });
    await uploader.prepare();
    await client.query("INSERT INTO readings (hub_id, device_id, session_id, ts, seq, ax, ay, az, gx, gy, gz) VALUES ($1, 'rack-1', 'x', $2, 77777, 0, 0, 0, 0, 0, 0)", [HUB, T0 + 5]);
    await assert.rejects(uploader.upload({ session, labelVersion: 1 }), (err) => err instanceof SyncIntegrityError && /holds 1001 readings in its range, the hub 1000/.test(err.message));
    assert.equal((await client.query('SELECT count(*)::int AS n FROM sessions')).rows[0].n, 0);
  } finally {
    await client.end();
  }
});

test('an older label version never overwrites a newer one', async () => {
  const client = await connect('uploader_versions');
  try {
    const uploader = new SessionUploader({ client, hubId: HUB, now: () => T0, readings: source(readings) });
    await uploader.prepare();
    await uploader.upload({ session: { ...session, label: 'row' }, labelVersion: 3 });
    const stale = await uploader.upload({ session, labelVersion: 2 });
    assert.equal(stale.rowOnly, true);
    const { rows } = await client.query('SELECT label, label_version, reading_count FROM sessions');
    assert.deepEqual(rows, [{ label: 'row', label_version: 3, reading_count: 1000 }]);
  } finally {
    await client.end();
  }
});
