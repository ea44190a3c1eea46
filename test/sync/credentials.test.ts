import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { createLogger } from '../../daemon/logger.js';
import { EventBus } from '../../daemon/event-bus.js';
import { systemClock } from '../../daemon/clock.js';
import { SyncService } from '../../sync/sync-service.js';
import type { SyncStatus } from '../../sync/sync-types.js';
import { spawnGymhub } from '../helpers/process.js';
import { startPostgres, TEST_PG_PASSWORD } from '../helpers/postgres.js';
import { seedHubData } from './sync-fixture.js';

const TOKEN = 'sync-creds-token-0123456789';

test('Postgres credentials never reach the logs, /health or GET /sync: a daemon syncing through an outage, every byte of its output checked', async (t) => {
  const server = await startPostgres();
  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-sync-creds-'));
  const url = await server.createDatabase('creds');
  assert.ok(url.includes(TEST_PG_PASSWORD));
  await seedHubData(dataDir, [{ deviceId: 'rack-1', label: 'squat', readings: 2000 }, { deviceId: 'rack-1', label: 'row', readings: 1000 }], 5);
  await server.stop();

  const child = spawnGymhub(['run'], {
    GYMHUB_DATA_DIR: dataDir, GYMHUB_HTTP_HOST: '127.0.0.1', GYMHUB_HTTP_PORT: '0', GYMHUB_API_TOKEN: TOKEN,
    GYMHUB_MQTT_URL: 'off', GYMHUB_SERIAL: 'off', GYMHUB_BLE: 'off', GYMHUB_PG_URL: url, GYMHUB_LOG_LEVEL: 'trace',
  });
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    output += `${text}\n`;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(line)) waiter.resolve(line);
      else waiters.push(waiter);
    }
  });
  const line = (match: (l: Record<string, unknown>) => boolean) => new Promise<Record<string, unknown>>((resolve) => waiters.push({ match, resolve }));

  // Postgres is down: the first run fails and says so, without the password.
  const failure = line((l) => l.msg === 'cannot reach Postgres; sync retries later');
  const ready = await line((l) => l.msg === 'gymhub ready');
  const api = `http://127.0.0.1:${(ready.api as { port: number }).port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  assert.match(String((await failure).error), /ECONNREFUSED/);
  const down = (await (await fetch(`${api}/api/v1/sync`, { headers: auth })).json()) as SyncStatus;
  assert.equal(down.state, 'backoff');
  const health = await (await fetch(`${api}/health`)).text();
  assert.match(health, /cannot reach Postgres/);

  // Back up: a sync now succeeds.
  await server.start();
  const up = (await (await fetch(`${api}/api/v1/sync`, { method: 'POST', headers: auth })).json()) as SyncStatus;
  assert.equal(up.state, 'idle', JSON.stringify(up.lastError));
  assert.equal(up.pendingSessions, 0);
  const texts = [JSON.stringify(down), health, JSON.stringify(up), await (await fetch(`${api}/metrics`)).text()];
  child.kill('SIGTERM');
  assert.equal(await exited, 0);

  assert.match(output, /"msg":"session synced"/);
  assert.match(output, /"msg":"cloud sync on"/);
  for (const text of [output, ...texts]) assert.ok(!text.includes(TEST_PG_PASSWORD), `the password leaked:\n${text}`);
});

test('a wrong password: the refusal is logged and reported as an error, with neither password nor user in it', async (t) => {
  const server = await startPostgres();
  t.after(() => server.close());
  const good = new URL(await server.createDatabase('creds_wrong'));
  const wrongPassword = `wrong-${TEST_PG_PASSWORD}`;
  good.password = wrongPassword;
  let logged = '';
  const log = createLogger({ level: 'trace', destination: new Writable({ write(chunk, _encoding, done) { logged += chunk.toString(); done(); } }) as never });
  const bus = new EventBus(log);
  const sync = new SyncService({
    url: good.toString(), hubId: 'hub-x', bus, clock: systemClock, log,
    sessions: { pendingSync: async () => [], markSynced: async () => false },
    readings: { iterate: async function* () {} },
  });
  let states = '';
  bus.on('sync', 'test', (e) => (states += JSON.stringify(e)));
  t.after(() => sync.stop());
  sync.start();
  const status = await sync.syncNow();
  assert.equal(status.state, 'error', 'Postgres answered and refused: not a mere outage');
  assert.match(status.lastError!.message, /password authentication failed for user "\*\*\*"/);
  assert.match(logged, /password authentication failed/);
  for (const text of [logged, states, JSON.stringify(status)]) {
    assert.ok(!text.includes(TEST_PG_PASSWORD), 'no password');
    assert.ok(!text.includes(`user \\"${good.username}\\"`) && !text.includes(`user "${good.username}"`), 'no user name');
  }
});
