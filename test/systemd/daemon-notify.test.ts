/**
 * `gymhub run` as systemd runs it: NOTIFY_SOCKET and WATCHDOG_USEC set, a real datagram socket listening.
 * READY=1 comes once the API listens, WATCHDOG=1 keeps coming from the event loop, and SIGTERM brings STOPPING=1
 * and exit code 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemonProcess } from '../helpers/daemon.js';
import { startReceiver } from './notify-receiver.js';

test('the daemon says READY=1 once it serves, pings the watchdog, and STOPPING=1 on SIGTERM', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gymhub-daemon-notify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const receiver = await startReceiver(join(dir, 'notify.sock'));
  if (!receiver) return t.skip('neither unix-dgram nor python3 can bind a datagram socket here');
  t.after(() => receiver.close());

  const daemon = await startDaemonProcess(['--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0'], {
    NOTIFY_SOCKET: receiver.address,
    // 1 s pings; WATCHDOG_PID is left out because the child's pid is not known before it starts.
    WATCHDOG_USEC: '2000000',
    GYMHUB_MQTT_URL: 'off',
    GYMHUB_SERIAL: 'off',
    GYMHUB_BLE: 'off',
  });
  let exit: { code: number | null } | undefined;
  try {
    const [ready] = await receiver.waitFor((m) => m.split('\n').includes('READY=1'));
    const lines = ready.split('\n');
    assert.ok(lines.includes(`MAINPID=${daemon.child.pid}`), ready);
    assert.ok(lines.some((line) => /^STATUS=.*readings\/s/.test(line)), `READY carries a status line: ${ready}`);
    const health = await fetch(`${daemon.apiUrl}/health`);
    assert.equal(health.status, 200, 'the API answers once READY=1 was sent');

    await receiver.waitFor((m) => m === 'WATCHDOG=1', 2);
  } finally {
    exit = await daemon.kill('SIGTERM');
  }
  assert.equal(exit.code, 0);
  const stopping = await receiver.waitFor((m) => m.split('\n').includes('STOPPING=1'));
  assert.equal(stopping.length, 1);
  const order = receiver.messages.filter((m) => m !== 'BARRIER=1').map((m) => (m.includes('READY=1') ? 'ready' : m.includes('STOPPING=1') ? 'stopping' : 'other'));
  assert.ok(order.indexOf('ready') < order.indexOf('stopping'), JSON.stringify(receiver.messages));
});
