/**
 * bench/startup: start to READY of the compiled daemon with a 1 GB store (SPEC section 11: <= 2 s).
 *
 *   node --import tsx bench/startup.ts [--runs N] [--gib G] [--rebuild] [--no-build]
 *
 * 1. store-build   the store is built once with ReadingStore appends (50 synthetic devices at 100 Hz, until
 *                  the store counts G GiB) into os.tmpdir()/gymhub-bench-1g and kept there for later runs;
 *                  --rebuild makes it again (after a change of the store's layout).
 * 2. node-baseline a bare `node -e ''` start and exit: the floor under any start time on this machine.
 * 3. empty-store   `node dist/daemon/main.js run` on an empty data directory, start to 'gymhub ready'.
 * 4. store         the same on the 1 GB store: start to the 'gymhub ready' log line (which the daemon writes
 *                  when systemd's READY=1 goes out), and to the first answer of GET /health.
 * `npm run build` runs first (unless --no-build), as install.sh does. The page cache is warm after the
 * first run; a cold start after a reboot reads the store's index from disk and is slower.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../daemon/clock.js';
import { ReadingStore } from '../daemon/store/reading-store.js';
import { SyntheticMotion } from '../drivers/simulator/synthetic.js';
import type { Reading } from '../drivers/reading.js';
import { startBenchDaemon } from './support/bench-daemon.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, gib: { type: 'string', default: '1' }, rebuild: { type: 'boolean' }, 'no-build': { type: 'boolean' } },
});
const RUNS = Number(values.runs);
const TARGET_BYTES = Number(values.gib) * 1024 ** 3;
const TARGET_READY_MS = 2_000;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const CACHE_DIR = join(tmpdir(), values.gib === '1' ? 'gymhub-bench-1g' : `gymhub-bench-${values.gib}g`);
const MARKER = join(CACHE_DIR, 'complete.json');
const DEVICES = 50;
const HZ = 100;
/** Readings per append: 5 s of one device, 50 appends in flight (one per device). */
const APPEND_READINGS = 500;
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };

