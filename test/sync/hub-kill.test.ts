import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { SyncStatus } from '../../sync/sync-types.js';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon.js';
import { startPostgres } from '../helpers/postgres.js';
import { assertPostgresEqualsHub, seedHubData } from './sync-fixture.js';

const TOKEN = 'sync-kill-token-0123456789';
const CHUNK_READINGS = 500;

/** Resolves with the first log line (already printed, or to come) that matches. */
function lineMatching(daemon: DaemonProcess, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const earlier = daemon.lines.find(match);
  if (earlier) return Promise.resolve(earlier);
  return new Promise((resolve) => {
    const lines = createInterface({ input: daemon.child.stdout! });
    lines.on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      if (!match(line)) return;
      lines.close();
      resolve(line);
    });
  });
}

test('the hub process SIGKILLed mid-upload and restarted: every labelled reading ends in Postgres exactly once', async (t) => {
  const server = await startPostgres();
  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-sync-kill-'));
  let client: pg.Client | undefined;
  let daemon: DaemonProcess | undefined;
  t.after(async () => {
    await daemon?.kill('SIGKILL');
    await client?.end().catch(() => undefined);
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const url = await server.createDatabase('hub_kill');
  const hubId = await seedHubData(dataDir, [
    { deviceId: 'rack-1', label: 'squat', readings: 4000 },
    { deviceId: 'bench-2', label: 'bicep_curl', readings: 50_000, withMag: true, duplicate: true },
    { deviceId: 'rack-1', readings: 1000 },
    { deviceId: 'rack-1', label: 'row', readings: 3000, noSeq: true },
  ], 11);
  const configPath = join(dataDir, 'config.json');
  await writeFile(configPath, JSON.stringify({ sync: { chunkReadings: CHUNK_READINGS } }));
  const env = {
    GYMHUB_DATA_DIR: dataDir, GYMHUB_HTTP_HOST: '127.0.0.1', GYMHUB_HTTP_PORT: '0', GYMHUB_API_TOKEN: TOKEN,
    GYMHUB_MQTT_URL: 'off', GYMHUB_SERIAL: 'off', GYMHUB_BLE: 'off', GYMHUB_PG_URL: url, GYMHUB_LOG_LEVEL: 'debug',
  };

  // The daemon syncs at start; it is killed as soon as the big session's first chunk is in Postgres.
  daemon = await startDaemonProcess(['--config', configPath], env);
  const chunk = await lineMatching(daemon, (l) => l.msg === 'readings chunk in Postgres' && l.deviceId === 'bench-2');
  assert.equal((await daemon.kill('SIGKILL')).signal, 'SIGKILL');
  assert.equal(chunk.sentReadings, CHUNK_READINGS, 'chunks of sync.chunkReadings');

  client = new pg.Client({ connectionString: url });
  await client.connect();
  const benchId = (await client.query("SELECT DISTINCT session_id FROM readings WHERE device_id = 'bench-2'")).rows[0]?.session_id as string;
  const partial = (await client.query('SELECT count(*)::int AS n FROM readings WHERE session_id = $1', [benchId])).rows[0].n as number;
  assert.ok(partial > 0 && partial < 50_000, `killed mid-upload: ${partial} of the session's readings were in`);
  assert.equal((await client.query('SELECT count(*)::int AS n FROM sessions WHERE session_id = $1', [benchId])).rows[0].n, 0, 'and its row was not');
  assert.equal((await client.query("SELECT label FROM sessions WHERE device_id = 'rack-1'")).rows.map((r) => r.label).join(), 'squat', 'the session before it was complete');

  daemon = await startDaemonProcess(['--config', configPath], env);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const response = await fetch(`${daemon.apiUrl}/api/v1/sync`, { method: 'POST', headers: auth });
  const status = (await response.json()) as SyncStatus;
  assert.equal(response.status, 200);
  assert.equal(status.state, 'idle', JSON.stringify(status.lastError));
  assert.equal(status.pendingSessions, 0);
  assert.ok(daemon.lines.some((l) => l.msg === 'session synced' && l.deviceId === 'bench-2' && l.inserted === 50_000 - partial), 'the restarted hub sent what was missing; the rest was already there');

  const get = async (path: string) => (await fetch(`${daemon!.apiUrl}${path}`, { headers: auth })).json();
  const { sessions, readings } = await assertPostgresEqualsHub(client, hubId, get);
  assert.deepEqual([sessions, readings], [3, 4000 + 50_000 + 3000]);
  assert.equal((await daemon.kill('SIGTERM')).code, 0);
});
