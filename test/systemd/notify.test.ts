import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { SystemdNotifier, watchdogIntervalMs } from '../../daemon/systemd/notify.js';
import { loadUnixDgram } from '../../daemon/systemd/notify-transport.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { hasCommand, startReceiver, type NotifyReceiver } from './notify-receiver.js';

const silent = pino({ level: 'silent' });
const PID = process.pid;

/** A logger whose lines the test can read. */
function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

async function scratchSocketPath(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gymhub-notify-'));
  return { path: join(dir, 'notify.sock'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The lines of each datagram, with systemd-notify's BARRIER=1 handshakes left out. */
function lineSets(receiver: NotifyReceiver): string[][] {
  return receiver.messages.filter((m) => m !== 'BARRIER=1').map((m) => m.split('\n').sort());
}

const isPing = (m: string) => m === 'WATCHDOG=1';

test('watchdog interval: half of WATCHDOG_USEC, only for the process WATCHDOG_PID names', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, PID), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(PID) }, PID), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(PID + 1) }, PID), undefined);
  assert.equal(watchdogIntervalMs({}, PID), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, PID), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, PID), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '1000' }, PID), 1, 'never a 0 ms interval');
});

test('without NOTIFY_SOCKET every call is a no-op and no timer is armed', async () => {
  const notifier = new SystemdNotifier({ env: { WATCHDOG_USEC: '30000000' }, pid: PID, log: silent });
  const clock = new FakeClock();
  assert.equal(notifier.enabled, false);
  assert.equal(notifier.watchdogIntervalMs, undefined);
  assert.equal(await notifier.transportKind(), 'none');
  await notifier.ready('up');
  await notifier.status('1 device');
  await notifier.watchdog();
  await notifier.stopping();
  assert.equal(notifier.startWatchdog(clock), undefined);
  assert.equal(clock.timerCount, 0);
  await notifier.stop();
});

test('over a real unix datagram socket: READY, STATUS, WATCHDOG at the rate WATCHDOG_USEC asks, STOPPING', async (t) => {
  const { module } = await loadUnixDgram();
  if (!module) return t.skip('unix-dgram (optional dependency) did not build here');
  const { path, cleanup } = await scratchSocketPath();
  const receiver = (await startReceiver(path))!;
  t.after(async () => {
    await receiver.close();
    await cleanup();
  });
  const env = { NOTIFY_SOCKET: path, WATCHDOG_USEC: '4000000', WATCHDOG_PID: String(PID) };
  const notifier = new SystemdNotifier({ env, pid: PID, log: silent });
  const clock = new FakeClock();
  assert.equal(await notifier.transportKind(), 'datagram');

  await notifier.ready('starting');
  await notifier.status('2 devices streaming,\n5 readings/s');
  assert.deepEqual(await receiver.waitFor((m) => m.startsWith('STATUS=2')), ['STATUS=2 devices streaming, 5 readings/s']);
  assert.equal(receiver.messages[0], `READY=1\nMAINPID=${PID}\nSTATUS=starting`);

  assert.equal(notifier.startWatchdog(clock), 2000);
  clock.advance(1999);
  await notifier.status('marker 1');
  await receiver.waitFor((m) => m === 'STATUS=marker 1');
  assert.equal(receiver.messages.filter(isPing).length, 0, 'no ping before half the watchdog period');
  for (let pings = 1; pings <= 5; pings++) {
    clock.advance(pings === 1 ? 1 : 2000);
    await notifier.flush();
    await receiver.waitFor(isPing, pings);
  }
  await notifier.status('marker 2');
  await receiver.waitFor((m) => m === 'STATUS=marker 2');
  assert.equal(receiver.messages.filter(isPing).length, 5, 'one ping per 2000 ms over 10 s');

  await notifier.stopping('flushing');
  await receiver.waitFor((m) => m.startsWith('STOPPING=1'));
  await notifier.stop();
  assert.equal(clock.timerCount, 0, 'stop() clears the watchdog interval');
  clock.advance(10_000);
  assert.equal(receiver.messages.filter(isPing).length, 5, 'no pings after stop()');
  assert.equal(receiver.messages.at(-1), 'STOPPING=1\nSTATUS=flushing');
});

