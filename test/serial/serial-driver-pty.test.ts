import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { systemClock } from '../../daemon/clock.js';
import type { DeviceInfo } from '../../drivers/driver.js';
import type { Reading } from '../../drivers/reading.js';
import { SerialDriver, type SerialDriverOptions } from '../../drivers/serial/serial-driver.js';
import { makeLinkDir, openDeviceSide, ptySkipReason, startPtyPair, type PtyPair } from '../helpers/pty.js';
import { expectedReadings, makeCodec, PortEvents, RecordingSink, recordingLines, silentLog, SQUAT_FILE, valuesOf } from './fixtures.js';

const skip = ptySkipReason();
if (skip) console.log(`# skipping serial driver pty tests: ${skip}`);

/** A driver on real ptys with the system clock; backoff is short so reconnects are quick events. */
function startDriver(t: { after: (fn: () => unknown) => void }, paths: string[], extra: Partial<SerialDriverOptions> = {}) {
  const codec = makeCodec(systemClock);
  const sink = new RecordingSink();
  const events = new PortEvents();
  const infos: { deviceId: string; info: DeviceInfo }[] = [];
  const driver = new SerialDriver({
    mode: paths, codec, sink, log: silentLog, clock: systemClock,
    onDeviceInfo: (deviceId, transport, info) => {
      assert.equal(transport, 'serial');
      infos.push({ deviceId, info });
    },
    onPortEvent: events.listener,
    reconnectBaseMs: 5, reconnectCapMs: 40,
    ...extra,
  });
  t.after(async () => {
    await driver.stop();
    codec.close();
  });
  return { driver, codec, sink, events, infos };
}

/** A line after the recording's end, with values no real row has: once it is stored, all before it are. */
function sentinelAfter(lines: string[], marker: number): string {
  const millis = Number(lines[lines.length - 1].split(',')[1]) + 10;
  return `1,${millis},${marker},0.25,9.75,0.125,0.0625,0.03125`;
}

function isSentinel(reading: Reading | undefined, marker: number): boolean {
  return reading !== undefined && reading.accel[0] === marker && reading.accel[1] === 0.25 && reading.gyro.join() === '0.125,0.0625,0.03125';
}

test('a real recording written as fast as the pty takes arrives complete and in order', { skip, timeout: 20_000 }, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.close());
  const { driver, sink, events } = startDriver(t, [pty.hubPath]);
  const opened = events.next('open');
  await driver.start();
  await opened;

  const lines = recordingLines(SQUAT_FILE);
  const expected = expectedReadings(lines, 'serial-hub', systemClock);
  const sentinel = sentinelAfter(lines, 0.5);
  const device = await openDeviceSide(pty.devicePath);
  t.after(() => device.close());
  const started = performance.now();
  await device.writeLines([...lines, sentinel]);
  await sink.until(() => isSentinel(sink.readings.at(-1), 0.5));
  const elapsedMs = performance.now() - started;
  console.log(`# ${lines.length} lines (${expected.length} readings) through the pty in ${elapsedMs.toFixed(0)} ms, ${Math.round(lines.length / (elapsedMs / 1000))} lines/s`);

  await driver.drain(); // the port's own counters move once the store's promise has settled
  assert.ok(expected.length > 1000, 'the codec accepts most of the file');
  assert.equal(sink.readings.length, expected.length + 1);
  assert.deepEqual(valuesOf(sink.readings.slice(0, -1)), valuesOf(expected), 'same samples, same order');
  assert.ok(sink.readings.every((r) => r.deviceId === 'serial-hub'));
  for (let i = 1; i < sink.readings.length; i++) assert.ok(sink.readings[i].ts >= sink.readings[i - 1].ts, 'time never runs backwards');
  const [port] = driver.status().ports as { lines: number; garbled: number; stored: number; lost: number; path: string }[];
  assert.equal(port.path, pty.hubPath);
  assert.equal(port.lines, lines.length + 1);
  assert.equal(port.garbled, 0);
  assert.equal(port.stored, expected.length + 1);
  assert.equal(port.lost, 0);
});

test('a hello line names the device; commands reach it; the default name is serial-<port>', { skip, timeout: 20_000 }, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.close());
  const { driver, sink, events, infos } = startDriver(t, [pty.hubPath]);
  const opened = events.next('open');
  await driver.start();
  await opened;
  const device = await openDeviceSide(pty.devicePath);
  t.after(() => device.close());

  await device.writeLines(['1,1000,0.1,0.2,9.8,0.01,0.02,0.03']);
  await sink.untilCount(1);
  assert.equal(sink.readings[0].deviceId, 'serial-hub');
  assert.equal((driver.status().ports as { deviceId: string }[])[0].deviceId, 'serial-hub');

  await device.writeLines(['{"hello":{"deviceId":"bar-7","fw":"1.4.2","hz":100}}', '1,1010,0.2,0.3,9.7,0.02,0.03,0.04']);
  await sink.untilCount(2);
  assert.equal(sink.readings[1].deviceId, 'bar-7');
  assert.equal((driver.status().ports as { deviceId: string }[])[0].deviceId, 'bar-7');
  assert.deepEqual(infos.find((i) => i.deviceId === 'bar-7')?.info, { online: true, address: pty.hubPath, fw: '1.4.2', hz: 100 });
  assert.deepEqual(infos.find((i) => i.deviceId === 'serial-hub')?.info, { online: true, address: pty.hubPath });
  assert.ok(infos.some((i) => i.deviceId === 'serial-hub' && i.info.online === false), 'the old name went offline');

  const command = device.nextLine();
  assert.equal(await driver.sendCommand('bar-7', { cmd: 'rate', hz: 50 }), true);
  assert.deepEqual(JSON.parse(await command), { cmd: 'rate', hz: 50 });
  assert.equal(await driver.sendCommand('serial-hub', { cmd: 'identify' }), false, 'the port now speaks for bar-7');
  assert.equal(await driver.sendCommand('nobody', { cmd: 'stop' }), false);
});

