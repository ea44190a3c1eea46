/**
 * bench/soak: memory of the compiled daemon under a gym's load (SPEC section 11: RSS <= 150 MB with 50
 * devices at 100 Hz for 10 minutes, and flat after warm-up).
 *
 *   node --import tsx bench/soak.ts [--minutes N] [--devices D] [--hz H] [--deployed] [--node-flags="..."] [--no-build]
 *
 * The daemon (`node dist/daemon/main.js run`, built first as install.sh does) runs as a child with its
 * embedded MQTT broker on loopback and a fresh data directory; this process plays the devices: synthetic
 * squats, curls and rests (drivers/simulator), format (b) batches of 100 ms over MQTT QoS 1, paced in real
 * time. Every 10 s one JSON line: the daemon's RSS (from /proc; the anonymous part, its heaps, and the
 * file-backed part, mostly node's own binary, apart), the readings it has stored and the rate. Last line: the
 * verdict, with the RSS at the end of warm-up (the first 3 minutes, or a third of a shorter run) against the
 * rest, its least-squares slope after warm-up, the daemon's CPU time and the machine's load. --deployed runs
 * the daemon's node with the NODE_OPTIONS of deploy/gymhub.service (heap flags), as systemd starts it;
 * without it node runs with its defaults. --node-flags="..." adds flags, e.g. --node-flags=--max-old-space-size=64.
 */
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../daemon/clock.js';
import { startBenchDaemon } from './support/bench-daemon.js';
import { runSyntheticDevice } from '../drivers/simulator/synthetic-device.js';
import { SYNTHETIC_EXERCISES } from '../drivers/simulator/synthetic.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' }, devices: { type: 'string', default: '50' }, hz: { type: 'string', default: '100' },
    'node-flags': { type: 'string', default: '' }, 'no-build': { type: 'boolean' }, deployed: { type: 'boolean' },
  },
});
const MINUTES = Number(values.minutes);
const DEVICES = Number(values.devices);
const HZ = Number(values.hz);
const SAMPLE_EVERY_MS = 10_000;
/** V8 lets a young process's heap grow before it collects in earnest: ~2 minutes here, before RSS levels off. */
const WARMUP_MS = Math.min(180_000, (MINUTES * 60_000) / 3);
const TARGET_RSS_MB = 150;
/** Growth after warm-up above this share of the warm-up RSS is not flat. */
const FLAT_TOLERANCE = 0.1;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };

function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** Resident set size of a process, MB, from /proc (Linux: the Pi and the CI machine): all, anonymous, file-backed. */
async function rss(pid: number): Promise<{ rssMb: number; anonMb: number; fileMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]);
  return { rssMb: mb(kb('VmRSS')), anonMb: mb(kb('RssAnon')), fileMb: mb(kb('RssFile')) };
}

/** CPU seconds (user + system) a process has used, from /proc (in clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The node flags deploy/gymhub.service puts in NODE_OPTIONS. */
async function deployedNodeFlags(): Promise<string[]> {
  const unit = await readFile(join(REPO, 'deploy/gymhub.service'), 'utf8');
  const options = /^Environment="?NODE_OPTIONS=([^"\n]*)"?$/m.exec(unit)?.[1];
  if (options === undefined) throw new Error('deploy/gymhub.service sets no NODE_OPTIONS');
  return options.split(/\s+/).filter(Boolean);
}

/** Least-squares slope of RSS over time, MB per minute. */
function slopeMbPerMin(samples: Array<{ tMs: number; rssMb: number }>): number {
  if (samples.length < 2) return 0;
  const meanT = samples.reduce((sum, s) => sum + s.tMs, 0) / samples.length;
  const meanR = samples.reduce((sum, s) => sum + s.rssMb, 0) / samples.length;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.tMs - meanT) * (s.rssMb - meanR);
    den += (s.tMs - meanT) ** 2;
  }
  return Math.round((num / den) * 60_000 * 100) / 100;
}

/** The store's figures and the windows live recognition has classified (it must be on for the RSS to count). */
async function hubFigures(apiPort: number): Promise<{ readings: number; pendingReadings: number; predictions: number }> {
  const health = (await (await fetch(`http://127.0.0.1:${apiPort}/health`)).json()) as {
    components: { store: { readings: number; pendingReadings: number }; model: { predictions: number } };
  };
  return { ...health.components.store, predictions: health.components.model.predictions };
}

