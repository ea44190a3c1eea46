/**
 * bench/api: the LAN API under ingest load (SPEC section 11, issue 4).
 *
 *   node --import tsx bench/api.ts [--rate 10000] [--devices 20] [--batch 50] [--seconds 10] [--clients 20] [--probe-hz 200]
 *
 * Three processes: the hub (bench/support/api-hub.ts), the devices posting format (b) batches over HTTP at a
 * steady rate (bench/support/api-loader.ts), and this one, the app side.
 * 1. baseline: GET /api/v1/readings/latest?deviceId=X and the list form without deviceId, paced at --probe-hz
 *    (one request at a time, alternating forms), no ingest: p50, p99, max.
 * 2. the same while the hub ingests --rate readings/s (target p99 < 10 ms); the achieved rate is the hub's
 *    own count of stored readings over the window.
 * 3. WebSocket fan-out: --clients clients on /api/v1/stream (topic readings, every device) while ingesting:
 *    readings/s delivered per client and in total, and the age of each message's newest reading when it
 *    arrives (stamped by the loader when sent: POST, decode, durable store, bus, WebSocket): p50, p99.
 * Prints one JSON line per figure, then one with the machine's load.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { encodeCompactBatch } from '../drivers/codec/encode.js';
import { TEST_TOKEN } from '../test/helpers/hub.js';

const { values } = parseArgs({ options: {
  rate: { type: 'string', default: '10000' }, devices: { type: 'string', default: '20' }, batch: { type: 'string', default: '50' },
  seconds: { type: 'string', default: '10' }, clients: { type: 'string', default: '20' }, 'probe-hz': { type: 'string', default: '200' },
} });
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const PROBE_GAP_MS = 1000 / Number(values['probe-hz']);
const WARM_UP_MS = 2000;
const PROBE_DEVICE = 'probe-dev';
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100) };

function child(script: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return {
    next: async () => JSON.parse((await lines.next()).value as string) as Record<string, number>,
    send: (message: unknown) => proc.stdin!.write(`${JSON.stringify(message)}\n`),
    /** Sends the last command and waits for the child to exit. */
    end: async (message: unknown) => {
      const exited = once(proc, 'exit');
      proc.stdin!.end(`${JSON.stringify(message)}\n`);
      await exited;
    },
  };
}

