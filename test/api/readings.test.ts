import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCompactBatch, encodeSeedJson } from '../../drivers/codec/encode.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';

let t: TestHub;
before(async () => {
  t = await startTestHub();
});
after(() => t.close());

const post = (body: string, headers: Record<string, string> = AUTH) =>
  t.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...headers, 'content-type': 'application/json' }, payload: body });
const get = (url: string, headers: Record<string, string> = AUTH) => t.hub.app.inject({ method: 'GET', url, headers });

test('every /api/v1 route needs the bearer token; /health does not', async () => {
  for (const url of ['/api/v1/readings', '/api/v1/readings/latest', '/api/v1/devices', '/api/v1/devices/x']) {
    const response = await get(url, {});
    assert.equal(response.statusCode, 401, url);
    assert.equal(response.json().error, 'unauthorized');
    assert.equal((await get(url, { authorization: 'Bearer wrong-token-wrong-token' })).statusCode, 401, url);
  }
  assert.equal((await post('{}', {})).statusCode, 401);
  const health = await get('/health', {});
  assert.equal(health.statusCode, 200);
  const body = health.json();
  assert.equal(body.status, 'ok');
  assert.equal(typeof body.hubId, 'string');
  for (const component of ['store', 'mqtt', 'serial', 'ble', 'sync', 'model']) assert.ok(body.components[component]?.state, component);
  assert.equal(body.components.mqtt.state, 'off');
});

test('GET /info describes the hub for an app', async () => {
  const info = (await get('/api/v1/info')).json();
  assert.equal(info.hubId, t.hub.hubId);
  assert.equal(info.apiVersion, 1);
  assert.equal(info.transports.mqtt, 'off');
  assert.equal(info.mqttPrefix, 'gymhub');
  assert.ok(info.model.classes.includes('squat') && info.model.classes.includes('bicep_curl'));
});

test('failed authentications are rate limited per address', async () => {
  const limited = await startTestHub({ http: { host: '127.0.0.1', port: 0, failedAuthPerMinute: 3 } });
  try {
    const attempt = (authorization?: string) => limited.hub.app.inject({ url: '/api/v1/devices', headers: authorization ? { authorization } : {} });
    for (let i = 0; i < 3; i++) assert.equal((await attempt('Bearer nope-nope-nope-nope')).statusCode, 401);
    const blocked = await attempt('Bearer nope-nope-nope-nope');
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.json().error, 'too_many_failed_auth');
    assert.equal((await attempt(AUTH.authorization)).statusCode, 429, 'even the right token waits out the window');
  } finally {
    await limited.close();
  }
});

test('POST /readings stores format (b) and (a), answers 202 with counts, readings come back in canonical shape', async () => {
  const t0 = Date.now() - 1000;
  const batch = encodeCompactBatch({ deviceId: 'dev-b', t0, dtMs: 10, seq: 100, samples: [[0.1, 0.2, 9.8, 0.01, 0.02, 0.03], [0.2, 0.3, 9.7, 0.04, 0.05, 0.06, 1, 2, 3]] });
  const first = await post(batch);
  assert.equal(first.statusCode, 202, first.body);
  assert.deepEqual(first.json(), { accepted: 2, rejected: 0, duplicates: 0 });

  const seed = encodeSeedJson({ deviceId: 'dev-a', timestamp: t0, accel: [0.23, -0.01, 9.85], gyro: [0.01, 0.01, 0], mag: [1617, 1119, -14421], temp: 26.82 });
  assert.equal((await post(seed)).statusCode, 202);

  const page = (await get('/api/v1/readings?deviceId=dev-b')).json();
  assert.equal(page.nextCursor, null);
  assert.deepEqual(page.items.map((r: { seq: number }) => r.seq), [100, 101]);
  assert.deepEqual(page.items[0].accel, [0.1, 0.2, 9.8]);
  assert.deepEqual(page.items[1].mag, [1, 2, 3]);
  assert.equal(page.items[1].ts - page.items[0].ts, 10);

  const latest = (await get('/api/v1/readings/latest?deviceId=dev-a')).json();
  assert.deepEqual(latest.accel, [0.23, -0.01, 9.85]);
  assert.equal(latest.temp, 26.82);
  const all = (await get('/api/v1/readings/latest')).json();
  assert.deepEqual(all.items.map((r: { deviceId: string }) => r.deviceId).sort(), ['dev-a', 'dev-b']);
  assert.equal((await get('/api/v1/readings/latest?deviceId=nobody')).statusCode, 404);
});