async function main(): Promise<void> {
  if (!values['no-build']) {
    const build = spawn('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => build.on('exit', resolve));
    emit({ bench: 'soak', figure: 'npm-build', ok: code === 0 });
  }
  if (!existsSync(join(REPO, 'dist/daemon/main.js'))) throw new Error('dist/daemon/main.js is missing: npm run build');

  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-bench-soak-'));
  const nodeFlags = [...(values.deployed ? await deployedNodeFlags() : []), ...values['node-flags'].split(/\s+/).filter(Boolean)];
  const hub = await startBenchDaemon(REPO, [...nodeFlags, 'dist/daemon/main.js', 'run'], {
    GYMHUB_DATA_DIR: dataDir, GYMHUB_MQTT_EMBEDDED_PORT: '0', GYMHUB_SERIAL: 'off', GYMHUB_BLE: 'off',
  });
  const daemon = hub.child;
  emit({ bench: 'soak', figure: 'start', ...(await rss(daemon.pid!)), devices: DEVICES, hz: HZ, minutes: MINUTES, nodeFlags, machine, loadavg: loadavg() });
  const cpuAtStart = await cpuSeconds(daemon.pid!);

  const stop = new AbortController();
  // Every device waits on this one signal.
  setMaxListeners(DEVICES + 10, stop.signal);
  const log = pino({ level: 'warn' }, pino.destination(2));
  const devices = Array.from({ length: DEVICES }, (_, d) => runSyntheticDevice({
    deviceId: `soak-${String(d + 1).padStart(2, '0')}`,
    exercise: SYNTHETIC_EXERCISES[d % SYNTHETIC_EXERCISES.length],
    hz: HZ,
    seed: d + 1,
    target: { kind: 'mqtt', url: `mqtt://127.0.0.1:${hub.mqttPort}` },
    clock: systemClock,
    log,
    signal: stop.signal,
  }));

  const samples: Array<{ tMs: number; rssMb: number }> = [];
  const started = performance.now();
  let lastReadings = 0;
  let lastAt = started;
  while (performance.now() - started < MINUTES * 60_000) {
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    const now = performance.now();
    const { readings, pendingReadings } = await hubFigures(hub.apiPort);
    const memory = await rss(daemon.pid!);
    samples.push({ tMs: now - started, rssMb: memory.rssMb });
    emit({ bench: 'soak', figure: 'sample', tS: Math.round((now - started) / 1000), ...memory, readings, pendingReadings, readingsPerS: Math.round((readings - lastReadings) / ((now - lastAt) / 1000)) });
    lastReadings = readings;
    lastAt = now;
  }
  const cpuS = Math.round(((await cpuSeconds(daemon.pid!)) - cpuAtStart) * 10) / 10;
  stop.abort();
  const sent = await Promise.all(devices);
  // Every sample a device got its PUBACK for is stored: the devices have closed, so the count is final.
  const { readings: stored, predictions } = await hubFigures(hub.apiPort);
  const code = await hub.stop();
  await rm(dataDir, { recursive: true, force: true });

  const warm = samples.filter((s) => s.tMs >= WARMUP_MS);
  const atWarmup = warm[0]?.rssMb ?? samples[samples.length - 1].rssMb;
  const end = samples[samples.length - 1].rssMb;
  const maxRss = Math.max(...samples.map((s) => s.rssMb));
  const maxAfterWarmup = Math.max(...warm.map((s) => s.rssMb), atWarmup);
  const minAfterWarmup = Math.min(...warm.map((s) => s.rssMb), atWarmup);
  emit({
    bench: 'soak',
    figure: 'verdict',
    minutes: MINUTES,
    devices: DEVICES,
    hz: HZ,
    samplesSent: sent.reduce((sum, d) => sum + d.samples, 0),
    readingsStored: stored,
    windowsClassified: predictions,
    maxRssMb: maxRss,
    rssAtWarmupMb: atWarmup,
    rssEndMb: end,
    minRssAfterWarmupMb: minAfterWarmup,
    maxRssAfterWarmupMb: maxAfterWarmup,
    slopeAfterWarmupMbPerMin: slopeMbPerMin(warm),
    growthAfterWarmupMb: Math.round((maxAfterWarmup - atWarmup) * 10) / 10,
    flat: maxAfterWarmup - atWarmup <= atWarmup * FLAT_TOLERANCE,
    targetMb: TARGET_RSS_MB,
    ok: maxRss <= TARGET_RSS_MB,
    nodeFlags,
    daemonCpuS: cpuS,
    loadavg: loadavg(),
    daemonExit: code,
  });
}

await main();
