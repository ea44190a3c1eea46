/**
 * bench/dashboard: the browser's memory while the dashboard shows a device streaming at 100 Hz (issue 7: flat
 * for 10 minutes; the hub decimates readings for display and the page keeps bounded buffers).
 *
 *   node --import tsx bench/dashboard.ts [--minutes N] [--devices D] [--hz H] [--sample-s S]
 *
 * The daemon runs from the sources as a child (embedded MQTT broker on loopback, a fresh data directory);
 * this process plays synthetic devices over MQTT in real time (the first squats, in an open session, so
 * predictions, reps and session updates flow too) and runs headless Chromium (/usr/bin/chromium) showing
 * the first device. Every --sample-s seconds one JSON line from the DevTools protocol: the page's JS heap as
 * it is and after a forced garbage collection (what is really retained), DOM nodes, event listeners, the
 * page renderer's RSS from /proc, and the chart's point count. Last line: first/last/max after warm-up (the
 * first 2 minutes, or a fifth of a shorter run) and the slope of the retained heap.
 *
 * Chromium is driven over the bare DevTools protocol, not Playwright: Playwright switches on DevTools' network
 * tracking, which keeps a record of every request inside the page's heap (~300 B a poll, ~13 KB a minute here)
 * and would show as a leak of the page's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startBenchDaemon } from './support/bench-daemon.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import WebSocket from 'ws';
import { systemClock } from '../daemon/clock.js';
import { runSyntheticDevice } from '../drivers/simulator/synthetic-device.js';
import { SYNTHETIC_EXERCISES } from '../drivers/simulator/synthetic.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumMissing } from '../test/dashboard/browser.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' }, devices: { type: 'string', default: '1' }, hz: { type: 'string', default: '100' },
    'sample-s': { type: 'string', default: '15' },
  },
});
const MINUTES = Number(values.minutes);
const DEVICES = Number(values.devices);
const HZ = Number(values.hz);
const SAMPLE_EVERY_MS = Number(values['sample-s']) * 1000;
const WARMUP_MS = Math.min(120_000, (MINUTES * 60_000) / 5);
/** Retained heap growing by more than this after warm-up (or 10% of it, whichever is larger) is not flat. */
const FLAT_TOLERANCE_MB = 0.5;
const TOKEN = 'bench-dashboard-token-0123456789';
const REPO = fileURLToPath(new URL('..', import.meta.url));
const MB = 1024 * 1024;

interface Sample {
  tS: number;
  heapUsedMb: number;
  heapRetainedMb: number;
  heapTotalMb: number;
  domNodes: number;
  listeners: number;
  pageRendererRssMb: number;
  chartPoints: number;
  deviceRate: string | null;
}

function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** RSS of the largest Chromium renderer under `browserPid` (the page's; Chromium keeps a spare one too). */
async function pageRendererRssMb(browserPid: number): Promise<number> {
  const procs = new Map<number, { ppid: number; renderer: boolean; rssKb: number }>();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      procs.set(pid, { ppid: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]), renderer: cmdline.includes('--type=renderer'), rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) });
    } catch {
      // the process ended meanwhile
    }
  }
  const under = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid; p !== undefined && p > 1; p = procs.get(p)?.ppid) if (p === browserPid) return true;
    return false;
  };
  let kb = 0;
  for (const [pid, p] of procs) if (p.renderer && under(pid)) kb = Math.max(kb, p.rssKb);
  return round(kb / 1024, 1);
}

