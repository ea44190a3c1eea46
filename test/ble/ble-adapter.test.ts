import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POWER_ON_WAIT_MS } from '../../drivers/ble/ble-driver.js';
import { pino } from 'pino';
import type { BlePeripheral } from '../../drivers/ble/ble-binding.js';
import { GATT_SERVICE_UUID, IMU_CHARACTERISTIC_UUID, parseDeviceInfo } from '../../drivers/ble/gatt-profile.js';
import { wrapNoble } from '../../drivers/ble/noble-binding.js';
import { normalizePairingKey } from '../../drivers/ble/pairing.js';
import { FakeNoble, makeSensor } from './fake-noble.js';
import { harness, nextEvent, settle } from './harness.js';

describe('BLE adapter states', () => {
  it('reports an unsupported adapter as unavailable, then runs once it powers on', async () => {
    const h = harness({ paired: () => ['aa:bb:cc:00:00:01'] }, new FakeNoble('unsupported'));
    await h.driver.start();
    assert.equal(h.driver.status().state, 'unavailable');
    assert.match(String(h.driver.status().detail), /no usable Bluetooth LE adapter/);
    assert.equal(h.noble.scanning, false);

    const running = nextEvent(h.driver, 'state', (s) => s.state === 'running');
    h.noble.setState('poweredOn');
    await running;
    assert.equal(h.driver.status().scanning, true);
    const connected = nextEvent(h.driver, 'connected');
    h.noble.advertise(makeSensor(h.noble, { address: 'aa:bb:cc:00:00:01', info: { deviceId: 'ESP32_001' } }));
    await connected;
    await h.close();
  });

  it('gives up waiting for an adapter stuck in unknown after POWER_ON_WAIT_MS of the injected clock', async () => {
    const h = harness({}, new FakeNoble('unknown'));
    let resolved = false;
    const starting = h.driver.start().then(() => (resolved = true));
    await settle();
    assert.equal(resolved, false);
    assert.equal(h.driver.status().state, 'starting');
    h.clock.advance(POWER_ON_WAIT_MS);
    await starting;
    assert.equal(h.driver.status().state, 'unavailable');
    assert.match(String(h.driver.status().detail), /not ready within 3000 ms/);
    await h.close();
    assert.equal(h.noble.stopped, true);
  });

  it('retries a failed scan start with backoff and reports the error meanwhile', async () => {
    const noble = new FakeNoble();
    noble.failScans = 2;
    const h = harness({ random: () => 0 }, noble);
    await h.driver.start();
    await settle();
    assert.equal(h.driver.status().state, 'error');
    assert.match(String(h.driver.status().detail), /scanning failed: Command Disallowed/);
    h.clock.advance(1_000);
    await settle();
    assert.equal(h.driver.status().state, 'error');
    h.clock.advance(1_000);
    await settle();
    assert.equal(h.driver.status().state, 'running');
    assert.equal(noble.scanStarts, 1);
    await h.close();
  });

  it('keeps working when a listener or the composition root callback throws', async () => {
    const h = harness({
      paired: () => ['aa:bb:cc:00:00:01'],
      onDeviceInfo: () => {
        throw new Error('registry broke');
      },
    });
    h.driver.on('connected', () => {
      throw new Error('listener broke');
    });
    const connected = nextEvent(h.driver, 'connected');
    await h.driver.start();
    h.noble.advertise(makeSensor(h.noble, { address: 'aa:bb:cc:00:00:01', info: { deviceId: 'ESP32_001' } }));
    assert.equal((await connected).deviceId, 'ESP32_001');
    await h.close();
  });
});

describe('BLE profile helpers', () => {
  it('parses the info characteristic leniently and never throws', () => {
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);
    assert.deepEqual(parseDeviceInfo(text('{"deviceId":"ESP32_001","fw":"1.0","hz":100}\0\0\0')), { deviceId: 'ESP32_001', fw: '1.0', hz: 100 });
    assert.deepEqual(parseDeviceInfo(text('{"deviceId":"has space","fw":7,"hz":-1}')), {});
    assert.deepEqual(parseDeviceInfo(text('[1,2]')), {});
    assert.deepEqual(parseDeviceInfo(text('{')), {});
    assert.deepEqual(parseDeviceInfo(new Uint8Array(0)), {});
    assert.deepEqual(parseDeviceInfo(new Uint8Array(600).fill(0x7b)), {});
  });

  it('normalises pairing keys: any address spelling to bare hex, deviceIds as given', () => {
    assert.equal(normalizePairingKey('AA:BB:CC:00:00:01'), 'aabbcc000001');
    assert.equal(normalizePairingKey('aa-bb-cc-00-00-01'), 'aabbcc000001');
    assert.equal(normalizePairingKey(' aabbcc000001 '), 'aabbcc000001');
    assert.equal(normalizePairingKey('ESP32_001'), 'ESP32_001');
    assert.equal(normalizePairingKey('bad key'), undefined);
    assert.equal(normalizePairingKey(''), undefined);
  });

  it('wraps noble: UUIDs normalised, one wrapper per peripheral, read answers are not notifications', async () => {
    const noble = new FakeNoble();
    const binding = wrapNoble(noble, pino({ level: 'silent' }));
    const discovered: BlePeripheral[] = [];
    binding.onDiscover((p) => discovered.push(p));
    await settle();
    assert.equal(binding.state, 'poweredOn');
    await binding.startScanning([GATT_SERVICE_UUID.toUpperCase()]);
    assert.deepEqual(noble.scanUuids, ['9a3b00017c2e4f6a9d215b8e6f0a1c00']);
    const sensor = makeSensor(noble, { address: 'aa:bb:cc:00:00:01' });
    noble.advertise(sensor);
    noble.advertise(sensor);
    assert.equal(discovered.length, 2);
    assert.equal(discovered[0], discovered[1], 'the same peripheral keeps the same wrapper');
    const peripheral = discovered[0];
    assert.equal(peripheral.id, 'aabbcc000001');
    await peripheral.connect();
    const [imu] = await peripheral.discoverCharacteristics(GATT_SERVICE_UUID, [IMU_CHARACTERISTIC_UUID]);
    assert.equal(imu.uuid, '9a3b00027c2e4f6a9d215b8e6f0a1c00');
    const lengths: number[] = [];
    const off = imu.onNotification((data) => lengths.push(data.length));
    sensor.imu.emit('data', Buffer.alloc(3), false);
    sensor.imu.emit('data', Buffer.alloc(5), true);
    off();
    sensor.imu.emit('data', Buffer.alloc(7), true);
    assert.deepEqual(lengths, [5]);
    binding.close();
    assert.equal(noble.stopped, true);
  });
});
