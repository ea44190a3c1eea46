import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type Clock } from '../../daemon/clock.js';
import { isDeviceId, type Reading } from '../../drivers/reading.js';
import { PortSession } from '../../drivers/serial/port-session.js';
import { SerialDriver } from '../../drivers/serial/serial-driver.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { openDeviceSide, ptySkipReason, startPtyPair } from '../helpers/pty.js';
import { makeCodec, PortEvents, RecordingSink, recordingLines, silentLog, SQUAT_FILE } from './fixtures.js';

/**
 * Fuzz of the serial path (framer + codec + sink): random and mutated lines must never throw, every byte
 * must be accounted for (lines + garbled + blank = newlines sent), every reading out must be valid, and
 * valid lines among the garbage must all arrive.
 */

const MAX_LINE_BYTES = 4096;
const G = 9.80665;

/** Small seeded PRNG (mulberry32): a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzLines(count: number, seed: number): Buffer[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const int = (n: number): number => Math.floor(random() * n);
  const real = recordingLines(SQUAT_FILE);
  const weird = ['NaN', 'Infinity', '-Infinity', '1e309', '', ' ', '0x10', '1e2', '-0', '99999', '3.4e38', 'null', '"1"', '--1', '.'];
  const number = (): string => (random() < 0.8 ? (random() * 40 - 20).toFixed(3) : pick(weird));
  const mutations: ((line: string) => string | Buffer)[] = [
    (l) => l.slice(0, int(l.length)), // truncated
    (l) => l.slice(int(l.length)), // started mid-line (port opened late)
    (l) => {
      const b = Buffer.from(l);
      b[int(b.length)] = int(256); // one byte flipped
      return b;
    },
    (l) => {
      const at = int(l.length);
      return Buffer.concat([Buffer.from(l.slice(0, at)), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), Buffer.from(l.slice(at))]);
    },
    (l) => l.split(',').map((f) => (random() < 0.3 ? number() : f)).join(','),
    (l) => l.split(',').slice(0, 1 + int(12)).join(','),
    (l) => `${l},${l}`,
    (l) => l.replace(/,/g, pick([';', ', ', ',,', '\t'])),
    (l) => l + '\r'.repeat(int(3)),
  ];
  const generators: (() => string | Buffer)[] = [
    () => pick(real),
    () => pick(mutations)(pick(real)),
    () => pick(mutations)(String(pick(mutations)(pick(real)))),
    () => `${int(4)},${int(2 ** 33)},${Array.from({ length: pick([6, 8, 9, 11]) }, number).join(',')}`,
    () => Buffer.from(Array.from({ length: int(200) }, () => int(256))),
    () => 'x'.repeat(MAX_LINE_BYTES + int(MAX_LINE_BYTES)),
    () => JSON.stringify({ d: pick(['serial-fuzz', 'other', '', 7]), t0: pick([int(1e6), -1, 'x', null]), dt: pick([10, 0, -5, 1e9]), seq: pick([int(1e5), -1, 2 ** 32, 1.5]), s: Array.from({ length: int(5) }, () => Array.from({ length: pick([6, 9, 3, 12]) }, () => Number(number()) || 0)) }),
    () => JSON.stringify({ device_id: pick(['serial-fuzz', 'x y', 'z']), timestamp: pick([Date.UTC(2026, 0, 1) + int(1e6), 'now', 0]), accelerometer: { x: Number(number()), y: 0, z: G }, gyroscope: { x: 0, y: 0, z: Number(number()) } }),
    () => pick(mutations)(JSON.stringify({ d: 'serial-fuzz', t0: 5000 + int(1e5), dt: 10, s: [[0.1, 0.2, 9.8, 0, 0, 0]] })),
    () => JSON.stringify({ hello: { deviceId: pick(['bad id!', '', 'x'.repeat(65), 42, 'fuzz-a', 'fuzz-b']), fw: pick(['1.0', 3]), hz: pick([100, -1, 'fast']) } }),
    () => pick(['[', '{', '[]', '{}', '[[[[[[[[[[', '{"hello":', 'null', 'true', '"str"', '[1,2,3]', '{"s":[]}', '\u00e9\u00b5\u2603\ud83d\ude00']),
    () => '['.repeat(int(2000)),
    () => '',
    () => ' \t ',
  ];
  return Array.from({ length: count }, () => {
    const line = pick(generators)();
    const bytes = typeof line === 'string' ? Buffer.from(line) : line;
    return Buffer.concat([bytes, Buffer.from(random() < 0.3 ? '\r\n' : '\n')]);
  });
}

function countNewlines(chunks: readonly Buffer[]): number {
  let n = 0;
  for (const chunk of chunks) for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

function assertValid(readings: readonly Reading[]): void {
  for (const r of readings) {
    assert.ok(isDeviceId(r.deviceId), r.deviceId);
    assert.ok(Number.isFinite(r.ts));
    for (const v of r.accel) assert.ok(Number.isFinite(v) && Math.abs(v) <= 32 * G + 1e-9, `accel ${v}`);
    for (const v of r.gyro) assert.ok(Number.isFinite(v) && Math.abs(v) <= 40, `gyro ${v}`);
    for (const v of r.mag ?? []) assert.ok(Number.isFinite(v));
  }
}

function session(clock: Clock, sink: RecordingSink) {
  const codec = makeCodec(clock);
  const port = new PortSession({
    path: '/dev/ttyFUZZ', explicit: true, deps: { codec, sink, log: silentLog, clock },
    baudRate: 115200, open: () => Promise.reject(new Error('not used: bytes are fed to handleChunk')),
    reconnectBaseMs: 100, reconnectCapMs: 1000, maxLineBytes: MAX_LINE_BYTES, maxPendingReadings: 1000,
  });
  return { codec, port };
}

/** Feeds the stream in random chunk sizes, as a serial port delivers it. */
function feed(port: PortSession, stream: Buffer, seed: number): void {
  const random = prng(seed);
  for (let at = 0; at < stream.length; ) {
    const size = 1 + Math.floor(random() * 4096);
    port.handleChunk(stream.subarray(at, at + size));
    at += size;
  }
}