test('an abstract socket goes through the systemd-notify command, in order, with MAINPID', async (t) => {
  if (!(await hasCommand('systemd-notify'))) return t.skip('systemd-notify is not installed');
  const address = `@gymhub-test-${PID}-${randomBytes(4).toString('hex')}`;
  const receiver = await startReceiver(address);
  if (!receiver) return t.skip('python3 is needed to bind an abstract socket in this test');
  t.after(() => receiver.close());
  const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: address, WATCHDOG_USEC: '1000000', PATH: process.env.PATH }, pid: PID, log: silent });
  const clock = new FakeClock();
  assert.equal(await notifier.transportKind(), 'cli');

  await notifier.ready();
  await notifier.status('0 devices streaming');
  assert.equal(notifier.startWatchdog(clock), 500);
  for (let pings = 1; pings <= 3; pings++) {
    clock.advance(500);
    // systemd-notify returns once the barrier is answered; until then a next tick would (rightly) be skipped.
    await notifier.flush();
    await receiver.waitFor(isPing, pings);
  }
  await notifier.stopping();
  await notifier.stop();
  assert.deepEqual(lineSets(receiver), [
    [`MAINPID=${PID}`, 'READY=1'],
    ['STATUS=0 devices streaming'],
    ['WATCHDOG=1'],
    ['WATCHDOG=1'],
    ['WATCHDOG=1'],
    ['STOPPING=1'],
  ]);
});

test('a path socket falls back to systemd-notify where unix-dgram did not build', async (t) => {
  if (!(await hasCommand('systemd-notify'))) return t.skip('systemd-notify is not installed');
  const { path, cleanup } = await scratchSocketPath();
  const receiver = await startReceiver(path);
  if (!receiver) return t.skip('neither unix-dgram nor python3 can bind a datagram socket here');
  t.after(async () => {
    await receiver.close();
    await cleanup();
  });
  const { log, lines } = capturingLogger();
  const notifier = new SystemdNotifier({
    env: { NOTIFY_SOCKET: path, PATH: process.env.PATH },
    pid: PID,
    log,
    loadDatagram: async () => ({ reason: 'no compiler on this Pi' }),
  });
  assert.equal(await notifier.transportKind(), 'cli');
  await notifier.ready('serving');
  await receiver.waitFor((m) => m.includes('READY=1'));
  assert.deepEqual(lineSets(receiver), [[`MAINPID=${PID}`, 'READY=1', 'STATUS=serving']]);
  assert.ok(lines.some((l) => l.reason === 'no compiler on this Pi' && String(l.msg).includes('systemd-notify')), 'the fallback is logged with its reason');
});

test('a socket that is gone is warned about once per outage and never throws', async () => {
  const { path, cleanup } = await scratchSocketPath();
  try {
    const { log, lines } = capturingLogger();
    const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: path, PATH: process.env.PATH }, pid: PID, log });
    await notifier.ready();
    await notifier.watchdog();
    await notifier.watchdog();
    await notifier.status('still here');
    const warnings = lines.filter((l) => l.msg === 'sd_notify failed');
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.equal(warnings[0].message, 'READY=1');
    assert.equal(lines.filter((l) => l.msg === 'sd_notify failed again').length, 3);
  } finally {
    await cleanup();
  }
});

test('messages go out one at a time, in order; a watchdog ping still on its way makes the next one skip', async () => {
  const sent: string[] = [];
  const pending: Array<() => void> = [];
  const slow = {
    kind: 'cli' as const,
    send: (message: string) => new Promise<void>((resolve) => pending.push(() => (sent.push(message), resolve()))),
  };
  const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000' }, pid: PID, log: silent, transport: slow });
  const clock = new FakeClock();
  notifier.startWatchdog(clock);
  const ready = notifier.ready('up');
  clock.advance(1000);
  clock.advance(1000);
  const status = notifier.status('later');
  // Let the queue reach the transport, then release the messages one by one.
  for (let released = 0; released < 3; released++) {
    for (let turn = 0; pending.length === 0 && turn < 100; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(pending.length, 1, 'exactly one message is with the transport at a time');
    pending.shift()!();
  }
  await Promise.all([ready, status, notifier.flush()]);
  assert.deepEqual(sent, [`READY=1\nMAINPID=${PID}\nSTATUS=up`, 'WATCHDOG=1', 'STATUS=later'], 'the second tick was skipped while the first ping waited');
  await notifier.stop();
});