/** Headless Chromium showing one page, driven over the DevTools protocol (one flat session). */
class DevToolsPage {
  readonly errors: string[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: any) => void; reject: (error: Error) => void }>();
  private sessionId = '';

  private constructor(readonly browser: ChildProcess, private readonly socket: WebSocket, private readonly userDataDir: string) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      const waiter = this.pending.get(message.id);
      if (waiter) {
        this.pending.delete(message.id);
        if (message.error) waiter.reject(new Error(message.error.message));
        else waiter.resolve(message.result);
      } else if (message.method === 'Runtime.exceptionThrown') {
        this.errors.push(message.params.exceptionDetails.exception?.description ?? message.params.exceptionDetails.text);
      } else if (message.method === 'Runtime.consoleAPICalled' && message.params.type === 'error') {
        this.errors.push(message.params.args.map((a: { value?: unknown; description?: string }) => a.value ?? a.description).join(' '));
      } else if (message.method === 'Log.entryAdded' && message.params.entry.level === 'error') {
        this.errors.push(message.params.entry.text);
      }
    });
  }

  static async open(width: number, height: number): Promise<DevToolsPage> {
    const userDataDir = await mkdtemp(join(tmpdir(), 'gymhub-bench-chromium-'));
    const args = [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-port=0', `--window-size=${width},${height}`, 'about:blank'];
    const browser = spawn(CHROMIUM_PATH, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const endpoint = await new Promise<string>((resolve, reject) => {
      createInterface({ input: browser.stderr! }).on('line', (line) => {
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(line);
        if (match) resolve(match[1]);
      });
      browser.on('exit', (code) => reject(new Error(`chromium exited with ${code}`)));
    });
    const socket = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 256 * MB });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const page = new DevToolsPage(browser, socket, userDataDir);
    const { targetInfos } = await page.send('Target.getTargets');
    const target = targetInfos.find((t: { type: string }) => t.type === 'page');
    page.sessionId = (await page.send('Target.attachToTarget', { targetId: target.targetId, flatten: true })).sessionId;
    return page;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params, ...(this.sessionId && { sessionId: this.sessionId }) }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  async evaluate<T>(expression: string): Promise<T> {
    return (await this.send('Runtime.evaluate', { expression, returnByValue: true })).result.value as T;
  }

  async close(): Promise<void> {
    this.socket.close();
    const exited = new Promise((resolve) => this.browser.once('exit', resolve));
    this.browser.kill('SIGTERM');
    await exited;
    await rm(this.userDataDir, { recursive: true, force: true });
  }
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

function summary(samples: Sample[], key: keyof Sample) {
  const list = samples.map((s) => s[key] as number);
  return { first: list[0], last: list[list.length - 1], max: Math.max(...list) };
}

/** Opens the dashboard with the token and the watched device already chosen, and waits for the chart. */
async function openDashboard(base: string, watched: string): Promise<DevToolsPage> {
  const page = await DevToolsPage.open(1280, 800);
  try {
    for (const domain of ['Page', 'Runtime', 'Log', 'Performance']) await page.send(`${domain}.enable`);
    await page.send('Page.addScriptToEvaluateOnNewDocument', {
      source: `localStorage.setItem('gymhub.token', ${JSON.stringify(TOKEN)}); localStorage.setItem('gymhub.device', ${JSON.stringify(watched)});`,
    });
    await page.send('Page.navigate', { url: `${base}/` });
    const deadline = Date.now() + 30_000;
    while (!((await page.evaluate<number>(`Number(document.getElementById('chart-accel')?.dataset.points)`)) > 0)) {
      if (Date.now() > deadline) throw new Error(`the chart did not draw within 30 s; page errors: ${page.errors.join('; ')}`);
      await sleep(200);
    }
    return page;
  } catch (err) {
    await page.close();
    throw err;
  }
}

