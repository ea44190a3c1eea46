import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { DeviceInfo } from '../../drivers/driver.js';
import type { ListedPort } from '../../drivers/serial/port-discovery.js';
import { SerialDriver, type SerialDriverOptions } from '../../drivers/serial/serial-driver.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeLink, makeCodec, PortEvents, RecordingSink, silentLog } from './fixtures.js';

/**
 * The driver's meaning layer with in-memory ports (FakeLink) and a FakeClock: exact control over chunks,
 * pause/resume, unplugs, backoff and rescans. The pty tests run the same driver over real ports.
 */

function csv(millis: number, ax = 0.1): string {
  return `1,${millis},${ax},0.2,9.8,0.01,0.02,0.03`;
}

function setup(t: { after: (fn: () => unknown) => void }, options: Partial<SerialDriverOptions> = {}) {
  const clock = new FakeClock();
  const codec = makeCodec(clock);
  const sink = new RecordingSink();
  const events = new PortEvents();
  const links = new Map<string, FakeLink[]>();
  const infos: { deviceId: string; info: DeviceInfo }[] = [];
  let openable = (_path: string) => true;
  const driver = new SerialDriver({
    mode: ['/dev/ttyUSB0'], codec, sink, log: silentLog, clock,
    openPort: async (path) => {
      if (!openable(path)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      const link = new FakeLink();
      links.set(path, [...(links.get(path) ?? []), link]);
      return link;
    },
    onDeviceInfo: (deviceId, _transport, info) => infos.push({ deviceId, info }),
    onPortEvent: events.listener,
    reconnectBaseMs: 100, reconnectCapMs: 1000, random: () => 0,
    ...options,
  });
  t.after(async () => {
    await driver.stop();
    codec.close();
  });
  const link = (path = '/dev/ttyUSB0'): FakeLink => links.get(path)!.at(-1)!;
  return { clock, codec, sink, events, links, link, infos, driver, setOpenable: (f: (path: string) => boolean) => (openable = f) };
}

test('backpressure: one ingest in flight per port, the port pauses at the limit and resumes after', async (t) => {
  const { sink, events, link, driver } = setup(t, { maxPendingReadings: 100 });
  const opened = events.next('open');
  await driver.start();
  await opened;
  sink.hold = true;
  link().send(Array.from({ length: 150 }, (_, i) => `${csv(1000 + i * 10, 0.001 * i)}\n`).join(''));
  assert.equal(sink.heldCount, 1, 'only the first batch is with the store');
  assert.ok(link().paused, 'the port is paused while 149 readings wait');
  sink.release();
  await driver.drain();
  assert.ok(!link().paused);
  assert.equal(link().pauses, 1);
  assert.equal(link().resumes, 1);
  assert.deepEqual(sink.batches.map((b) => b.length), [1, 149], 'what waited went as one batch');
  assert.deepEqual(sink.readings.map((r) => r.accel[0]), Array.from({ length: 150 }, (_, i) => 0.001 * i));
  const [port] = driver.status().ports as { stored: number; pauses: number }[];
  assert.equal(port.stored, 150);
  assert.equal(port.pauses, 1);
});

test('a store that refuses readings: they are counted as lost, logged once a minute, and the port goes on', async (t) => {
  const logged: string[] = [];
  const log = pino({ level: 'error' }, new Writable({ write: (chunk, _enc, done) => (logged.push(String(chunk)), done()) }));
  const { clock, sink, events, link, driver } = setup(t, { log });
  sink.fail = (call) => call <= 3 || call === 5;
  const opened = events.next('open');
  await driver.start();
  await opened;
  for (let i = 0; i < 4; i++) {
    link().send(`${csv(1000 + i * 10, i + 1)}\n`);
    await driver.drain();
  }
  clock.advance(60_000);
  link().send(`${csv(2000, 5)}\n${csv(2010, 6)}\n`); // the first line is call 5 (fails), the second call 6
  await driver.drain();
  const [port] = driver.status().ports as { lost: number; stored: number; state: string }[];
  assert.equal(port.lost, 4);
  assert.equal(port.stored, 2);
  assert.deepEqual(sink.readings.map((r) => r.accel[0]), [4, 6]);
  assert.equal(port.state, 'open');
  assert.equal(logged.filter((l) => l.includes('serial readings not stored')).length, 2, 'one per minute, not one per failure');
  assert.equal(driver.status().lost, 4);
});

test('a store that throws synchronously does not break the port', async (t) => {
  const { sink, events, link, driver } = setup(t);
  sink.ingest = () => {
    throw new Error('store closed');
  };
  const opened = events.next('open');
  await driver.start();
  await opened;
  link().send(`${csv(1000)}\n`);
  await driver.drain();
  assert.equal((driver.status().ports as { lost: number }[])[0].lost, 1);
});

test('an unplugged port goes offline, is retried on the backoff schedule, and comes back', async (t) => {
  const { clock, sink, events, links, link, infos, driver, setOpenable } = setup(t);
  let opened = events.next('open');
  await driver.start();
  await opened;
  link().send(`${csv(1000)}\n`);
  await driver.drain();
  assert.deepEqual(infos.at(-1), { deviceId: 'serial-ttyUSB0', info: { online: true, address: '/dev/ttyUSB0' } });

  setOpenable(() => false);
  const closed = events.next('closed');
  link().send('1,1010,0.1,0.2'); // cut off by the unplug: a partial line
  link().unplug();
  assert.equal((await closed).reason, 'port hung up');
  assert.deepEqual(infos.at(-1), { deviceId: 'serial-ttyUSB0', info: { online: false, address: '/dev/ttyUSB0' } });
  assert.equal((driver.status().ports as { garbled: number }[])[0].garbled, 1, 'the partial line counts as garbled');

  // random() = 0: every delay is the base, 100 ms. The board is still gone for the first two tries.
  clock.advance(100);
  await new Promise((resolve) => setImmediate(resolve));
  clock.advance(100);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(links.get('/dev/ttyUSB0')!.length, 1, 'no port was opened while unplugged');
  assert.equal(driver.status().state, 'connecting', 'an explicit port that is down');
  assert.match(driver.status().detail as string, /0 of 1/);

  setOpenable(() => true);
  opened = events.next('open');
  clock.advance(100);
  await opened;
  link().send(`${csv(1020, 0.7)}\n`);
  await driver.drain();
  assert.deepEqual(sink.readings.map((r) => r.accel[0]), [0.1, 0.7]);
  assert.equal((driver.status().ports as { reconnects: number }[])[0].reconnects, 1);
});

test('a codec fault loses that line only; the port keeps its hello name across a reconnect', async (t) => {
  const { clock, codec, sink, events, link, driver } = setup(t);
  const decode = codec.decodeLine.bind(codec);
  codec.decodeLine = (line, ctx) => {
    if (line.includes('boom')) throw new Error('codec bug');
    return decode(line, ctx);
  };
  let opened = events.next('open');
  await driver.start();
  await opened;
  link().send(`{"hello":{"deviceId":"rack-3","hz":50}}\n1,boom\n${csv(1000, 1)}\n`);
  await driver.drain();
  assert.deepEqual(sink.readings.map((r) => [r.deviceId, r.accel[0]]), [['rack-3', 1]]);
  assert.equal((driver.status().ports as { rejected: number }[])[0].rejected, 1);

  opened = events.next('open');
  link().unplug();
  clock.advance(100);
  await opened;
  link().send(`${csv(1010, 2)}\n`);
  await driver.drain();
  assert.deepEqual(sink.readings.map((r) => [r.deviceId, r.accel[0]]), [['rack-3', 1], ['rack-3', 2]]);
});

test('sendCommand writes one JSON line to the device\'s port, and only when it is open', async (t) => {
  const { events, link, driver } = setup(t);
  const opened = events.next('open');
  await driver.start();
  await opened;
  assert.equal(await driver.sendCommand('serial-ttyUSB0', { cmd: 'start' }), true);
  assert.deepEqual(link().written, ['{"cmd":"start"}\n']);
  link().unplug();
  assert.equal(await driver.sendCommand('serial-ttyUSB0', { cmd: 'stop' }), false);
});

test('stop() hands every decoded reading to the store before it resolves', async (t) => {
  const { sink, events, link, driver } = setup(t);
  const opened = events.next('open');
  await driver.start();
  await opened;
  sink.hold = true;
  link().send(`${csv(1000, 1)}\n${csv(1010, 2)}\n${csv(1020, 3)}\n`);
  let stopped = false;
  const stopping = driver.stop().then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped, false, 'waits for the store');
  sink.release();
  await stopping;
  assert.deepEqual(sink.readings.map((r) => r.accel[0]), [1, 2, 3]);
  assert.equal(driver.status().state, 'stopped');
});

