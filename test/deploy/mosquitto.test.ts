/**
 * deploy/mosquitto-gymhub.conf against a real Mosquitto: while the hub is away, a device's QoS 1 burst is
 * queued for the hub's persistent session, and every message reaches the hub when it comes back. The same run
 * with Mosquitto's default queue limits is the control: it shows the burst is big enough to lose messages there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, connectAsync } from 'mqtt';
import { DEPLOY_DIR } from './install-run.js';

const BURST = 3000;
const START_TIMEOUT_MS = 10_000;
const DELIVERY_TIMEOUT_MS = 20_000;
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((path) => existsSync(path));

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Mosquitto with Debian's layout (a main file that includes conf.d) and the given snippet, on loopback. */
async function startMosquitto(dir: string, snippet: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const local = snippet.replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`);
  assert.notEqual(local, snippet, 'the snippet has its listener line');
  await mkdir(join(dir, 'conf.d'), { recursive: true });
  await mkdir(join(dir, 'db'), { recursive: true });
  await writeFile(join(dir, 'conf.d', 'gymhub.conf'), local);
  // `user root` keeps a root test run from dropping to the mosquitto user, who could not write the scratch dir.
  await writeFile(join(dir, 'mosquitto.conf'), `user root\npersistence_location ${dir}/db/\nlog_dest stderr\ninclude_dir ${dir}/conf.d\n`);
  const child = spawn(MOSQUITTO!, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mosquitto did not start: ${log}`)), START_TIMEOUT_MS);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
      if (/running/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mosquitto exited with ${code}: ${log}`));
    });
  });
  return { url: `mqtt://127.0.0.1:${port}`, child };
}

/** How many of a QoS 1 burst, sent while the hub was away, the hub receives when it comes back. */
async function deliveredAfterAbsence(url: string): Promise<number> {
  const hubOptions = { clientId: 'gymhub-deploy-test', clean: false, reconnectPeriod: 0 };
  const hub = await connectAsync(url, hubOptions);
  await hub.subscribeAsync('gymhub/+/imu', { qos: 1 });
  await hub.endAsync();

  const device = await connectAsync(url, { clientId: 'esp32-burst', reconnectPeriod: 0 });
  const payload = JSON.stringify({ accel: [0.1, 9.8, 0.2], gyro: [0.01, 0.02, 0.03] });
  await Promise.all(Array.from({ length: BURST }, (_, seq) => device.publishAsync('gymhub/esp32-burst/imu', `${seq}:${payload}`, { qos: 1 })));

  const back = connect(url, { ...hubOptions, manualConnect: true });
  let received = 0;
  // Sent once the hub is back, so it comes after whatever the broker kept queued.
  const sentinel = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no end marker after ${received} messages`)), DELIVERY_TIMEOUT_MS);
    back.on('message', (_topic, message) => {
      if (message.toString() !== 'end') received++;
      else {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const connected = new Promise((resolve) => back.once('connect', resolve));
  back.connect();
  await connected;
  await device.publishAsync('gymhub/esp32-burst/imu', 'end', { qos: 1 });
  await sentinel;
  await Promise.all([device.endAsync(), back.endAsync()]);
  return received;
}

test('the gymhub Mosquitto settings keep a QoS 1 burst for an absent hub; the defaults drop it', { timeout: 60_000 }, async (t) => {
  if (!MOSQUITTO) return t.skip('mosquitto is not installed (apt-get install mosquitto)');
  const snippet = await readFile(join(DEPLOY_DIR, 'mosquitto-gymhub.conf'), 'utf8');
  const defaults = snippet.replace(/^(max_queued_messages|max_queued_bytes|max_inflight_messages) .*$/gm, '');
  assert.notEqual(defaults, snippet);

  for (const [name, config, check] of [
    ['gymhub settings', snippet, (n: number) => assert.equal(n, BURST, 'every message of the burst')],
    ['Mosquitto defaults', defaults, (n: number) => assert.ok(n < BURST, `the defaults lose some (${n} of ${BURST} arrived)`)],
  ] as const) {
    const dir = await mkdtemp(join(tmpdir(), 'gymhub-mosquitto-'));
    const broker = await startMosquitto(dir, config);
    try {
      const received = await deliveredAfterAbsence(broker.url);
      t.diagnostic(`${name}: ${received} of ${BURST} delivered`);
      check(received);
    } finally {
      broker.child.kill('SIGTERM');
      await once(broker.child, 'exit');
      await rm(dir, { recursive: true, force: true });
    }
  }
});
