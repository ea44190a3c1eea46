import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { startBroker } from '../helpers/broker.js';
import { fetchAllReadings, startDaemonProcess, type DaemonProcess } from '../helpers/daemon.js';

const TOKEN = 'durability-token-0123456789';
const SAMPLES_PER_MESSAGE = 10;
const IN_FLIGHT = 32;
const KILL_AFTER_ACKED = 400;

const sample = (i: number) => [i % 7, (i % 11) / 10, 9.81, 0.01 * (i % 5), 0, 0];

/** Publishes QoS 1 batches with consecutive seqs until stopped; records the seqs whose PUBACK arrived. */
function publishLoop(client: MqttClient, deviceId: string, acked: Set<number>, onAcked: () => void) {
  let stopped = false;
  let next = 0;
  let wake: () => void = () => undefined;
  // Publishes to a killed broker never settle; stopping must not wait for them.
  const stopSignal = new Promise<void>((resolve) => (wake = resolve));
  const inFlight = new Set<Promise<void>>();
  const done = (async () => {
    while (!stopped) {
      const seq = next;
      next += SAMPLES_PER_MESSAGE;
      const payload = encodeCompactBatch({ deviceId, t0: Date.now(), dtMs: 1, seq, samples: Array.from({ length: SAMPLES_PER_MESSAGE }, (_, k) => sample(seq + k)) });
      const publish = client.publishAsync(`gymhub/${deviceId}/imu`, payload, { qos: 1 }).then(
        () => {
          for (let k = 0; k < SAMPLES_PER_MESSAGE; k++) acked.add(seq + k);
          onAcked();
        },
        () => undefined,
      );
      inFlight.add(publish);
      void publish.finally(() => inFlight.delete(publish));
      if (inFlight.size >= IN_FLIGHT) await Promise.race([...inFlight, stopSignal]);
    }
  })();
  return { stop: async () => { stopped = true; wake(); await done; }, sent: () => next };
}