test('12,000 random and mutated lines: nothing throws and every count adds up', async () => {
  const clock = new FakeClock();
  const sink = new RecordingSink();
  const { codec, port } = session(clock, sink);
  const lines = fuzzLines(12_000, 0xc0ffee);
  feed(port, Buffer.concat(lines), 42);
  await port.drain();

  const counts = port.counts;
  assert.equal(counts.lines + counts.garbled + counts.blank, countNewlines(lines), 'every line is passed on, garbled or blank');
  const totals = codec.transportTotals().serial;
  assert.equal(sink.readings.length, counts.readings);
  assert.equal(counts.stored, counts.readings);
  assert.equal(totals.accepted, counts.readings);
  assert.equal(totals.rejected, counts.rejected);
  assert.equal(totals.duplicates, counts.duplicates);
  assert.ok(counts.garbled > 1000, `garbage was found (${counts.garbled})`);
  assert.ok(counts.rejected > 1000, `the codec rejected (${counts.rejected})`);
  assert.ok(counts.readings > 500, `valid lines got through (${counts.readings})`);
  assertValid(sink.readings);
  console.log(`# fuzz: ${lines.length} lines, ${counts.lines} decoded, ${counts.garbled} garbled, ${counts.blank} blank, ${counts.readings} readings, ${counts.rejected} rejected, ${counts.duplicates} duplicates`);
  codec.close();
});

/** Lines that cannot become a reading however the codec reads them. */
function hopeless(random: () => number): Buffer {
  const kinds: (() => Buffer)[] = [
    () => Buffer.from(Array.from({ length: 1 + Math.floor(random() * 100) }, () => 0x80 + Math.floor(random() * 128))),
    () => Buffer.from('z'.repeat(MAX_LINE_BYTES * 2)),
    () => Buffer.from('{"d":"serial-fuzz","t0":1,"dt":10,"s":[[0.1,0.2'),
    () => Buffer.from('1,2,3'),
    () => Buffer.from('ets Jun  8 2016 00:22:57 rst:0x1 (POWERON_RESET),boot:0x13'),
    () => Buffer.from([0x00, 0x01, 0x02, 0x1b, 0x5b, 0x41]),
    () => Buffer.from('1,99,NaN,0,9.8,0,0,0'),
    () => Buffer.from('1,99,400,0,9.8,0,0,0'),
  ];
  return kinds[Math.floor(random() * kinds.length)]();
}

test('valid lines among 5,000 garbage lines all arrive, in order', async () => {
  const clock = new FakeClock();
  const sink = new RecordingSink();
  const { codec, port } = session(clock, sink);
  const random = prng(7);
  const parts: Buffer[] = [];
  let canaries = 0;
  for (let i = 0; i < 5000; i++) {
    parts.push(hopeless(random), Buffer.from('\n'));
    if (i % 5 === 0) {
      canaries++;
      parts.push(Buffer.from(`1,${1000 + canaries * 10},${canaries / 1000},0.5,9.7,0.01,0.02,0.03\r\n`));
    }
  }
  feed(port, Buffer.concat(parts), 9);
  await port.drain();
  assert.deepEqual(sink.readings.map((r) => r.accel[0]), Array.from({ length: canaries }, (_, i) => (i + 1) / 1000));
  assert.equal(port.counts.duplicates, 0);
  codec.close();
});

const skip = ptySkipReason();

test('2,000 fuzz lines through a real pty and the driver: counts add up', { skip, timeout: 20_000 }, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.close());
  const codec = makeCodec(systemClock);
  const sink = new RecordingSink();
  const events = new PortEvents();
  const driver = new SerialDriver({
    mode: [pty.hubPath], codec, sink, log: silentLog, clock: systemClock, onPortEvent: events.listener,
    maxLineBytes: MAX_LINE_BYTES, reconnectBaseMs: 5, reconnectCapMs: 40,
  });
  t.after(async () => {
    await driver.stop();
    codec.close();
  });
  const opened = events.next('open');
  await driver.start();
  await opened;
  const device = await openDeviceSide(pty.devicePath);
  t.after(() => device.close());

  const lines = fuzzLines(2000, 0xbeef);
  // A new device's first reading ends the run: nothing before it can make it a duplicate.
  const end = [Buffer.from('{"hello":{"deviceId":"fuzz-end"}}\n'), Buffer.from('1,1000,0.5,0.25,9.75,0.125,0.0625,0.03125\n')];
  await device.write(Buffer.concat([...lines, ...end]));
  await sink.until(() => sink.readings.at(-1)?.deviceId === 'fuzz-end');
  await driver.drain();

  const [port] = driver.status().ports as { lines: number; garbled: number; blank: number; readings: number; rejected: number; duplicates: number; stored: number }[];
  const totals = codec.transportTotals().serial;
  assert.equal(sink.readings.length, port.readings);
  assert.equal(port.stored, port.readings);
  assert.equal(totals.accepted, port.readings);
  assert.equal(totals.rejected, port.rejected);
  assert.equal(port.lines + port.garbled + port.blank, countNewlines(lines) + 2, 'every byte accounted for, none altered by the tty');
  assert.ok(port.garbled > 100);
  assertValid(sink.readings);
  assert.equal((driver.status().ports as { state: string }[])[0].state, 'open', 'the port survived');
});