function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** What the store takes on disk (LevelDB's files, compressed), beside what it counts itself. */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

interface BuiltStore {
  readings: number;
  bytes: number;
  buildS: number;
}

async function buildStore(): Promise<BuiltStore & { cached: boolean }> {
  if (!values.rebuild && existsSync(MARKER)) return { ...(JSON.parse(await readFile(MARKER, 'utf8')) as BuiltStore), cached: true };
  await rm(CACHE_DIR, { recursive: true, force: true });
  await mkdir(join(CACHE_DIR, 'data'), { recursive: true });
  const store = new ReadingStore({ dir: join(CACHE_DIR, 'data', 'db'), log: pino({ level: 'silent' }), clock: systemClock, maxBytes: 4 * TARGET_BYTES });
  await store.open();
  const motions = Array.from({ length: DEVICES }, (_, d) => new SyntheticMotion({ exercise: d % 3 === 0 ? 'rest' : d % 3 === 1 ? 'squat' : 'bicep_curl', hz: HZ, seed: d + 1 }));
  // Readings in the past, as a hub that has been running a while holds them; ts at 100 Hz per device.
  const started = performance.now();
  const spanMs = Math.ceil(TARGET_BYTES / 40 / DEVICES / HZ) * 1000;
  const t0 = Date.now() - spanMs - 60_000;
  let tick = 0;
  while (store.stats().bytes < TARGET_BYTES) {
    await Promise.all(motions.map((motion, d) => {
      const deviceId = `ESP32_${String(d).padStart(3, '0')}`;
      const readings: Reading[] = [];
      for (let i = 0; i < APPEND_READINGS; i++) {
        const seq = motion.seq;
        const s = motion.next();
        readings.push({ deviceId, ts: t0 + (seq * 1000) / HZ, seq, accel: [s[0], s[1], s[2]], gyro: [s[3], s[4], s[5]] });
      }
      return store.append(readings);
    }));
    if (++tick % 100 === 0) process.stderr.write(`store-build: ${(store.stats().bytes / 1024 ** 3).toFixed(2)} GiB, ${store.stats().readings} readings\n`);
  }
  await store.flush();
  const { readings, bytes } = store.stats();
  await store.close();
  const built: BuiltStore = { readings, bytes, buildS: +((performance.now() - started) / 1000).toFixed(1) };
  await writeFile(MARKER, JSON.stringify(built));
  return { ...built, cached: false };
}

async function run(command: string, args: string[]): Promise<{ ms: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { ms: performance.now() - started, code };
}

interface StartFigures {
  readyMs: number;
  healthMs: number;
  stopMs: number;
  /** What /health says the store holds: proof the daemon opened the store that was built. */
  storeReadings: number;
}

/** Starts the compiled daemon on dataDir, times 'gymhub ready' and the first /health answer, then SIGTERM. */
async function startOnce(dataDir: string): Promise<StartFigures> {
  const started = performance.now();
  const daemon = await startBenchDaemon(REPO, ['dist/daemon/main.js', 'run'], {
    GYMHUB_DATA_DIR: dataDir, GYMHUB_MQTT_URL: 'off', GYMHUB_SERIAL: 'off', GYMHUB_BLE: 'off',
  });
  const response = await fetch(`http://127.0.0.1:${daemon.apiPort}/health`);
  const healthAt = performance.now();
  if (response.status !== 200) throw new Error(`/health answered ${response.status}`);
  const health = (await response.json()) as { components: { store: { readings: number } } };
  const stopping = performance.now();
  await daemon.stop();
  return {
    readyMs: Math.round(daemon.readyAt - started),
    healthMs: Math.round(healthAt - started),
    stopMs: Math.round(performance.now() - stopping),
    storeReadings: health.components.store.readings,
  };
}

async function main(): Promise<void> {
  if (!values['no-build']) {
    const build = await run('npm', ['run', '--silent', 'build']);
    // tsc still writes dist/ when it reports type errors; the figure says so rather than stopping the bench.
    emit({ bench: 'startup', figure: 'npm-build', ms: Math.round(build.ms), ok: build.code === 0 });
  }
  if (!existsSync(join(REPO, 'dist/daemon/main.js'))) throw new Error('dist/daemon/main.js is missing: npm run build');
  const built = await buildStore();
  emit({ bench: 'startup', figure: 'store-build', ...built, diskBytes: await directoryBytes(join(CACHE_DIR, 'data', 'db')), dir: CACHE_DIR, machine });

  const baselines: number[] = [];
  for (let i = 0; i < RUNS; i++) baselines.push((await run(process.execPath, ['-e', ''])).ms);
  emit({ bench: 'startup', figure: 'node-baseline', medianMs: Math.round(median(baselines)), runs: RUNS });

  const empty = await mkdtemp(join(tmpdir(), 'gymhub-bench-empty-'));
  try {
    const emptyRuns: StartFigures[] = [];
    for (let i = 0; i < RUNS; i++) emptyRuns.push(await startOnce(empty));
    emit({ bench: 'startup', figure: 'empty-store', medianReadyMs: median(emptyRuns.map((r) => r.readyMs)), runs: emptyRuns });
  } finally {
    await rm(empty, { recursive: true, force: true });
  }

  const storeRuns: StartFigures[] = [];
  for (let i = 0; i < RUNS; i++) {
    const figures = await startOnce(join(CACHE_DIR, 'data'));
    storeRuns.push(figures);
    emit({ bench: 'startup', figure: 'store-run', run: i + 1, ...figures });
  }
  const ready = storeRuns.map((r) => r.readyMs);
  emit({
    bench: 'startup',
    figure: 'store', storeGiB: Number(values.gib),
    storeBytes: built.bytes,
    readings: built.readings,
    medianReadyMs: median(ready),
    maxReadyMs: Math.max(...ready),
    medianHealthMs: median(storeRuns.map((r) => r.healthMs)),
    targetMs: TARGET_READY_MS,
    ok: Math.max(...ready) <= TARGET_READY_MS,
  });
}

await main();