/** POSTs batches until stopped; records the seqs answered 202. */
function httpLoop(apiUrl: string, deviceId: string, acked: Set<number>) {
  let stopped = false;
  const done = (async () => {
    for (let seq = 0; !stopped; seq += SAMPLES_PER_MESSAGE) {
      const body = encodeCompactBatch({ deviceId, t0: Date.now(), dtMs: 1, seq, samples: Array.from({ length: SAMPLES_PER_MESSAGE }, (_, k) => sample(seq + k)) });
      try {
        const response = await fetch(`${apiUrl}/api/v1/readings`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
        if (response.status === 202) for (let k = 0; k < SAMPLES_PER_MESSAGE; k++) acked.add(seq + k);
      } catch {
        return; // the daemon is gone
      }
    }
  })();
  return { stop: async () => { stopped = true; await done; } };
}

function missing(acked: Set<number>, stored: Array<{ seq?: number }>): number[] {
  const have = new Set(stored.map((r) => r.seq));
  return [...acked].filter((seq) => !have.has(seq)).sort((a, b) => a - b);
}

async function scratch() {
  const dir = await mkdtemp(join(tmpdir(), 'gymhub-durability-'));
  return { dir, dataDir: join(dir, 'data'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const baseEnv = (dataDir: string) => ({ GYMHUB_DATA_DIR: dataDir, GYMHUB_HTTP_HOST: '127.0.0.1', GYMHUB_HTTP_PORT: '0', GYMHUB_API_TOKEN: TOKEN, GYMHUB_SERIAL: 'off', GYMHUB_BLE: 'off', GYMHUB_LOG_LEVEL: 'info' });

test('kill -9 mid-stream (embedded broker + HTTP): every reading that got a PUBACK or a 202 is in the store after restart', async () => {
  const { dir, dataDir, cleanup } = await scratch();
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify({ mqtt: { embeddedPort: 0, embeddedHost: '127.0.0.1' } }));
  let daemon: DaemonProcess | undefined;
  try {
    daemon = await startDaemonProcess(['--config', configPath], baseEnv(dataDir));
    assert.ok(daemon.mqttPort, 'embedded broker port in the ready line');
    const device = await connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { clientId: 'durability-device', reconnectPeriod: 0 });
    device.on('error', () => undefined);
    const mqttAcked = new Set<number>();
    const httpAcked = new Set<number>();
    let killed: Promise<unknown> | undefined;
    const running = daemon;
    const mqtt = publishLoop(device, 'dev-mqtt', mqttAcked, () => {
      if (!killed && mqttAcked.size >= KILL_AFTER_ACKED * SAMPLES_PER_MESSAGE) killed = running.kill('SIGKILL');
    });
    const http = httpLoop(daemon.apiUrl, 'dev-http', httpAcked);
    await new Promise<void>((resolve) => running.child.once('exit', () => resolve()));
    await Promise.all([mqtt.stop(), http.stop()]);
    device.end(true);
    assert.equal(running.child.signalCode, 'SIGKILL');
    assert.ok(mqtt.sent() / SAMPLES_PER_MESSAGE > mqttAcked.size / SAMPLES_PER_MESSAGE, 'some messages were still in flight at the kill');
    assert.ok(httpAcked.size > 0, 'HTTP ingest ran alongside');

    daemon = await startDaemonProcess(['--config', configPath], baseEnv(dataDir));
    const storedMqtt = await fetchAllReadings(daemon.apiUrl, TOKEN, 'dev-mqtt');
    const storedHttp = await fetchAllReadings(daemon.apiUrl, TOKEN, 'dev-http');
    assert.deepEqual(missing(mqttAcked, storedMqtt), [], 'MQTT readings acknowledged but lost');
    assert.deepEqual(missing(httpAcked, storedHttp), [], 'HTTP readings acknowledged but lost');
    console.log(`# acked before kill: mqtt ${mqttAcked.size}, http ${httpAcked.size}; stored after restart: mqtt ${storedMqtt.length}, http ${storedHttp.length}`);
  } finally {
    await daemon?.kill('SIGKILL');
    await cleanup();
  }
});

test('kill -9 with an external broker: the persistent session delivers what was queued, nothing the broker acknowledged is lost', async () => {
  const { dataDir, cleanup } = await scratch();
  const broker = await startBroker();
  let daemon: DaemonProcess | undefined;
  try {
    const env = { ...baseEnv(dataDir), GYMHUB_MQTT_URL: broker.url };
    daemon = await startDaemonProcess([], env);
    const device = await connectAsync(broker.url, { clientId: 'durability-device-2' });
    const acked = new Set<number>();
    let killed: Promise<unknown> | undefined;
    const running = daemon;
    // The device goes on while the hub is down: the broker queues for the hub's persistent session.
    let queuedWhileDown = 0;
    let enoughQueued: () => void = () => undefined;
    const queued = new Promise<void>((resolve) => (enoughQueued = resolve));
    const loop = publishLoop(device, 'dev-ext', acked, () => {
      if (!killed && acked.size >= KILL_AFTER_ACKED * SAMPLES_PER_MESSAGE) killed = running.kill('SIGKILL');
      if (running.child.exitCode !== null || running.child.signalCode !== null) {
        if (++queuedWhileDown >= 200) enoughQueued();
      }
    });
    await queued;
    await loop.stop();
    await device.endAsync();

    daemon = await startDaemonProcess([], env);
    const expected = acked.size;
    const deadline = Date.now() + 20_000;
    let stored: Array<{ seq?: number }> = [];
    while (Date.now() < deadline) {
      stored = await fetchAllReadings(daemon.apiUrl, TOKEN, 'dev-ext');
      if (missing(acked, stored).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(missing(acked, stored).slice(0, 20), [], `of ${expected} acknowledged readings, some never reached the store`);
    console.log(`# broker-acknowledged ${expected}, stored ${stored.length} (${stored.length - new Set(stored.map((r) => r.seq)).size} redelivered twice)`);
  } finally {
    await daemon?.kill('SIGKILL');
    await broker.close();
    await cleanup();
  }
});
