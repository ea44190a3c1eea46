import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { PairedBleDevice, UnpairedBleDevice } from '../../drivers/ble/ble-events.js';
import { FakePeripheral, makeSensor } from './fake-noble.js';
import { frame, harness, nextEvent, sampleValues, settle, type Harness } from './harness.js';

const ADDRESS_A = 'aa:bb:cc:00:00:01';
const ADDRESS_B = 'aa:bb:cc:00:00:02';
const INFO_A = { deviceId: 'ESP32_001', fw: '1.4.2', hz: 100 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function started(options: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  h = harness(options);
  await h.driver.start();
  return h;
}

describe('BLE discovery and pairing', () => {
  it('scans for the gymhub service and lists unpaired devices without connecting to them', async () => {
    const { driver, noble } = await started();
    assert.equal(driver.status().state, 'running');
    assert.deepEqual(noble.scanUuids, ['9a3b00017c2e4f6a9d215b8e6f0a1c00'], 'noble gets UUIDs lower case without dashes');

    const sensor = makeSensor(noble, { address: ADDRESS_A, info: INFO_A, localName: 'gym-rack-3' });
    const discovered = nextEvent(driver, 'discovered');
    assert.ok(noble.advertise(sensor));
    const event = await discovered;
    assert.equal(event.address, ADDRESS_A);
    assert.deepEqual(
      driver.discovered().map((d) => [d.id, d.address, d.localName, d.rssi]),
      [['aabbcc000001', ADDRESS_A, 'gym-rack-3', -60]],
    );
    assert.equal((driver.status().discovered as unknown[]).length, 1);
    assert.deepEqual(driver.status().devices, []);

    // A stack that does not filter by service: a peripheral without the service is ignored outright.
    const stranger = new FakePeripheral(noble, '112233445566', '11:22:33:44:55:66', { serviceUuids: ['180d'] });
    noble.emit('discover', stranger);
    h!.clock.advance(120_000);
    await settle();
    assert.equal(sensor.connectCalls, 0, 'an unpaired device is never connected');
    assert.equal(stranger.connectCalls, 0);
    assert.equal(driver.discovered().length, 1);
  });

  it('pairs a discovered device by address, connects, reads info, and streams notifications into the sink', async () => {
    const paired: PairedBleDevice[] = [];
    const { driver, noble, sink, infos } = await started({ onPaired: (d) => paired.push(d) });
    const sensor = makeSensor(noble, { address: ADDRESS_A, info: INFO_A });
    const other = makeSensor(noble, { address: ADDRESS_B, info: { deviceId: 'ESP32_002' } });
    noble.advertise(sensor);
    noble.advertise(other);

    const connected = nextEvent(driver, 'connected');
    const result = driver.pair('AA-BB-CC-00-00-01');
    assert.equal(result.key, 'aabbcc000001');
    assert.equal(result.address, ADDRESS_A);
    assert.deepEqual(paired.map((d) => [d.key, d.auto]), [['aabbcc000001', false]]);
    assert.deepEqual(await connected, { deviceId: 'ESP32_001', id: 'aabbcc000001', address: ADDRESS_A });

    assert.deepEqual(infos.at(-1), { deviceId: 'ESP32_001', transport: 'ble', info: { fw: '1.4.2', hz: 100, address: ADDRESS_A, online: true } });
    assert.ok(sensor.imu.subscribed);
    const device = (driver.status().devices as Array<Record<string, unknown>>)[0];
    assert.equal(device.deviceId, 'ESP32_001');
    assert.equal(device.connected, true);
    assert.equal(device.paired, true);
    assert.equal(device.reconnects, 0);
    assert.deepEqual(driver.discovered().map((d) => d.address), [ADDRESS_B], 'the paired device left the discovered list');

    const { clock } = h!;
    assert.ok(sensor.imu.notify(frame(100, 5)));
    clock.advance(50);
    assert.ok(sensor.imu.notify(frame(105, 5)));
    await settle();
    assert.equal(sink.readings.length, 10);
    assert.deepEqual([...sink.transports], ['ble']);
    assert.deepEqual(sink.readings.map((r) => r.seq), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    for (const [i, reading] of sink.readings.entries()) {
      const want = sampleValues(100 + i);
      assert.equal(reading.deviceId, 'ESP32_001');
      reading.accel.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 0.005, `accel ${k} of sample ${i}: ${v} vs ${want[k]}`));
      reading.gyro.forEach((v, k) => assert.ok(Math.abs(v - want[3 + k]) < 0.001, `gyro ${k} of sample ${i}: ${v} vs ${want[3 + k]}`));
    }
    const times = sink.readings.map((r) => r.ts);
    assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]), 'timestamps increase');
    assert.equal(other.connectCalls, 0, 'the unpaired neighbour stays unconnected');
  });

  it('connects devices paired in a previous run, by any spelling of their address', async () => {
    const { driver, noble } = await started({ paired: () => ['AA:BB:CC:00:00:01'] });
    const sensor = makeSensor(noble, { address: ADDRESS_A, info: INFO_A });
    const connected = nextEvent(driver, 'connected');
    noble.advertise(sensor);
    assert.equal((await connected).deviceId, 'ESP32_001');
    assert.deepEqual(driver.status().paired, ['aabbcc000001']);
  });

  it('pairs by deviceId before discovery when the device advertises it as its local name', async () => {
    const { driver, noble } = await started();
    assert.equal(driver.pair('ESP32_007').key, 'ESP32_007');
    const sensor = makeSensor(noble, { address: ADDRESS_A, info: { deviceId: 'ESP32_007' }, localName: 'ESP32_007' });
    const stranger = makeSensor(noble, { address: ADDRESS_B, info: { deviceId: 'ESP32_008' }, localName: 'ESP32_008' });
    const connected = nextEvent(driver, 'connected');
    noble.advertise(stranger);
    noble.advertise(sensor);
    assert.equal((await connected).deviceId, 'ESP32_007');
    assert.equal(stranger.connectCalls, 0);
    assert.throws(() => driver.pair('not a device id!'), RangeError);
  });

  it('falls back to ble-<address> when the info characteristic is garbage or unreadable', async () => {
    const { driver, noble } = await started({ autoPair: true });
    const garbage = makeSensor(noble, { address: ADDRESS_A, info: '{"deviceId": "bad id with spaces"' });
    const unreadable = makeSensor(noble, { address: ADDRESS_B, info: INFO_A });
    unreadable.characteristic('9a3b0003-7c2e-4f6a-9d21-5b8e6f0a1c00').readError = new Error('GATT read failed');
    const first = nextEvent(driver, 'connected', (e) => e.address === ADDRESS_A);
    const second = nextEvent(driver, 'connected', (e) => e.address === ADDRESS_B);
    noble.advertise(garbage);
    noble.advertise(unreadable);
    assert.equal((await first).deviceId, 'ble-aa:bb:cc:00:00:01');
    assert.equal((await second).deviceId, 'ble-aa:bb:cc:00:00:02');
  });

  it('refuses a second peripheral claiming the deviceId of a connected one', async () => {
    const { driver, noble } = await started({ autoPair: true });
    const original = makeSensor(noble, { address: ADDRESS_A, info: INFO_A });
    const impostor = makeSensor(noble, { address: ADDRESS_B, info: INFO_A });
    const connected = nextEvent(driver, 'connected');
    noble.advertise(original);
    await connected;
    const refused = nextEvent(driver, 'connectFailed');
    noble.advertise(impostor);
    assert.match((await refused).error, /deviceId ESP32_001 is already connected from aa:bb:cc:00:00:01/);
    assert.equal(impostor.state, 'disconnected');
    assert.equal(impostor.imu.notify(frame(1, 1)), false, 'its notifications are not subscribed');
    const rows = driver.status().devices as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((d) => [d.address, d.connected]), [[ADDRESS_A, true], [ADDRESS_B, false]]);
  });

  it('autoPair pairs any device advertising the service and reports it once it has named itself', async () => {
    const paired: PairedBleDevice[] = [];
    const { driver, noble, infos } = await started({ autoPair: true, onPaired: (d) => paired.push(d) });
    const sensor = makeSensor(noble, { address: ADDRESS_A, info: INFO_A });
    const pairedEvent = nextEvent(driver, 'paired');
    noble.advertise(sensor);
    assert.deepEqual(await pairedEvent, { key: 'aabbcc000001', id: 'aabbcc000001', address: ADDRESS_A, deviceId: 'ESP32_001', auto: true });
    assert.deepEqual(paired, [await pairedEvent]);
    assert.equal(infos.at(-1)?.deviceId, 'ESP32_001');
    assert.deepEqual(driver.discovered(), []);
    assert.equal(driver.status().autoPair, true);
  });

  it('unpair by deviceId disconnects, forgets every key of the device, and lists it as discovered again', async () => {
    const unpaired: UnpairedBleDevice[] = [];
    const { driver, noble, infos, clock } = await started({ paired: () => [ADDRESS_A], onUnpaired: (d) => unpaired.push(d) });
    const sensor = makeSensor(noble, { address: ADDRESS_A, info: INFO_A });
    const connected = nextEvent(driver, 'connected');
    noble.advertise(sensor);
    await connected;

    const disconnected = nextEvent(driver, 'disconnected');
    assert.equal(driver.unpair('ESP32_001'), true);
    assert.equal((await disconnected).reason, 'unpaired');
    assert.deepEqual(unpaired, [{ keys: ['aabbcc000001'], id: 'aabbcc000001', address: ADDRESS_A, deviceId: 'ESP32_001' }]);
    assert.deepEqual(infos.at(-1)?.info, { address: ADDRESS_A, online: false });
    assert.equal(sensor.state, 'disconnected');
    assert.deepEqual(driver.status().paired, []);
    assert.deepEqual(driver.discovered().map((d) => d.address), [ADDRESS_A]);

    clock.advance(600_000);
    await settle();
    assert.equal(sensor.connectCalls, 1, 'not reconnected after unpairing');
    assert.equal(driver.unpair('ESP32_001'), false);
  });
});
