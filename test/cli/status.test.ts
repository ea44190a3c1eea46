import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { devicesCommand, sessionsCommand, statusCommand } from '../../daemon/cli/status-command.js';
import { AUTH, startTestHub, TEST_TOKEN, type TestHub } from '../helpers/hub.js';
import { captureIo } from './cli-io.js';

let test: TestHub;
let url: string;

before(async () => {
  test = await startTestHub();
  url = `http://127.0.0.1:${test.hub.address.port}`;
  const now = Date.now();
  const response = await test.hub.app.inject({
    method: 'POST',
    url: '/api/v1/readings',
    headers: { ...AUTH, 'content-type': 'application/json' },
    payload: encodeCompactBatch({ deviceId: 'ESP32_007', t0: now - 90, dtMs: 10, seq: 0, samples: Array.from({ length: 10 }, () => [0.1, -9.8, 0.2, 0.01, 0, 0]) }),
  });
  assert.equal(response.statusCode, 202, response.body);
});
after(async () => {
  await test.close();
});

/** A closed port: nothing listens there. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('gymhub status', () => {
  it('summarises /health and the devices, exit 0 when the hub is ok', async () => {
    const io = captureIo(['--url', url, '--token', TEST_TOKEN]);
    assert.equal(await statusCommand(io), 0, io.err());
    const text = io.out();
    assert.match(text, new RegExp(`^gymhub \\S+ at ${url}: ok\\n`));
    assert.match(text, new RegExp(`hub\\s+${test.hub.hubId}, up \\d+s`));
    assert.match(text, /store\s+ok\s+[\d.]+ (B|KiB|MiB), 10 readings, 0 pending/);
    assert.match(text, /mqtt\s+off\s+GYMHUB_MQTT_URL=off/);
    assert.match(text, /model\s+ok\s+version \S+, (\w+, )*squat(, \w+)*, \d+ windows classified/);
    assert.match(text, /devices\s+1 known, 1 streaming, \d+ readings\/s/);
  });

  it('without a token still reports health, and says the devices need one', async () => {
    const io = captureIo(['--url', url], {});
    assert.equal(await statusCommand(io), 0);
    assert.match(io.out(), /: ok\n/);
    assert.match(io.out(), /devices\s+\(no valid API token: pass --token to list them\)/);
  });

  it('--json prints the health object as the API gives it', async () => {
    const io = captureIo(['--url', url, '--json']);
    assert.equal(await statusCommand(io), 0);
    const health = JSON.parse(io.out()) as { status: string; hubId: string; components: Record<string, unknown> };
    assert.equal(health.status, 'ok');
    assert.equal(health.hubId, test.hub.hubId);
    assert.ok('store' in health.components);
  });

  it('exit 1 with a message when the hub cannot be reached', async () => {
    const io = captureIo(['--url', await deadUrl()]);
    assert.equal(await statusCommand(io), 1);
    assert.match(io.err(), /cannot reach the hub at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('exit 1 when the hub says degraded (and when /health answers 503)', async () => {
    for (const [code, status] of [[200, 'degraded'], [503, 'degraded']] as const) {
      const server = await stubServer(() => [code, { status, version: '0.1.0', hubId: 'H', uptimeS: 5, components: { store: { state: code === 503 ? 'error' : 'ok', detail: 'x' } } }]);
      const io = captureIo(['--url', server.url]);
      assert.equal(await statusCommand(io), 1);
      assert.match(io.out(), code === 503 ? /: degraded \(503: the store is unusable\)/ : /: degraded\n/);
      await server.close();
    }
  });
});

describe('gymhub devices', () => {
  it('lists the devices in a table, and as JSON with --json', async () => {
    const io = captureIo(['--url', url, '--token', TEST_TOKEN]);
    assert.equal(await devicesCommand(io), 0, io.err());
    const [header, row] = io.out().trim().split('\n');
    assert.match(header, /^DEVICE\s+TRANSPORT\s+ONLINE\s+RATE\/S\s+READINGS\s+DROPPED\s+REJECTED\s+BATTERY\s+PAIRED\s+LAST SEEN$/);
    assert.match(row, /^ESP32_007\s+http\s+-\s+[\d.]+\s+10\s+0\s+0\s+-\s+no\s+\d+s ago$/);

    const json = captureIo(['--url', url, '--token', TEST_TOKEN, '--json']);
    assert.equal(await devicesCommand(json), 0);
    const items = JSON.parse(json.out()) as Array<{ deviceId: string; readings: number }>;
    assert.deepEqual(items.map((d) => [d.deviceId, d.readings]), [['ESP32_007', 10]]);
  });

  it('exit 1 with a hint when the token is refused', async () => {
    const io = captureIo(['--url', url, '--token', 'wrong-token-0123456789']);
    assert.equal(await devicesCommand(io), 1);
    assert.match(io.err(), /refused the API token \(401\): pass --token, set GYMHUB_API_TOKEN/);
  });
});

describe('gymhub sessions', () => {
  it('follows the cursor, passes the filters, and prints a table', async () => {
    const seen: string[] = [];
    const started = Date.UTC(2026, 0, 1, 12, 0);
    const session = (id: string, extra: Record<string, unknown>) => ({ id, deviceId: 'squat-1', startedAt: started, status: 'ended', synced: false, ...extra });
    const server = await stubServer((path) => {
      seen.push(path);
      return path.includes('cursor=page2')
        ? [200, { items: [session('01JSESSION00000000000000B2', { endedAt: started + 95_000, label: 'squat', predictedLabel: 'squat', reps: 10 })], nextCursor: null }]
        : [200, { items: [session('01JSESSION00000000000000A1', { endedAt: started + 30_000 })], nextCursor: 'page2' }];
    });
    const io = captureIo(['--url', server.url, '--token', 't', '--device', 'squat-1', '--status', 'ended']);
    assert.equal(await sessionsCommand(io), 0, io.err());
    await server.close();
    assert.deepEqual(seen, ['/api/v1/sessions?deviceId=squat-1&status=ended', '/api/v1/sessions?deviceId=squat-1&status=ended&cursor=page2']);
    const lines = io.out().trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^SESSION\s+DEVICE\s+STATUS\s+LABEL\s+PREDICTED\s+REPS\s+STARTED\s+LENGTH$/);
    assert.match(lines[1], /^01JSESSION00000000000000A1\s+squat-1\s+ended\s+-\s+-\s+-\s+2026-01-0\d \d\d:\d\d\s+30s$/);
    assert.match(lines[2], /^01JSESSION00000000000000B2\s+squat-1\s+ended\s+squat\s+squat\s+10\s+2026-01-0\d \d\d:\d\d\s+1m 35s$/);
  });

  it('lists the sessions of a real hub (POST /api/v1/sessions, then gymhub sessions --json)', async () => {
    const start = await test.hub.app.inject({ method: 'POST', url: '/api/v1/sessions', headers: AUTH, payload: { deviceId: 'ESP32_007', candidates: ['squat'] } });
    assert.equal(start.statusCode, 201, `the hub's sessions route: ${start.body}`);
    const io = captureIo(['--url', url, '--token', TEST_TOKEN, '--json']);
    assert.equal(await sessionsCommand(io), 0, io.err());
    const items = JSON.parse(io.out()) as Array<{ id: string; deviceId: string; status: string }>;
    assert.deepEqual(items.map((s) => [s.id, s.deviceId, s.status]), [[(JSON.parse(start.body) as { id: string }).id, 'ESP32_007', 'active']]);
  });

  it('refuses a bad --status as a usage error', async () => {
    await assert.rejects(sessionsCommand(captureIo(['--url', url, '--status', 'paused'])), { message: /--status must be active or ended/ });
  });
});

/** A real HTTP server on loopback answering every GET with what `answer` says. */
async function stubServer(answer: (path: string) => [number, unknown]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const [status, body] = answer(request.url ?? '/');
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
