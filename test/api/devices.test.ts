import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';

let t: TestHub;
before(async () => {
  t = await startTestHub({ mqtt: { url: 'off', embeddedPort: 0, embeddedHost: '127.0.0.1' } });
});
after(() => t.close());

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
  t.hub.app.inject({ method, url, headers: AUTH, ...(payload !== undefined && { payload: payload as object }) });

test('pair a device with default candidates, see it paired, forget it', async () => {
  const paired = await call('POST', '/api/v1/devices/pair', { transport: 'mqtt', deviceId: 'rack-1', candidates: ['squat'] });
  assert.equal(paired.statusCode, 201, paired.body);
  assert.equal(paired.json().deviceId, 'rack-1');
  assert.deepEqual(paired.json().candidates, ['squat']);
  assert.ok(paired.json().pairedAt > 0);

  const batch = encodeCompactBatch({ deviceId: 'rack-1', t0: Date.now() - 100, dtMs: 10, seq: 0, samples: [[0, 0, 9.8, 0, 0, 0]] });
  await t.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: batch });
  assert.equal((await call('GET', '/api/v1/devices/rack-1')).json().paired, true);

  assert.equal((await call('DELETE', '/api/v1/devices/rack-1')).statusCode, 204);
  assert.equal((await call('GET', '/api/v1/devices/rack-1')).statusCode, 404);
  assert.equal((await call('DELETE', '/api/v1/devices/rack-1')).statusCode, 404);
  assert.equal((await call('GET', '/api/v1/readings/latest?deviceId=rack-1')).statusCode, 200, 'its readings stay');
});

test('pairing mistakes are 4xx with the reason', async () => {
  for (const [body, status] of [
    [{ transport: 'ble', deviceId: 'x' }, 409],
    [{ transport: 'mqtt' }, 400],
    [{ transport: 'carrier-pigeon', deviceId: 'x' }, 400],
    [{ transport: 'mqtt', deviceId: 'bad id' }, 400],
    [{ transport: 'mqtt', deviceId: 'x', candidates: [] }, 400],
    [{ transport: 'mqtt', deviceId: 'x', candidates: ['Squat!'] }, 400],
    [{ transport: 'mqtt', deviceId: 'x', extra: 1 }, 400],
  ] as const) {
    const response = await call('POST', '/api/v1/devices/pair', body);
    assert.equal(response.statusCode, status, `${JSON.stringify(body)}: ${response.body}`);
    assert.ok(response.json().error && response.json().message);
  }
  assert.deepEqual((await call('GET', '/api/v1/devices/discovered')).json(), { items: [], nextCursor: null });
});

test('commands reach an MQTT device on its cmd topic; unreachable and unknown devices are 409 and 404', async () => {
  const port = t.hub.health().components.mqtt.port as number;
  const device = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'cmd-device' });
  await device.subscribeAsync('gymhub/cmd-device/cmd', { qos: 1 });
  await device.publishAsync('gymhub/cmd-device/imu', encodeCompactBatch({ deviceId: 'cmd-device', t0: Date.now() - 100, dtMs: 10, seq: 0, samples: [[0, 0, 9.8, 0, 0, 0]] }), { qos: 1 });
  const received = new Promise<[string, Buffer]>((resolve) => device.once('message', (topic, payload) => resolve([topic, payload])));
  const response = await call('POST', '/api/v1/devices/cmd-device/commands', { cmd: 'rate', hz: 100 });
  assert.equal(response.statusCode, 202, response.body);
  assert.deepEqual(response.json(), { sent: true, transport: 'mqtt' });
  const [topic, payload] = await received;
  assert.equal(topic, 'gymhub/cmd-device/cmd');
  assert.deepEqual(JSON.parse(payload.toString()), { cmd: 'rate', hz: 100 });
  await device.endAsync();

  assert.equal((await call('POST', '/api/v1/devices/nobody/commands', { cmd: 'identify' })).statusCode, 404);
  assert.equal((await call('POST', '/api/v1/devices/cmd-device/commands', { cmd: 'explode' })).statusCode, 400);
  assert.equal((await call('POST', '/api/v1/devices/cmd-device/commands', { cmd: 'rate', hz: 0 })).statusCode, 400);
  const batch = encodeCompactBatch({ deviceId: 'http-only', t0: Date.now() - 100, dtMs: 10, seq: 0, samples: [[0, 0, 9.8, 0, 0, 0]] });
  await t.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: batch });
  const unreachable = await call('POST', '/api/v1/devices/http-only/commands', { cmd: 'identify' });
  assert.equal(unreachable.statusCode, 409);
  assert.equal(unreachable.json().error, 'device_unreachable');
});