test('a bad sample is rejected alone; a batch with nothing valid is a 400 with the reason', async () => {
  const t0 = Date.now() - 500;
  const mixed = JSON.stringify({ d: 'dev-mixed', t0, dt: 10, s: [[0, 0, 9.8, 0, 0, 0], [0, 0, 9999, 0, 0, 0], [0, 0, 9.8, 0, 0, 0.1]] });
  const response = await post(mixed);
  assert.equal(response.statusCode, 202);
  assert.equal(response.json().accepted, 2);
  assert.equal(response.json().rejected, 1);
  assert.equal(response.json().errors[0].reason, 'accel_range');

  for (const body of ['not json', '{"d":"x","t0":1,"dt":10,"s":[[1,2]]}', '{"d":"bad id!","t0":1,"dt":10,"s":[[0,0,0,0,0,0]]}', '[]']) {
    const bad = await post(body);
    assert.equal(bad.statusCode, 400, body);
    assert.ok(bad.json().error && bad.json().message, body);
  }
  assert.equal((await post('')).statusCode, 400);
  const devices = (await get('/api/v1/devices')).json().items.map((d: { deviceId: string }) => d.deviceId);
  assert.ok(!devices.includes('bad id!') && !devices.includes('x'));
});

test('oversized bodies get 413, unknown routes 404, bad query values 400 — never 500', async () => {
  for (const samples of [5_000, 100_000]) {
    const huge = JSON.stringify({ d: 'dev-big', t0: Date.now(), dt: 10, s: Array.from({ length: samples }, () => [0, 0, 9.8, 0, 0, 0]) });
    const big = await post(huge);
    assert.equal(big.statusCode, 413, `${samples} samples: ${big.body}`);
    assert.ok(big.json().message);
  }
  assert.equal((await get('/api/v1/readings/latest?deviceId=dev-big')).statusCode, 404, 'nothing of it stored');
  assert.equal((await get('/api/v1/nothing')).statusCode, 404);
  for (const url of ['/api/v1/readings?limit=0', '/api/v1/readings?limit=abc', '/api/v1/readings?from=-5', '/api/v1/readings?deviceId=bad%20id', '/api/v1/readings?from=10&to=5', '/api/v1/readings?cursor=garbage']) {
    const response = await get(url);
    assert.equal(response.statusCode, 400, `${url}: ${response.body}`);
    assert.ok(response.json().error, url);
  }
});

test('cursor paging walks every reading once, oldest first, with and without deviceId', async () => {
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < 5; i++) {
    const samples = Array.from({ length: 50 }, (_, k) => [i, k / 100, 9.8, 0, 0, 0]);
    for (const deviceId of ['page-1', 'page-2']) {
      assert.equal((await post(encodeCompactBatch({ deviceId, t0: t0 + i * 1000, dtMs: 10, seq: i * 50, samples }))).statusCode, 202);
    }
  }
  const walk = async (query: string) => {
    const seen: Array<{ deviceId: string; ts: number; seq: number }> = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/readings?${query}&limit=37${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await get(url)).json();
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return seen;
  };
  const one = await walk('deviceId=page-1');
  assert.equal(one.length, 250);
  assert.deepEqual(one.map((r) => r.seq), Array.from({ length: 250 }, (_, i) => i));
  const merged = await walk('');
  for (let i = 1; i < merged.length; i++) assert.ok(merged[i].ts >= merged[i - 1].ts, 'merged oldest first');
  assert.equal(merged.filter((r) => r.deviceId.startsWith('page-')).length, 500);
  const two = await walk('deviceId=page-2');
  const from = two[50].ts;
  const to = two[99].ts;
  const windowed = (await get(`/api/v1/readings?deviceId=page-2&from=${from}&to=${to}&limit=1000`)).json();
  assert.deepEqual(windowed.items, two.filter((r) => r.ts >= from && r.ts < to));
  assert.ok(windowed.items.length >= 45, String(windowed.items.length));
});

test('GET /devices lists devices with live status, paged; /devices/:id answers 404 for strangers', async () => {
  const list = (await get('/api/v1/devices?limit=2')).json();
  assert.equal(list.items.length, 2);
  assert.ok(list.nextCursor);
  const rest = (await get(`/api/v1/devices?cursor=${list.nextCursor}`)).json();
  assert.ok(rest.items.every((d: { deviceId: string }) => d.deviceId > list.items[1].deviceId));
  const device = (await get('/api/v1/devices/dev-b')).json();
  assert.equal(device.transport, 'http');
  assert.equal(device.readings, 2);
  assert.ok(device.lastSeen > 0 && device.rate > 0);
  assert.equal((await get('/api/v1/devices/nobody')).statusCode, 404);
});