const CP2102: ListedPort = { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', serialNumber: '0001A7F3' };
const CH340: ListedPort = { path: '/dev/ttyUSB1', vendorId: '1a86', productId: '7523' };
const UNO: ListedPort = { path: '/dev/ttyACM0', vendorId: '2341', productId: '0043', serialNumber: 'uno' };
const BUILTIN: ListedPort = { path: '/dev/ttyS0' };

test('auto mode opens ESP32 boards only, picks new ones up on rescan and drops unplugged ones', async (t) => {
  let listed: ListedPort[] = [CP2102, UNO, BUILTIN];
  let listCalls = 0;
  const { clock, sink, events, link, infos, driver } = setup(t, {
    mode: 'auto',
    rescanIntervalMs: 2000,
    listPorts: async () => (listCalls++, listed),
  });
  const opened = events.next('open', CP2102.path);
  await driver.start();
  await opened;
  const ports = () => (driver.status().ports as { path: string; deviceId: string }[]).map((p) => `${p.path}=${p.deviceId}`);
  assert.deepEqual(ports(), ['/dev/ttyUSB0=serial-0001A7F3'], 'named after its USB serial number');

  link(CP2102.path).send(`${csv(1000)}\n`);
  await driver.drain();
  assert.equal(sink.readings[0].deviceId, 'serial-0001A7F3');

  listed = [CP2102, CH340];
  const second = events.next('open', CH340.path);
  clock.advance(2000);
  await second;
  assert.equal(listCalls, 2, 'the interval rescanned');
  assert.deepEqual(ports(), ['/dev/ttyUSB0=serial-0001A7F3', '/dev/ttyUSB1=serial-ttyUSB1']);

  listed = [CH340];
  await driver.rescan();
  assert.deepEqual(ports(), ['/dev/ttyUSB1=serial-ttyUSB1']);
  assert.deepEqual(infos.at(-1), { deviceId: 'serial-0001A7F3', info: { online: false, address: '/dev/ttyUSB0' } });
  assert.equal(driver.status().readings, 1, 'totals keep what unplugged ports did');

  listed = [CH340, CP2102];
  const back = events.next('open', CP2102.path);
  await driver.rescan();
  await back;
  assert.equal(ports().length, 2);
  assert.equal(driver.status().state, 'running');
});

test('a port lister that throws is reported as status, and the open ports keep running', async (t) => {
  let fail = false;
  const { events, driver } = setup(t, {
    mode: 'auto',
    listPorts: async () => {
      if (fail) throw new Error('spawn udevadm ENOENT');
      return [CP2102];
    },
  });
  const opened = events.next('open');
  await driver.start();
  await opened;
  fail = true;
  await driver.rescan();
  assert.equal((driver.status().ports as unknown[]).length, 1);
  assert.equal(driver.status().state, 'running');
});

test('no ports at all is a running driver that says so', async (t) => {
  const { driver } = setup(t, { mode: 'auto', listPorts: async () => { throw new Error('spawn udevadm ENOENT'); } });
  await driver.start();
  assert.equal(driver.status().state, 'running');
  assert.match(driver.status().detail as string, /port listing failed: spawn udevadm ENOENT/);
});

test('auto mode with the real default lister starts on this machine (serialport.list() fails here)', async (t) => {
  const clock = new FakeClock();
  const codec = makeCodec(clock);
  const driver = new SerialDriver({ mode: 'auto', codec, sink: new RecordingSink(), log: silentLog, clock });
  t.after(async () => {
    await driver.stop();
    codec.close();
  });
  await driver.start();
  assert.equal(driver.status().state, 'running');
  assert.ok(Array.isArray(driver.status().ports));
});

test('mode off does nothing and says so', async (t) => {
  const { driver, clock } = setup(t, { mode: 'off' });
  await driver.start();
  assert.equal(driver.status().state, 'off');
  assert.equal(clock.timerCount, 0);
});

test('stop() clears every timer: rescans and reconnects', async (t) => {
  const { driver, clock, setOpenable } = setup(t, { mode: ['/dev/ttyUSB0', '/dev/ttyUSB1'] });
  setOpenable(() => false);
  await driver.start();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(clock.timerCount, 2, 'one retry per port');
  await driver.stop();
  assert.equal(clock.timerCount, 0);
});
