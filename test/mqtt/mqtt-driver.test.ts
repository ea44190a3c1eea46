import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Clock } from '../../daemon/clock.js';
import { MqttDriver, type MqttDriverOptions } from '../../drivers/mqtt/mqtt-driver.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { compactBatch, connectDevice, harness, nextMessage, PROTOCOL, RUN, untilStatus } from './support.js';

const HUB_ID = `gymhub-test-hub${RUN}`;

async function setup(t: TestContext, clock?: Clock, options: Partial<MqttDriverOptions> = {}) {
  const broker = await startBroker();
  const h = harness(clock);
  const driver = new MqttDriver(h.deps, { url: broker.url, clientId: HUB_ID, reconnectBaseMs: 10, reconnectCapMs: 50, protocolVersion: PROTOCOL, ...options });
  t.after(async () => {
    await driver.stop();
    await broker.close();
  });
  return { broker, driver, ...h };
}

/** The seqs of the hub's PUBACKs in the order the broker receives them. */
class HubAcks {
  readonly seqs: number[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(broker: TestBroker) {
    broker.aedes!.on('ack', (packet, client) => {
      if (client?.id !== HUB_ID || !packet || !('payload' in packet)) return;
      this.seqs.push(JSON.parse(String(packet.payload)).seq);
      this.waiters = this.waiters.filter((w) => (this.seqs.length >= w.n ? (w.resolve(), false) : true));
    });
  }

  /** Resolves once n PUBACKs have arrived. */
  until(n: number): Promise<void> {
    if (this.seqs.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

test('QoS 1 readings from a device land in the sink, in order, with the status counted', { timeout: 10_000 }, async (t) => {
  if (process.env.MQTT_URL) return t.skip('watches PUBACKs through aedes');
  const { broker, driver, sink } = await setup(t);
  await driver.start();
  assert.equal(driver.status().state, 'running');
  const acks = new HubAcks(broker);
  const device = await connectDevice(broker.url, { clientId: 'dev-a' });
  t.after(() => device.endAsync());
  for (let i = 0; i < 50; i++) await device.publishAsync('gymhub/dev-a/imu', compactBatch('dev-a', i * 10), { qos: 1 });
  await acks.until(50);
  assert.deepEqual(sink.seqsOf('dev-a'), Array.from({ length: 500 }, (_, i) => i));
  const status = driver.status();
  assert.equal(status.messages, 50);
  assert.equal(status.readings, 500);
  assert.equal(status.rejected, 0);
});

test('the hub reads ahead, and PUBACKs each message only after its ingest resolved, in arrival order', { timeout: 10_000 }, async (t) => {
  if (process.env.MQTT_URL) return t.skip('watches PUBACKs through aedes');
  const { broker, driver, sink } = await setup(t);
  sink.mode = 'hold';
  await driver.start();
  const acks = new HubAcks(broker);
  const storedSeqs = new Set<number>();
  const ackedBeforeStored: number[] = [];
  broker.aedes!.on('ack', (packet, client) => {
    if (client?.id !== HUB_ID || !packet || !('payload' in packet)) return;
    const seq = JSON.parse(String(packet.payload)).seq;
    if (!storedSeqs.has(seq)) ackedBeforeStored.push(seq);
  });
  const device = await connectDevice(broker.url, { clientId: 'dev-b' });
  t.after(() => device.endAsync());
  await Promise.all([0, 10, 20, 30, 40].map((seq) => device.publishAsync('gymhub/dev-b/imu', compactBatch('dev-b', seq), { qos: 1 })));

  await sink.until(() => sink.held.length === 5);
  assert.equal(sink.calls, 5, 'all five stores run concurrently, none waited for another PUBACK');
  const [first, second, third, fourth, fifth] = sink.held.splice(0);
  const release = (held: typeof first, seq: number) => { storedSeqs.add(seq); held.resolve(); };
  release(third, 20);
  release(fifth, 40);
  release(first, 0);
  await acks.until(1);
  assert.deepEqual(acks.seqs, [0], 'message 2 is still storing, so 3 and 5 wait behind it');
  release(second, 10);
  release(fourth, 30);
  await acks.until(5);
  assert.deepEqual(acks.seqs, [0, 10, 20, 30, 40]);
  assert.deepEqual(ackedBeforeStored, []);
  assert.equal(driver.status().inFlight, 0);
});

test('a device cannot write another device; status becomes device info; commands reach the cmd topic', { timeout: 10_000 }, async (t) => {
  const { broker, driver, sink, infos, deps } = await setup(t);
  const A = `A${RUN}`;
  await driver.start();
  const device = await connectDevice(broker.url, { clientId: 'dev-c' });
  t.after(() => device.endAsync());
  await device.subscribeAsync(`gymhub/${A}/cmd`, { qos: 1 });

  await device.publishAsync(`gymhub/${A}/imu`, compactBatch('B', 0), { qos: 1 });
  await device.publishAsync(`gymhub/${A}/status`, JSON.stringify({ online: true, fw: '2.1.0', hz: 100, battery: 80 }), { qos: 1, retain: true });
  await device.publishAsync(`gymhub/${A}/imu`, compactBatch(A, 0), { qos: 1 });
  await sink.until(() => sink.stored.length === 10);
  assert.deepEqual(new Set(sink.stored.map((r) => r.deviceId)), new Set([A]));
  assert.equal(driver.status().rejected, 10);
  assert.equal(deps.codec.deviceCounters(A)?.rejectedByReason.device_mismatch, 10);
  // An external broker may also hand over retained status messages of other devices.
  assert.deepEqual(infos.filter((i) => i.deviceId === A), [{ deviceId: A, info: { online: true, fw: '2.1.0', hz: 100, battery: 80 } }]);

  const received = nextMessage(device);
  assert.equal(await driver.sendCommand(A, { cmd: 'rate', hz: 50 }), true);
  const [topic, payload] = await received;
  assert.equal(topic, `gymhub/${A}/cmd`);
  assert.deepEqual(JSON.parse(String(payload)), { cmd: 'rate', hz: 50 });
  assert.equal(await driver.sendCommand('not a device id', { cmd: 'start' }), false);
});

test('a refused store gets no PUBACK; the hub reconnects with backoff and stores the redelivery', { timeout: 10_000 }, async (t) => {
  if (process.env.MQTT_URL) return t.skip('watches PUBACKs through aedes');
  const clock = new FakeClock();
  const { broker, driver, sink } = await setup(t, clock);
  await driver.start();
  const acks = new HubAcks(broker);
  const device = await connectDevice(broker.url, { clientId: 'dev-d' });
  t.after(() => device.endAsync());
  sink.mode = 'fail';
  const dropped = untilStatus(driver, (s) => s.state === 'connecting');
  for (let i = 0; i < 5; i++) await device.publishAsync('gymhub/dev-d/imu', compactBatch('dev-d', i * 10), { qos: 1 });
  const status = await dropped;
  assert.match(String(status.detail), /store refused readings: store full/);
  assert.deepEqual(acks.seqs, []);
  assert.equal(sink.stored.length, 0);

  sink.mode = 'group';
  const back = untilStatus(driver, (s) => s.state === 'running');
  clock.advance(50);
  await back;
  await acks.until(5);
  assert.deepEqual(sink.seqsOf('dev-d'), Array.from({ length: 50 }, (_, i) => i), 'every refused reading is stored before its PUBACK');
  assert.equal(driver.status().reconnects, 1);
});

test('persistent session: what a device published while the hub was away arrives when it is back', { timeout: 10_000 }, async (t) => {
  const { broker, driver, sink, deps } = await setup(t);
  await driver.start();
  await driver.stop();
  const device = await connectDevice(broker.url, { clientId: `dev-e${RUN}` });
  t.after(() => device.endAsync());
  for (let i = 0; i < 20; i++) await device.publishAsync(`gymhub/dev-e${RUN}/imu`, compactBatch(`dev-e${RUN}`, i * 10), { qos: 1 });
  assert.equal(sink.stored.length, 0);

  const again = new MqttDriver(deps, { url: broker.url, clientId: HUB_ID, protocolVersion: PROTOCOL });
  t.after(() => again.stop());
  await again.start();
  assert.equal(again.status().sessionPresent, true);
  await sink.until(() => sink.stored.length === 200);
  assert.deepEqual(sink.seqsOf(`dev-e${RUN}`), Array.from({ length: 200 }, (_, i) => i));
});

test('messages out of seq order, as a redelivery interleaved with new ones, are stored; a repeat is a duplicate', { timeout: 10_000 }, async (t) => {
  if (process.env.MQTT_URL) return t.skip('watches PUBACKs through aedes');
  const { broker, driver, sink } = await setup(t);
  await driver.start();
  const acks = new HubAcks(broker);
  const device = await connectDevice(broker.url, { clientId: 'dev-f' });
  t.after(() => device.endAsync());
  const t0 = Date.now() - 1_000;
  for (const seq of [0, 20, 10, 10]) await device.publishAsync('gymhub/dev-f/imu', compactBatch('dev-f', seq, 10, t0 + seq * 10), { qos: 1 });
  await acks.until(4);
  const range = (from: number) => Array.from({ length: 10 }, (_, i) => from + i);
  assert.deepEqual(sink.seqsOf('dev-f'), [...range(0), ...range(20), ...range(10)]);
  const status = driver.status();
  assert.equal(status.duplicates, 10, 'the second seq-10 message');
  assert.equal(status.gaps, 0, 'the gap of 10..19 was filled');
});