test('garbled lines are counted and skipped; their valid neighbours arrive', { skip, timeout: 20_000 }, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.close());
  const { driver, sink, events } = startDriver(t, [pty.hubPath], { maxLineBytes: 2048 });
  const opened = events.next('open');
  await driver.start();
  await opened;
  const device = await openDeviceSide(pty.devicePath);
  t.after(() => device.close());

  await device.write(Buffer.concat([
    Buffer.from('1,1000,0.1,0.2,9.8,0.01,0.02,0.03\r\n'),
    Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x13, 0x0a]), // binary noise, not UTF-8
    Buffer.from(`1,1010,${'9'.repeat(5000)}\n`), // overlong: a lost newline
    Buffer.from('1,1020,0.2,\x00\x01,9.8\n'), // control bytes
    Buffer.from('1,1030,0.3,0.4,9.6,0.03,0.04,0.05\n'),
    Buffer.from('{"d":"x","t0":1,"dt":10,"s":[[1,2\n'), // cut short: a codec rejection, not a framing one
    Buffer.from('1,1040,0.4,0.5,9.5,0.04,0.05,0.06\n'),
  ]));
  await sink.untilCount(3);
  assert.deepEqual(sink.readings.map((r) => r.accel[0]), [0.1, 0.3, 0.4]);
  const [port] = driver.status().ports as { lines: number; garbled: number; rejected: number }[];
  assert.equal(port.garbled, 3);
  assert.equal(port.lines, 4);
  assert.equal(port.rejected, 1);
  assert.equal(driver.status().garbled, 3);
});

test('the port disappears mid-stream and comes back by itself; the stream resumes', { skip, timeout: 20_000 }, async (t) => {
  const links = makeLinkDir();
  t.after(links.remove);
  const paths = { devicePath: join(links.dir, 'device'), hubPath: join(links.dir, 'hub') };
  let pty: PtyPair = await startPtyPair(paths);
  t.after(() => pty.close());
  const { driver, sink, events, infos } = startDriver(t, [paths.hubPath]);
  let opened = events.next('open');
  await driver.start();
  await opened;

  const lines = recordingLines(SQUAT_FILE);
  const half = Math.floor(lines.length / 2);
  const firstHalf = [...lines.slice(0, half), sentinelAfter(lines.slice(0, half), 0.5)];
  let device = await openDeviceSide(paths.devicePath);
  await device.writeLines(firstHalf);
  await sink.until(() => isSentinel(sink.readings.at(-1), 0.5));

  const closed = events.next('closed');
  await pty.kill(); // as if the USB cable were pulled, with the device still writing
  assert.match((await closed).reason ?? '', /hung up|bad file descriptor|EIO|ENXIO/i);
  assert.notEqual((driver.status().ports as { state: string }[])[0].state, 'open');
  assert.ok(infos.some((i) => i.info.online === false), 'the device went offline');
  await device.close();

  opened = events.next('open');
  pty = await startPtyPair(paths);
  await opened;
  device = await openDeviceSide(paths.devicePath);
  t.after(() => device.close());
  const secondHalf = [...lines.slice(half), sentinelAfter(lines, 0.75)];
  const before = sink.readings.length;
  await device.writeLines(secondHalf);
  await sink.until(() => isSentinel(sink.readings.at(-1), 0.75));

  const expectedSecond = expectedReadings(lines, 'serial-hub', systemClock).length - expectedReadings(lines.slice(0, half), 'serial-hub', systemClock).length;
  assert.equal(sink.readings.length - before, expectedSecond + 1, 'every reading sent after the return arrived');
  const [port] = driver.status().ports as { reconnects: number; state: string; lost: number }[];
  assert.equal(port.reconnects, 1);
  assert.equal(port.state, 'open');
  assert.equal(port.lost, 0);
  assert.equal(driver.status().state, 'running');
});

test('a slow store pauses the port; nothing is lost and order holds', { skip, timeout: 20_000 }, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.close());
  const { driver, sink, events } = startDriver(t, [pty.hubPath], { maxPendingReadings: 10 });
  // Each store call completes only after the event loop has turned, as a LevelDB batch would.
  const ingest = sink.ingest.bind(sink);
  sink.ingest = (readings, transport) => new Promise((resolve, reject) => setImmediate(() => ingest(readings, transport).then(resolve, reject)));
  const opened = events.next('open');
  await driver.start();
  await opened;

  const lines = recordingLines(SQUAT_FILE);
  const expected = expectedReadings(lines, 'serial-hub', systemClock);
  const device = await openDeviceSide(pty.devicePath);
  t.after(() => device.close());
  await device.writeLines([...lines, sentinelAfter(lines, 0.5)]);
  await sink.until(() => isSentinel(sink.readings.at(-1), 0.5));

  assert.deepEqual(valuesOf(sink.readings.slice(0, -1)), valuesOf(expected));
  const [port] = driver.status().ports as { pauses: number }[];
  assert.ok(port.pauses > 0, 'the port was paused at least once');
  // Bounded: at most the limit plus what one read chunk (64 kB, ~900 CSV lines) decodes to.
  assert.ok(Math.max(...sink.batches.map((b) => b.length)) <= 10 + 1000);
});
