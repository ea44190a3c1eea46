import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { systemClock } from '../../daemon/clock.js';
import { openSerialPort, PortTransport, type PortOpener } from '../../drivers/serial/port-transport.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeLinkDir, openDeviceSide, ptySkipReason, startPtyPair } from '../helpers/pty.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const skip = ptySkipReason();
if (skip) console.log(`# skipping serial transport tests: ${skip}`);

/** Collects what the transport hands on, and turns its callbacks into awaitable events. */
function recorder() {
  let text = '';
  let waiting: { needle: string; resolve: () => void } | undefined;
  const opens: (() => void)[] = [];
  const closes: ((reason: string) => void)[] = [];
  return {
    get text() {
      return text;
    },
    onData(chunk: Buffer) {
      text += chunk.toString('utf8');
      if (waiting && text.includes(waiting.needle)) {
        waiting.resolve();
        waiting = undefined;
      }
    },
    onOpen: () => opens.shift()?.(),
    onClose: (reason: string) => closes.shift()?.(reason),
    nextOpen: () => new Promise<void>((resolve) => opens.push(resolve)),
    nextClose: () => new Promise<string>((resolve) => closes.push(resolve)),
    received: (needle: string) =>
      new Promise<void>((resolve) => {
        if (text.includes(needle)) resolve();
        else waiting = { needle, resolve };
      }),
  };
}

test('opens the hub side, receives the device bytes and writes back', { skip, timeout: 20_000 }, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.close());
  const device = await openDeviceSide(pty.devicePath);
  t.after(() => device.close());
  const rec = recorder();
  const opened = rec.nextOpen();
  const transport = new PortTransport({
    path: pty.hubPath, baudRate: 115200, clock: systemClock, log, open: openSerialPort,
    reconnectBaseMs: 10, reconnectCapMs: 50, ...rec,
  });
  t.after(() => transport.stop());
  transport.start();
  await opened;
  assert.equal(transport.state, 'open');
  const got = rec.received('line two\n');
  await device.write('line one\nline two\n');
  await got;
  assert.equal(rec.text, 'line one\nline two\n');
  const answer = device.nextLine();
  assert.equal(await transport.write('{"cmd":"identify"}\n'), true);
  assert.equal(await answer, '{"cmd":"identify"}');
});

test('when socat dies the port closes, and it reopens by itself when the pty comes back (5 times)', { skip, timeout: 20_000 }, async (t) => {
  const links = makeLinkDir();
  t.after(links.remove);
  const paths = { devicePath: join(links.dir, 'device'), hubPath: join(links.dir, 'hub') };
  let pty = await startPtyPair(paths);
  t.after(() => pty.close());
  const rec = recorder();
  const firstOpen = rec.nextOpen();
  const transport = new PortTransport({
    path: paths.hubPath, baudRate: 115200, clock: systemClock, log, open: openSerialPort,
    reconnectBaseMs: 5, reconnectCapMs: 40, ...rec,
  });
  t.after(() => transport.stop());
  transport.start();
  await firstOpen;
  for (let cycle = 1; cycle <= 5; cycle++) {
    const device = await openDeviceSide(paths.devicePath);
    const before = rec.received(`before ${cycle}\n`);
    await device.write(`before ${cycle}\n`);
    await before;

    const closed = rec.nextClose();
    // SIGKILL with the device side still open: both ends of the pty hang up, and the port's path is gone.
    await pty.kill();
    assert.match(await closed, /hung up|bad file descriptor|EIO|ENXIO/i);
    assert.notEqual(transport.state, 'open');
    await device.close();

    const reopened = rec.nextOpen();
    pty = await startPtyPair(paths);
    await reopened;
    assert.equal(transport.state, 'open');
    assert.equal(transport.reconnects, cycle);
    const again = await openDeviceSide(paths.devicePath);
    const after = rec.received(`after ${cycle}\n`);
    await again.write(`after ${cycle}\n`);
    await after;
    await again.close();
  }
  assert.match(rec.text, /before 1\nafter 1\n.*before 5\nafter 5\n$/s);
});

test('a path that does not exist yet is retried on the backoff schedule until it appears', { skip, timeout: 20_000 }, async (t) => {
  const links = makeLinkDir();
  t.after(links.remove);
  const paths = { devicePath: join(links.dir, 'device'), hubPath: join(links.dir, 'hub') };
  const clock = new FakeClock();
  const attempts: number[] = [];
  const failures: (() => void)[] = [];
  const open: PortOpener = async (path, baud) => {
    attempts.push(clock.now());
    try {
      return await openSerialPort(path, baud);
    } catch (err) {
      setImmediate(() => failures.shift()?.());
      throw err;
    }
  };
  const nextFailure = () => new Promise<void>((resolve) => failures.push(resolve));
  const rec = recorder();
  const transport = new PortTransport({
    path: paths.hubPath, baudRate: 115200, clock, log, open,
    reconnectBaseMs: 100, reconnectCapMs: 800, random: () => 1, ...rec,
  });
  t.after(() => transport.stop());
  let failed = nextFailure();
  transport.start();
  await failed;
  assert.equal(transport.state, 'waiting');
  assert.match(transport.lastError ?? '', /ENOENT|No such file/);
  // With random() = 1 the delays are the ceilings: 100, 200, 400, 800, 800 ms.
  for (const delay of [100, 200, 400, 800, 800]) {
    failed = nextFailure();
    clock.advance(delay - 1);
    assert.equal(clock.timerCount, 1, 'not yet due');
    const count = attempts.length;
    clock.advance(1);
    assert.equal(attempts.length, count + 1);
    await failed;
  }
  const pty = await startPtyPair(paths);
  t.after(() => pty.close());
  const opened = rec.nextOpen();
  clock.advance(800);
  await opened;
  assert.equal(transport.state, 'open');
  assert.equal(transport.lastError, undefined);
});

test('stop() during a retry leaves no timer behind and no port open', async () => {
  const clock = new FakeClock();
  const transport = new PortTransport({
    path: '/nonexistent/gymhub-port', baudRate: 115200, clock, log,
    open: () => Promise.reject(new Error('ENOENT')),
    reconnectBaseMs: 100, reconnectCapMs: 1000, onData: () => undefined,
  });
  transport.start();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(clock.timerCount, 1);
  await transport.stop();
  assert.equal(clock.timerCount, 0);
  assert.equal(transport.state, 'stopped');
  assert.equal(await transport.write('x\n'), false);
});
