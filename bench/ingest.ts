/**
 * bench/ingest: readings/s into the hub, end to end, with the raw baselines measured in the same run.
 *
 *   node --import tsx bench/ingest.ts [--messages N] [--devices D] [--samples S] [--http-batches N]
 *
 * 1. raw: an mqtt.js QoS 1 subscriber through the same broker, doing nothing with the messages.
 * 2. mqtt: the whole hub: MQTT driver -> codec -> durable LevelDB store (PUBACK after the write) -> live recognition.
 * 3. http: POST /api/v1/readings with batches of 100, a few clients at once, 202 after the write.
 * The broker and the publishing devices run in a child process (bench/support/publisher.ts).
 * Prints one JSON line per figure.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { encodeCompactBatch } from '../drivers/codec/encode.js';
import { AUTH, startTestHub } from '../test/helpers/hub.js';

const { values } = parseArgs({ options: {
  messages: { type: 'string', default: '40000' }, devices: { type: 'string', default: '10' }, samples: { type: 'string', default: '10' },
  'http-batches': { type: 'string', default: '2000' }, 'http-clients': { type: 'string', default: '8' },
} });
const MESSAGES = Number(values.messages);
const DEVICES = Number(values.devices);
const SAMPLES = Number(values.samples);
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };

const publisher = spawn(process.execPath, ['--import', 'tsx', new URL('./support/publisher.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
const replies = createInterface({ input: publisher.stdout! })[Symbol.asyncIterator]();
const next = async () => JSON.parse((await replies.next()).value as string) as Record<string, number>;
const { port } = await next();
const url = `mqtt://127.0.0.1:${port}`;

async function publish(): Promise<void> {
  publisher.stdin!.write(`${JSON.stringify({ run: { messages: MESSAGES, devices: DEVICES, samples: SAMPLES } })}\n`);
}

/** Raw mqtt.js: messages/s * samples, as a QoS 1 subscriber that acknowledges at once. */
async function raw(): Promise<number> {
  const client = await connectAsync(url, { clientId: 'bench-raw', clean: true });
  await client.subscribeAsync('gymhub/+/imu', { qos: 1 });
  let received = 0;
  let first = 0;
  const done = new Promise<number>((resolve) => {
    client.on('message', () => {
      if (received++ === 0) first = performance.now();
      if (received === MESSAGES) resolve(performance.now() - first);
    });
  });
  await publish();
  const ms = await done;
  await next();
  await client.endAsync();
  return (MESSAGES * SAMPLES) / (ms / 1000);
}

/**
 * The whole hub (as `gymhub run` builds it: store, codec, MQTT driver, pipeline, live recognition with predictions
 * stored, API), subscribed to the broker; the figure counts readings once they are durably stored.
 */
async function endToEnd(): Promise<{ perS: number; stored: number; predictions: number }> {
  const hub = await startTestHub({ mqtt: { url, clientId: 'bench-hub' } });
  let stored = 0;
  let predictions = 0;
  let first = 0;
  let resolveDone: (ms: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  hub.hub.bus.on('prediction', 'bench', () => predictions++);
  hub.hub.bus.on('readings', 'bench', ({ readings }) => {
    if (stored === 0) first = performance.now();
    stored += readings.length;
    if (stored >= MESSAGES * SAMPLES) resolveDone(performance.now() - first);
  });
  while (hub.hub.health().components.mqtt.state !== 'running') await new Promise((resolve) => setTimeout(resolve, 10));
  await publish();
  const ms = await done;
  await next();
  await hub.close();
  return { perS: stored / (ms / 1000), stored, predictions };
}

async function http(): Promise<number> {
  const batches = Number(values['http-batches']);
  const clients = Number(values['http-clients']);
  const hub = await startTestHub({ http: { host: '127.0.0.1', port: 0 } });
  const base = `http://127.0.0.1:${hub.hub.address.port}/api/v1/readings`;
  const bodies = Array.from({ length: clients }, (_, c) => (k: number) => encodeCompactBatch({
    deviceId: `http-${c}`, t0: Date.now(), dtMs: 1, seq: k * 100, samples: Array.from({ length: 100 }, (_, i) => [i / 100, 0.2, 9.8, 0.01, 0.02, 0.03]),
  }));
  const started = performance.now();
  let sent = 0;
  await Promise.all(bodies.map(async (body) => {
    for (let k = 0; sent < batches; k++) {
      sent++;
      const response = await fetch(base, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: body(k) });
      if (response.status !== 202) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  }));
  const ms = performance.now() - started;
  await hub.close();
  return (sent * 100) / (ms / 1000);
}

const rawPerS = await raw();
const e2e = await endToEnd();
console.log(JSON.stringify({ bench: 'ingest', figure: 'mqtt_raw_subscribe_readings_per_s', value: Math.round(rawPerS), messages: MESSAGES, devices: DEVICES, samplesPerMessage: SAMPLES, machine }));
console.log(JSON.stringify({ bench: 'ingest', figure: 'mqtt_end_to_end_readings_per_s', value: Math.round(e2e.perS), ratioToRaw: Math.round((e2e.perS / rawPerS) * 100) / 100, target: '>= 20000 and ratio >= 0.5', stored: e2e.stored, predictions: e2e.predictions }));
const httpPerS = await http();
console.log(JSON.stringify({ bench: 'ingest', figure: 'http_batch100_readings_per_s', value: Math.round(httpPerS), clients: Number(values['http-clients']), target: '>= 20000' }));
publisher.stdin!.write(`${JSON.stringify({ quit: true })}\n`);
publisher.stdin!.end();