async function sample(page: DevToolsPage, started: number): Promise<Sample> {
  const { metrics } = await page.send('Performance.getMetrics');
  const metric = (name: string) => (metrics as Array<{ name: string; value: number }>).find((m) => m.name === name)?.value ?? 0;
  await page.send('HeapProfiler.collectGarbage');
  const retained = await page.send('Runtime.getHeapUsage');
  const shown = await page.evaluate<{ chartPoints: number; deviceRate: string | null }>(`({
    chartPoints: Number(document.getElementById('chart-accel')?.dataset.points),
    deviceRate: document.querySelector('[aria-pressed="true"] [data-field="rate"]')?.textContent ?? null,
  })`);
  return {
    tS: Math.round((performance.now() - started) / 1000),
    heapUsedMb: round(metric('JSHeapUsedSize') / MB),
    heapRetainedMb: round(retained.usedSize / MB),
    heapTotalMb: round(metric('JSHeapTotalSize') / MB),
    domNodes: metric('Nodes'),
    listeners: metric('JSEventListeners'),
    pageRendererRssMb: await pageRendererRssMb(page.browser.pid!),
    ...shown,
  };
}

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-bench-dashboard-'));
  const cleanups: Array<() => Promise<unknown>> = [() => rm(dataDir, { recursive: true, force: true })];
  const watched = 'dash-01';
  const samples: Sample[] = [];
  let result: Record<string, unknown> = {};
  try {
    // The daemon from the sources, with its embedded broker.
    const daemon = await startBenchDaemon(REPO, ['--import', 'tsx', 'daemon/main.ts', 'run'], {
      GYMHUB_DATA_DIR: dataDir, GYMHUB_API_TOKEN: TOKEN, GYMHUB_MQTT_EMBEDDED_PORT: '0', GYMHUB_SERIAL: 'off', GYMHUB_BLE: 'off',
    });
    cleanups.unshift(async () => (result.daemonExit = await daemon.stop()));
    const base = `http://127.0.0.1:${daemon.apiPort}`;
    emit({ bench: 'dashboard', figure: 'start', minutes: MINUTES, devices: DEVICES, hz: HZ, machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version } });

    const stop = new AbortController();
    setMaxListeners(DEVICES + 10, stop.signal);
    const log = pino({ level: 'warn' }, pino.destination(2));
    const devices = Array.from({ length: DEVICES }, (_, d) => runSyntheticDevice({
      deviceId: `dash-${String(d + 1).padStart(2, '0')}`,
      exercise: SYNTHETIC_EXERCISES[d % SYNTHETIC_EXERCISES.length],
      hz: HZ, seed: d + 1, clock: systemClock, log, signal: stop.signal,
      target: { kind: 'mqtt', url: `mqtt://127.0.0.1:${daemon.mqttPort}` },
    }));
    cleanups.unshift(async () => {
      stop.abort();
      result.samplesSent = (await Promise.all(devices)).reduce((sum, d) => sum + d.samples, 0);
    });
    const session = await fetch(`${base}/api/v1/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ deviceId: watched, candidates: ['squat'] }),
    });
    if (session.status !== 201) throw new Error(`could not start a session: ${session.status} ${await session.text()}`);

    const page = await openDashboard(base, watched);
    cleanups.unshift(() => page.close());
    const started = performance.now();
    while (performance.now() - started < MINUTES * 60_000) {
      await sleep(Math.min(SAMPLE_EVERY_MS, Math.max(0, MINUTES * 60_000 - (performance.now() - started))));
      const figures = await sample(page, started);
      samples.push(figures);
      emit({ bench: 'dashboard', figure: 'sample', ...figures });
    }
    result.pageErrors = page.errors;
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }

  const warm = samples.filter((s) => s.tS * 1000 >= WARMUP_MS);
  const retained = summary(warm, 'heapRetainedMb');
  emit({
    bench: 'dashboard',
    figure: 'verdict',
    minutes: MINUTES,
    devices: DEVICES,
    hz: HZ,
    warmupS: WARMUP_MS / 1000,
    afterWarmup: {
      heapRetainedMb: retained,
      heapUsedMb: summary(warm, 'heapUsedMb'),
      domNodes: summary(warm, 'domNodes'),
      listeners: summary(warm, 'listeners'),
      pageRendererRssMb: summary(warm, 'pageRendererRssMb'),
    },
    retainedSlopeKbPerMin: round(slope(warm.map((s) => [s.tS / 60, s.heapRetainedMb])) * 1024, 1),
    flat: retained.max - retained.first <= Math.max(FLAT_TOLERANCE_MB, retained.first * 0.1),
    ...result,
  });
}

await main();
