import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { makeSensor, type FakePeripheral } from './fake-noble.js';
import { frame, harness, nextEvent, settle, type Harness } from './harness.js';

const ADDRESS_A = 'aa:bb:cc:00:00:01';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function connectedSensor(
  options: Parameters<typeof harness>[0] = {},
  sensorOptions: { noCommand?: boolean } = {},
): Promise<{ h: Harness; sensor: FakePeripheral }> {
  h = harness({ paired: () => [ADDRESS_A], ...options });
  await h.driver.start();
  const sensor = makeSensor(h.noble, { address: ADDRESS_A, info: { deviceId: 'ESP32_001' }, ...sensorOptions });
  const connected = nextEvent(h.driver, 'connected');
  h.noble.advertise(sensor);
  await connected;
  return { h, sensor };
}

const deviceRow = (harnessed: Harness): Record<string, number> =>
  (harnessed.driver.status().devices as Array<Record<string, number>>)[0];

/** xorshift32: a seeded generator, so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** True when the bytes could be a well-formed frame (version 1, length matching count and flags). */
function wellFormed(bytes: Uint8Array): boolean {
  if (bytes.length < 11 || bytes[0] !== 1) return false;
  return bytes.length === 11 + bytes[10] * ((bytes[1] & 1) !== 0 ? 18 : 12);
}

/** Random bytes, truncations, extensions, wrong versions, wrong counts: never a well-formed frame. */
function garbage(random: () => number, valid: Uint8Array): Uint8Array {
  const int = (n: number): number => Math.floor(random() * n);
  for (;;) {
    let bytes: Uint8Array;
    switch (int(6)) {
      case 0:
        bytes = Uint8Array.from({ length: int(64) }, () => int(256));
        break;
      case 1:
        bytes = valid.slice(0, int(valid.length));
        break;
      case 2:
        bytes = Uint8Array.from([...valid, ...Array.from({ length: 1 + int(20) }, () => int(256))]);
        break;
      case 3:
        bytes = valid.slice();
        bytes[0] = 2 + int(254);
        break;
      case 4:
        bytes = valid.slice();
        bytes[10] = (bytes[10] + 1 + int(254)) & 0xff;
        break;
      default:
        bytes = valid.slice();
        for (let i = 0; i < 1 + int(4); i++) bytes[int(bytes.length)] = int(256);
        bytes[1] ^= 1;
        break;
    }
    if (!wellFormed(bytes)) return bytes;
  }
}

describe('BLE notifications and commands', () => {
  it('writes commands as JSON to the command characteristic', async () => {
    const { h, sensor } = await connectedSensor();
    const command = sensor.characteristic('9a3b0004-7c2e-4f6a-9d21-5b8e6f0a1c00');
    assert.equal(await h.driver.sendCommand('ESP32_001', { cmd: 'rate', hz: 100 }), true);
    assert.equal(await h.driver.sendCommand('ESP32_001', { cmd: 'identify' }), true);
    assert.deepEqual(command.writes.map((w) => JSON.parse(w.toString('utf8'))), [{ cmd: 'rate', hz: 100 }, { cmd: 'identify' }]);
    assert.equal(await h.driver.sendCommand('ESP32_999', { cmd: 'start' }), false, 'unknown device');

    const disconnected = nextEvent(h.driver, 'disconnected');
    sensor.drop();
    await disconnected;
    assert.equal(await h.driver.sendCommand('ESP32_001', { cmd: 'stop' }), false, 'not connected');
    assert.equal(command.writes.length, 2);
  });

  it('answers false for a device without a command characteristic', async () => {
    const { h } = await connectedSensor({}, { noCommand: true });
    assert.equal(await h.driver.sendCommand('ESP32_001', { cmd: 'start' }), false);
  });

  it('counts >= 10,000 garbage notifications without throwing and keeps every valid frame between them', async () => {
    const { h, sensor } = await connectedSensor();
    const random = prng(0xb1e);
    const GARBAGE = 12_000;
    const VALID_EVERY = 100;
    let seq = 0;
    let garbageSent = 0;
    const expectedSeqs: number[] = [];
    for (let i = 0; i < GARBAGE + GARBAGE / VALID_EVERY; i++) {
      h.clock.advance(1);
      if (i % (VALID_EVERY + 1) === VALID_EVERY) {
        const count = 1 + (seq % 8);
        assert.ok(sensor.imu.notify(frame(seq, count)));
        for (let k = 0; k < count; k++) expectedSeqs.push(seq + k);
        seq += count;
      } else {
        assert.ok(sensor.imu.notify(garbage(random, frame(seq, 1 + (i % 8)))));
        garbageSent += 1;
      }
    }
    await settle();
    assert.ok(garbageSent >= 10_000);
    assert.deepEqual(h.sink.readings.map((r) => r.seq), expectedSeqs, 'valid frames kept, in order, nothing invented');
    assert.ok(h.sink.readings.every((r) => r.deviceId === 'ESP32_001'));
    const row = deviceRow(h);
    assert.equal(row.rejected, garbageSent, 'every garbage notification counted once');
    assert.equal(row.frames, garbageSent + GARBAGE / VALID_EVERY);
    assert.equal(row.readings, expectedSeqs.length);
    assert.equal(h.driver.status().state, 'running');
    assert.equal(row.connected, true);
  });

  it('drops, counts and survives when the store falls behind, then carries on in order', async () => {
    const { h, sensor } = await connectedSensor({ maxPendingReadings: 50 });
    const { sink, clock } = h;
    sink.hold();
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      sensor.imu.notify(frame(i * 10, 10));
    }
    await settle();
    // One batch of 10 is with the store, 50 wait, the other 40 were dropped.
    assert.equal(sink.calls, 1);
    assert.equal(deviceRow(h).dropped, 40);
    assert.deepEqual(h.driver.status().readings, { stored: 0, dropped: 40, failed: 0, backlog: 50 });

    sink.release();
    await settle();
    await settle();
    assert.deepEqual(sink.readings.map((r) => r.seq), Array.from({ length: 60 }, (_, i) => i));
    assert.equal(sink.calls, 2, 'the backlog went as one batch');

    sink.failNext = 1;
    clock.advance(100);
    sensor.imu.notify(frame(100, 5));
    await settle();
    clock.advance(100);
    sensor.imu.notify(frame(105, 5));
    await settle();
    assert.deepEqual(h.driver.status().readings, { stored: 65, dropped: 40, failed: 5, backlog: 0 });
    assert.deepEqual(sink.readings.slice(60).map((r) => r.seq), [105, 106, 107, 108, 109]);
  });

  it('flushes readings still on their way to the store when stopped', async () => {
    const { h, sensor } = await connectedSensor();
    h.sink.hold();
    sensor.imu.notify(frame(0, 10));
    h.clock.advance(100);
    sensor.imu.notify(frame(10, 10));
    const stopped = h.driver.stop();
    await settle();
    h.sink.release();
    await stopped;
    assert.equal(h.sink.readings.length, 20);
  });
});