const hub = child('./support/api-hub.ts');
const { port } = await hub.next();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function call(method: string, path: string, body?: string): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${TEST_TOKEN}` };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function stats(samples: number[]): { n: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN) * 100) / 100;
  return { n: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: Math.round((sorted.at(-1) ?? NaN) * 100) / 100 };
}

async function storedReadings(): Promise<number> {
  const { text } = await call('GET', '/metrics');
  return text.split('\n').filter((l) => l.startsWith('gymhub_readings_stored_total')).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

async function hubCpuMs(): Promise<number> {
  hub.send({ cpu: true });
  return (await hub.next()).cpuMs;
}

/** Paced GETs alternating the two forms for `ms`; latencies per form, and the hub's ingest over the window. */
async function probe(ms: number) {
  const one: number[] = [];
  const list: number[] = [];
  const storedBefore = await storedReadings();
  const cpuBefore = await hubCpuMs();
  const started = performance.now();
  for (let k = 0; performance.now() - started < ms; k++) {
    const due = started + k * PROBE_GAP_MS;
    if (due > performance.now()) await sleep(due - performance.now());
    const answer = await call('GET', k % 2 === 0 ? `/api/v1/readings/latest?deviceId=${PROBE_DEVICE}` : '/api/v1/readings/latest');
    if (answer.status !== 200) throw new Error(`GET latest: HTTP ${answer.status} ${answer.text}`);
    (k % 2 === 0 ? one : list).push(answer.ms);
  }
  const seconds = (performance.now() - started) / 1000;
  const ingestPerS = Math.round(((await storedReadings()) - storedBefore) / seconds);
  return { one: stats(one), list: stats(list), ingestPerS, hubCpuPercent: Math.round(((await hubCpuMs()) - cpuBefore) / seconds / 10) };
}

const seed = encodeCompactBatch({ deviceId: PROBE_DEVICE, t0: Date.now() - 1000, dtMs: 10, seq: 0, samples: Array.from({ length: 100 }, (_, i) => [i / 100, 0.2, 9.8, 0.01, 0.02, 0.03]) });
if ((await call('POST', '/api/v1/readings', seed)).status !== 202) throw new Error('seeding the probe device failed');
await probe(1000); // warm-up: JIT, connections

const baseline = await probe(SECONDS * 1000);
console.log(JSON.stringify({ bench: 'api', figure: 'latest_one_device_latency_idle', ...baseline.one, probeHz: Number(values['probe-hz']), hubCpuPercent: baseline.hubCpuPercent, machine }));
console.log(JSON.stringify({ bench: 'api', figure: 'latest_all_devices_latency_idle', ...baseline.list }));

const loader = child('./support/api-loader.ts');
loader.send({ run: { port, token: TEST_TOKEN, rate: RATE, devices: Number(values.devices), batch: Number(values.batch) } });
await sleep(WARM_UP_MS);
const loaded = await probe(SECONDS * 1000);
const target = { targetIngestPerS: RATE, target: 'p99 < 10 ms' };
console.log(JSON.stringify({ bench: 'api', figure: 'latest_one_device_latency_under_ingest', ...loaded.one, ingestPerS: loaded.ingestPerS, hubCpuPercent: loaded.hubCpuPercent, ...target }));
console.log(JSON.stringify({ bench: 'api', figure: 'latest_all_devices_latency_under_ingest', ...loaded.list, ingestPerS: loaded.ingestPerS, ...target }));

/** Clients on the stream: readings delivered (counted in the text, without parsing it) and message ages. */
const clients = await Promise.all(Array.from({ length: CLIENTS }, () => new Promise<{ ws: WebSocket; readings: number; ages: number[] }>((resolve, reject) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream?topics=readings`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  const client = { ws, readings: 0, ages: [] as number[] };
  ws.on('message', (data) => {
    const text = data.toString();
    for (let at = text.indexOf('"accel":'); at !== -1; at = text.indexOf('"accel":', at + 8)) client.readings++;
    const ts = text.lastIndexOf('"ts":');
    if (ts !== -1) client.ages.push(Date.now() - Number.parseInt(text.slice(ts + 5, ts + 25), 10));
  });
  ws.once('open', () => resolve(client));
  ws.once('error', reject);
})));
await sleep(WARM_UP_MS);
for (const client of clients) {
  client.readings = 0;
  client.ages.length = 0;
}
const storedBefore = await storedReadings();
const cpuBefore = await hubCpuMs();
const fanOutStarted = performance.now();
await sleep(SECONDS * 1000);
const fanOutS = (performance.now() - fanOutStarted) / 1000;
const perClient = clients.map((c) => c.readings / fanOutS);
const ingestPerS = Math.round(((await storedReadings()) - storedBefore) / fanOutS);
const hubCpuPercent = Math.round(((await hubCpuMs()) - cpuBefore) / fanOutS / 10);
const ages = stats(clients.flatMap((c) => c.ages));
for (const client of clients) client.ws.close();
console.log(JSON.stringify({
  bench: 'api', figure: 'stream_fan_out', clients: CLIENTS, ingestPerS, hubCpuPercent,
  deliveredPerClientPerS: { min: Math.round(Math.min(...perClient)), max: Math.round(Math.max(...perClient)) },
  deliveredTotalPerS: Math.round(perClient.reduce((a, b) => a + b, 0)),
  eventLatency: { n: ages.n, p50Ms: ages.p50Ms, p99Ms: ages.p99Ms, maxMs: ages.maxMs },
}));

loader.send({ stop: true });
const load = await loader.next();
await loader.end({});
console.log(JSON.stringify({ bench: 'api', figure: 'load', loader: load, loadavgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) }));
agent.destroy();
await hub.end({ quit: true });
