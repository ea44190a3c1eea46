import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { systemClock } from '../../daemon/clock.js';
import { Codec } from '../../drivers/codec/codec.js';
import { replayRecording } from '../../drivers/simulator/replay.js';
import { AUTH, startTestHub, TEST_TOKEN, type TestHub } from '../helpers/hub.js';
import { SHARED_DATA } from '../helpers/process.js';
import { ptySkipReason, startPtyPair, type PtyPair } from '../helpers/pty.js';

const FILE = join(SHARED_DATA, 'squat/squat_adam_set1_reps10_1.csv');
const log = pino({ level: 'silent' });

let hub: TestHub;
let pty: PtyPair | undefined;
before(async () => {
  if (!ptySkipReason()) pty = await startPtyPair();
  hub = await startTestHub({
    mqtt: { url: 'off', embeddedPort: 0, embeddedHost: '127.0.0.1' },
    serial: { ports: pty ? [pty.hubPath] : 'off' },
  });
});
after(async () => {
  await hub.close();
  await pty?.close();
});

/** What a codec accepts of the file as serial format (c): the count a complete replay must store. */
async function acceptedAsSerial(): Promise<number> {
  const codec = new Codec({ clock: systemClock, log });
  const lines = (await readFile(FILE, 'utf8')).split('\n').filter(Boolean);
  const first = Number(lines[0].split(',')[1]);
  let accepted = 0;
  for (const line of lines) {
    accepted += codec.decodeLine(line, { transport: 'serial', receivedAt: 1_700_000_000_000 + Number(line.split(',')[1]) - first, deviceId: 'x' }).readings.length;
  }
  codec.close();
  return accepted;
}

async function storedFor(deviceId: string, expected: number): Promise<Array<{ seq?: number; accel: number[] }>> {
  // Serial has no acknowledgement: wait (on real events, bounded) until the hub has stored what was sent.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const page = (await hub.hub.app.inject({ url: `/api/v1/readings?deviceId=${deviceId}&limit=10000`, headers: AUTH })).json();
    if (page.items.length >= expected || Date.now() > deadline) return page.items;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('gymhub replay over HTTP (format b, 202 per batch): the recording arrives complete', async () => {
  const expected = await acceptedAsSerial();
  const result = await replayRecording({ file: FILE, target: { kind: 'http', url: `http://127.0.0.1:${hub.hub.address.port}`, token: TEST_TOKEN }, speed: 0, deviceId: 'replay-http', clock: systemClock, log });
  assert.equal(result.samples, expected, 'format (b) leaves out the re-sent sensor reads, as the codec does for (c)');
  const stored = await storedFor('replay-http', expected);
  assert.equal(stored.length, expected);
  assert.deepEqual(stored.map((r) => r.seq), Array.from({ length: expected }, (_, i) => i));
  assert.deepEqual(stored[0].accel, [1.414, -7.923, -5.295], 'first line of the file');
});

test('gymhub replay over MQTT (format b, QoS 1 to the embedded broker): complete, with the device status retained', async () => {
  const expected = await acceptedAsSerial();
  const port = hub.hub.health().components.mqtt.port as number;
  const result = await replayRecording({ file: FILE, target: { kind: 'mqtt', url: `mqtt://127.0.0.1:${port}` }, speed: 0, deviceId: 'replay-mqtt', clock: systemClock, log });
  assert.equal(result.samples, expected);
  const stored = await storedFor('replay-mqtt', expected);
  assert.equal(stored.length, expected);
  const device = (await hub.hub.app.inject({ url: '/api/v1/devices/replay-mqtt', headers: AUTH })).json();
  assert.equal(device.transport, 'mqtt');
  assert.equal(device.fw, 'gymhub-replay');
  assert.equal(device.online, false, 'the replayer says goodbye on its status topic');
});

test('gymhub replay over serial (hello + format c lines through a socat pty): complete', { skip: ptySkipReason() }, async () => {
  const expected = await acceptedAsSerial();
  const result = await replayRecording({ file: FILE, target: { kind: 'serial', path: pty!.devicePath }, speed: 0, deviceId: 'replay-serial', clock: systemClock, log });
  assert.equal(result.messages, 2073, 'every line of the file sent');
  const stored = await storedFor('replay-serial', expected);
  assert.equal(stored.length, expected);
  const device = (await hub.hub.app.inject({ url: '/api/v1/devices/replay-serial', headers: AUTH })).json();
  assert.equal(device.transport, 'serial');
  assert.equal(device.duplicates, 2073 - expected, 're-sent sensor reads counted as duplicates');
});

test('replay at real speed paces the samples by the device millis', async () => {
  const { FakeClock } = await import('../helpers/fake-clock.js');
  const clock = new FakeClock(Date.now());
  const running = replayRecording({ file: FILE, target: { kind: 'http', url: `http://127.0.0.1:${hub.hub.address.port}`, token: TEST_TOKEN }, speed: 2, deviceId: 'replay-paced', clock, log });
  // Move the fake clock only while the replay waits on it; the clock time it needed is its pacing.
  let done = false;
  void running.then(() => (done = true));
  const start = clock.now();
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    if (clock.timerCount > 0) clock.advance(1);
  }
  const result = await running;
  const lines = (await readFile(FILE, 'utf8')).split('\n').filter(Boolean);
  const spanMs = Number(lines.at(-1)!.split(',')[1]) - Number(lines[0].split(',')[1]);
  assert.ok(Math.abs(clock.now() - start - spanMs / 2) < 250, `took ${clock.now() - start} ms of clock time for ${spanMs} ms of recording at speed 2`);
  assert.ok(result.messages > 50);
});
