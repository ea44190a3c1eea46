import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { GATT_CONNECT_TIMEOUT_S, RECONNECT_BACKOFF_MAX_MS } from '../../drivers/ble/ble-driver.js';
import { makeSensor, type FakePeripheral } from './fake-noble.js';
import { frame, harness, nextEvent, settle, type Harness } from './harness.js';

const ADDRESS_A = 'aa:bb:cc:00:00:01';
const ADDRESS_B = 'aa:bb:cc:00:00:02';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type DeviceRow = Record<string, unknown>;
const deviceRow = (harnessed: Harness, address: string): DeviceRow =>
  (harnessed.driver.status().devices as DeviceRow[]).find((d) => d.address === address)!;

async function connectedSensor(options: Parameters<typeof harness>[0] = {}): Promise<{ h: Harness; sensor: FakePeripheral }> {
  h = harness({ paired: () => [ADDRESS_A], ...options });
  await h.driver.start();
  const sensor = makeSensor(h.noble, { address: ADDRESS_A, info: { deviceId: 'ESP32_001' } });
  const connected = nextEvent(h.driver, 'connected');
  h.noble.advertise(sensor);
  await connected;
  return { h, sensor };
}

describe('BLE reconnect', () => {
  it('reconnects after a disconnect once the backoff has passed, and notifications resume', async () => {
    const { h, sensor } = await connectedSensor();
    const { clock, driver, sink, infos } = h;
    sensor.imu.notify(frame(1, 4));

    const disconnected = nextEvent(driver, 'disconnected');
    sensor.drop(0x08);
    assert.deepEqual(await disconnected, { deviceId: 'ESP32_001', id: 'aabbcc000001', address: ADDRESS_A, reason: '8' });
    assert.deepEqual(infos.at(-1)?.info, { address: ADDRESS_A, online: false });
    const row = deviceRow(h, ADDRESS_A);
    assert.equal(row.connected, false);
    assert.equal(row.phase, 'waiting');
    // First retry after a drop: attempt 0 of the backoff, exactly the 1 s base.
    assert.equal(row.nextRetryAt, clock.now() + 1_000);
    assert.equal(sensor.imu.notify(frame(5, 4)), false, 'nothing is subscribed while disconnected');

    clock.advance(999);
    await settle();
    assert.equal(sensor.connectCalls, 1, 'no reconnect before the backoff elapsed');
    const reconnected = nextEvent(driver, 'connected');
    clock.advance(1);
    await reconnected;
    assert.equal(sensor.connectCalls, 2);
    assert.equal(deviceRow(h, ADDRESS_A).reconnects, 1);
    assert.equal(infos.at(-1)?.info.online, true);

    clock.advance(100);
    assert.ok(sensor.imu.notify(frame(9, 4)), 'resubscribed after reconnecting');
    await settle();
    assert.deepEqual(sink.readings.map((r) => r.seq), [1, 2, 3, 4, 9, 10, 11, 12]);
  });

  it('backs off exponentially with jitter between failed attempts, capped at RECONNECT_BACKOFF_MAX_MS', async () => {
    // random() = 1 takes the top of each jitter range, so the ceiling itself is visible.
    const { h, sensor } = await connectedSensor({ random: () => 1 });
    const { clock, driver } = h;
    sensor.connectBehaviour = 'fail';
    const delays: number[] = [];
    driver.on('connectFailed', (failure) => delays.push(failure.retryInMs!));
    sensor.drop();
    clock.advance(1_000);
    await settle();
    for (let i = 0; i < 8; i++) {
      clock.advance(delays.at(-1)!);
      await settle();
    }
    assert.deepEqual(delays, [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    assert.equal(RECONNECT_BACKOFF_MAX_MS, 60_000);
    assert.equal(sensor.connectCalls, 1 + delays.length);
    assert.equal(deviceRow(h, ADDRESS_A).failures, 9);
    assert.match(String(deviceRow(h, ADDRESS_A).lastError), /connection failed/);

    sensor.connectBehaviour = 'ok';
    const back = nextEvent(driver, 'connected');
    clock.advance(60_000);
    await back;
    assert.equal(deviceRow(h, ADDRESS_A).failures, 0, 'a good connection resets the backoff');
  });

  it('spreads retries with jitter: the delay is drawn within [base, ceiling]', async () => {
    const { h, sensor } = await connectedSensor({ random: () => 0.25 });
    sensor.connectBehaviour = 'fail';
    const delays: number[] = [];
    h.driver.on('connectFailed', (failure) => delays.push(failure.retryInMs!));
    sensor.drop();
    h.clock.advance(1_000);
    await settle();
    h.clock.advance(delays[0]);
    await settle();
    assert.deepEqual(delays, [1_250, 1_750]);
  });

  it('connects one device at a time, and a connect that hangs times out and lets the next one through', async () => {
    h = harness({ paired: () => [ADDRESS_A, ADDRESS_B] });
    const { clock, driver, noble } = h;
    await driver.start();
    const slow = makeSensor(noble, { address: ADDRESS_A, info: { deviceId: 'ESP32_SLOW' } });
    const quick = makeSensor(noble, { address: ADDRESS_B, info: { deviceId: 'ESP32_QUICK' } });
    slow.connectBehaviour = 'hang';
    noble.advertise(slow);
    noble.advertise(quick);
    await settle();
    assert.equal(slow.connectCalls, 1);
    assert.equal(quick.connectCalls, 0, 'the second device waits for the first attempt');
    assert.deepEqual(driver.status().queue, { active: 'aabbcc000001', waiting: 1 });

    clock.advance(GATT_CONNECT_TIMEOUT_S * 1000 - 1);
    await settle();
    assert.equal(quick.connectCalls, 0);

    const failed = nextEvent(driver, 'connectFailed');
    const quickConnected = nextEvent(driver, 'connected', (e) => e.deviceId === 'ESP32_QUICK');
    clock.advance(1);
    const failure = await failed;
    assert.match(failure.error, /timed out after 15000 ms/);
    assert.equal(slow.cancelCalls, 1, 'the hanging connect is cancelled');
    await quickConnected;
    assert.equal(noble.maxConnecting, 1, 'never two connects at once');

    slow.connectBehaviour = 'ok';
    const slowConnected = nextEvent(driver, 'connected', (e) => e.deviceId === 'ESP32_SLOW');
    clock.advance(failure.retryInMs!);
    await slowConnected;
    assert.deepEqual(noble.connectLog, ['aabbcc000001', 'aabbcc000002', 'aabbcc000001']);
  });

  it('drops connections when the adapter powers off, and reconnects after it powers on and rediscovers', async () => {
    const { h, sensor } = await connectedSensor();
    const { driver, noble, clock } = h;
    const disconnected = nextEvent(driver, 'disconnected');
    const unavailable = nextEvent(driver, 'state', (s) => s.state === 'unavailable');
    noble.setState('poweredOff');
    await disconnected;
    assert.match(String((await unavailable).detail), /powered off/);
    clock.advance(600_000);
    await settle();
    assert.equal(sensor.connectCalls, 1, 'no retries while the adapter is off');

    const running = nextEvent(driver, 'state', (s) => s.state === 'running');
    noble.setState('poweredOn');
    await running;
    assert.equal(noble.scanning, true);
    const connected = nextEvent(driver, 'connected');
    noble.advertise(sensor);
    await connected;
    assert.equal(deviceRow(h, ADDRESS_A).reconnects, 1);
  });

  it('stop() during a connect the stack never answers ends the attempt and leaves no timer', async () => {
    h = harness({ paired: () => [ADDRESS_A] });
    const { driver, noble, clock } = h;
    await driver.start();
    const sensor = makeSensor(noble, { address: ADDRESS_A, info: { deviceId: 'ESP32_001' } });
    sensor.connectBehaviour = 'stuck';
    noble.advertise(sensor);
    await settle();
    assert.equal(sensor.connectCalls, 1);
    assert.ok(clock.timerCount > 0, 'the connect timeout is armed');
    await driver.stop();
    await settle();
    assert.equal(clock.timerCount, 0);
    assert.deepEqual(driver.status().queue, { active: null, waiting: 0 }, 'the abandoned attempt left the queue');
  });

  it('stop() disconnects, cancels pending retries and releases noble', async () => {
    const { h, sensor } = await connectedSensor();
    const { driver, noble, clock } = h;
    await driver.stop();
    assert.equal(driver.status().state, 'stopped');
    assert.equal(noble.stopped, true, 'noble.stop() lets the process exit');
    assert.equal(sensor.state, 'disconnected');
    assert.equal(clock.timerCount, 0, 'no timer left behind');
    assert.equal(sensor.imu.notify(frame(1, 1)), false);
  });
});
