import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { generate, parser, type Packet } from 'mqtt-packet';
import type { DeviceInfo } from '../../drivers/driver.js';
import { EmbeddedMqttDriver } from '../../drivers/mqtt/embedded-driver.js';
import { closed, compactBatch, connectDevice, harness, nextMessage } from './support.js';

async function setup(t: TestContext, port = 0) {
  const h = harness();
  const infoListeners: Array<(deviceId: string, info: DeviceInfo) => void> = [];
  h.deps.onDeviceInfo = (deviceId, _transport, info) => {
    h.infos.push({ deviceId, info });
    for (const listener of infoListeners) listener(deviceId, info);
  };
  const driver = new EmbeddedMqttDriver(h.deps, { port, host: '127.0.0.1' });
  t.after(() => driver.stop());
  await driver.start();
  assert.equal(driver.status().state, 'running');
  const url = `mqtt://127.0.0.1:${driver.port}`;
  const nextInfo = () => new Promise<{ deviceId: string; info: DeviceInfo }>((resolve) => {
    infoListeners.push((deviceId, info) => resolve({ deviceId, info }));
  });
  return { ...h, driver, url, nextInfo };
}

/** A bare MQTT 3.1.1 client, to put several PUBLISHes into one TCP write and watch the PUBACKs come back. */
async function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const packets: Packet[] = [];
  const waiters: Array<() => void> = [];
  const read = parser({ protocolVersion: 4 });
  read.on('packet', (packet: Packet) => {
    packets.push(packet);
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on('data', (chunk: Buffer) => read.parse(chunk));
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'raw-device', clean: true, keepalive: 0 }));
  await until(() => packets.some((p) => p.cmd === 'connack'));
  return { socket, packets, until };
}

test('embedded: a device gets its PUBACK only after the readings are stored, in order', { timeout: 10_000 }, async (t) => {
  const { driver, sink } = await setup(t);
  sink.mode = 'hold';
  const raw = await rawClient(driver.port!);
  t.after(() => raw.socket.destroy());
  const publish = (messageId: number, seq: number) =>
    generate({ cmd: 'publish', topic: 'gymhub/emb-1/imu', payload: Buffer.from(compactBatch('emb-1', seq)), qos: 1, messageId, dup: false, retain: false });
  raw.socket.write(Buffer.concat([publish(1, 0), publish(2, 10)]));
  await sink.until(() => sink.held.length === 2);
  const pubacks = () => raw.packets.filter((p) => p.cmd === 'puback').map((p) => p.messageId);

  const [first, second] = sink.held.splice(0);
  second.resolve();
  first.resolve();
  await raw.until(() => pubacks().length === 2);
  assert.deepEqual(pubacks(), [1, 2], 'message 2 stored first, but acknowledged after message 1');
  assert.deepEqual(sink.seqsOf('emb-1'), [...Array(10).keys()].map((i) => i + 10).concat([...Array(10).keys()]));

  sink.mode = 'hold';
  raw.socket.write(publish(3, 20));
  await sink.until(() => sink.held.length === 1);
  assert.deepEqual(pubacks(), [1, 2], 'no PUBACK while the store is pending');
  sink.release();
  await raw.until(() => pubacks().length === 3);
});

test('embedded: a refused store leaves the device without PUBACK; it resends and the readings arrive', { timeout: 10_000 }, async (t) => {
  const { url, sink, driver } = await setup(t);
  const device = await connectDevice(url, { clientId: 'emb-2', protocolVersion: 4 });
  t.after(() => device.endAsync());
  sink.mode = 'fail';
  let acked = false;
  const publishing = device.publishAsync('gymhub/emb-2/imu', compactBatch('emb-2', 0), { qos: 1 }).then(() => { acked = true; });
  await closed(device);
  assert.equal(acked, false);
  sink.mode = 'group';
  await publishing;
  assert.deepEqual(sink.seqsOf('emb-2'), [...Array(10).keys()]);
  assert.ok((driver.status().storeFailures as number) >= 1);
});

test('embedded: status and last will become device info; commands reach the device', { timeout: 10_000 }, async (t) => {
  const { url, driver, nextInfo } = await setup(t);
  const device = await connectDevice(url, {
    clientId: 'emb-3',
    protocolVersion: 4,
    will: { topic: 'gymhub/W/status', payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  });
  await device.subscribeAsync('gymhub/W/cmd', { qos: 1 });
  const online = nextInfo();
  await device.publishAsync('gymhub/W/status', '{"online":true,"fw":"3.0.1","hz":50,"battery":64}', { qos: 1, retain: true });
  assert.deepEqual(await online, { deviceId: 'W', info: { online: true, fw: '3.0.1', hz: 50, battery: 64 } });

  const command = nextMessage(device);
  assert.equal(await driver.sendCommand('W', { cmd: 'identify' }), true);
  const [topic, payload] = await command;
  assert.equal(topic, 'gymhub/W/cmd');
  assert.deepEqual(JSON.parse(String(payload)), { cmd: 'identify' });

  const offline = nextInfo();
  device.options.reconnectPeriod = 0;
  device.stream.destroy(); // a dropped connection, not a clean DISCONNECT: the broker publishes the will
  assert.deepEqual(await offline, { deviceId: 'W', info: { online: false } });
  await device.endAsync(true);
});

test('embedded: restarting the hub-side broker; the device reconnects and what it had not got acknowledged arrives', { timeout: 10_000 }, async (t) => {
  const first = await setup(t);
  const port = first.driver.port!;
  const device = await connectDevice(first.url, { clientId: 'emb-4', protocolVersion: 4 });
  t.after(() => device.endAsync());
  await device.publishAsync('gymhub/emb-4/imu', compactBatch('emb-4', 0), { qos: 1 });

  first.sink.mode = 'fail';
  const pending = device.publishAsync('gymhub/emb-4/imu', compactBatch('emb-4', 10), { qos: 1 });
  await first.sink.until(() => first.sink.calls === 2);
  await first.driver.stop();
  assert.equal(first.driver.status().state, 'stopped');

  const second = await setup(t, port);
  await pending;
  await device.publishAsync('gymhub/emb-4/imu', compactBatch('emb-4', 20), { qos: 1 });
  assert.deepEqual(first.sink.seqsOf('emb-4'), [...Array(10).keys()]);
  assert.deepEqual(second.sink.seqsOf('emb-4'), [...Array(20).keys()].map((i) => i + 10));
});
