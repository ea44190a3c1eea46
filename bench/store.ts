/**
 * Reading store throughput and footprint (SPEC section 11), one JSON line per figure, in this order:
 *   ten-minutes      50 devices x 100 Hz x 10 min (3,000,000 readings) as fast as they go, each device one
 *                    append of 10 readings per 100 ms tick; peak RSS sampled throughout. It runs first so
 *                    that the RSS is a fresh process's; under tsx, whose loader thread alone adds ~40 MB,
 *                    compare with `baselineRssMb`, the RSS before the run.
 *   reopen           opening that store again (the store's share of start-to-ready)
 *   raw-json-batch   the baseline: db.batch of one key + JSON value per reading, 500 per sync batch
 *   one-device       one device, appends of 10 readings, many in flight at once (an MQTT QoS 1 stream)
 *   iterate          reading that device's readings back through iterate()
 *   fifty-devices    50 devices interleaved, appends of 10 readings, many in flight
 * Options: --readings N (per throughput scenario, default 500000), --inflight N (512), --minutes N (10).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { pino } from 'pino';
import { systemClock } from '../daemon/clock.js';
import { ReadingStore } from '../daemon/store/reading-store.js';
import type { Reading } from '../drivers/reading.js';

const { values } = parseArgs({
  options: { readings: { type: 'string', default: '500000' }, inflight: { type: 'string', default: '512' }, minutes: { type: 'string', default: '10' } },
});
const READINGS = Number(values.readings);
const IN_FLIGHT = Number(values.inflight);
const MINUTES = Number(values.minutes);
const TEN_MINUTE_DEVICES = 50;
const TEN_MINUTE_HZ = 100;
const TICK_MS = 100;
const APPEND_SIZE = 10;
const RAW_BATCH = 500;
const T0 = Date.UTC(2026, 0, 1);
const log = pino({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'gymhub-bench-store-'));

function reading(deviceId: string, i: number): Reading {
  return {
    deviceId,
    ts: T0 + i * 10,
    seq: i,
    accel: [0.23 + (i % 7) * 0.01, -0.01, 9.85],
    gyro: [0.01, 0.012 * (i % 5), 0],
  };
}

function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

async function rawBaseline(): Promise<number> {
  const db = new Level<string, string>(join(root, 'raw'), { valueEncoding: 'utf8' });
  await db.open();
  const started = performance.now();
  for (let i = 0; i < READINGS; i += RAW_BATCH) {
    const ops = [];
    for (let k = i; k < Math.min(READINGS, i + RAW_BATCH); k++) {
      const r = reading('ESP32_001', k);
      ops.push({ type: 'put' as const, key: `r!${r.deviceId}!${String(r.ts).padStart(15, '0')}!${k}`, value: JSON.stringify(r) });
    }
    await db.batch(ops, { sync: true });
  }
  const seconds = (performance.now() - started) / 1000;
  await db.close();
  return READINGS / seconds;
}

/** Keeps IN_FLIGHT appends of APPEND_SIZE readings going until `total` readings are acknowledged. */
async function stream(store: ReadingStore, total: number, deviceOf: (batch: number) => string): Promise<number> {
  let next = 0;
  const perDevice = new Map<string, number>();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const batch = next / APPEND_SIZE;
      next += APPEND_SIZE;
      const deviceId = deviceOf(batch);
      const start = perDevice.get(deviceId) ?? 0;
      perDevice.set(deviceId, start + APPEND_SIZE);
      const readings = Array.from({ length: APPEND_SIZE }, (_, k) => reading(deviceId, start + k));
      await store.append(readings);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return total / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  // First, so that its RSS is that of a fresh process.
  const tenDir = join(root, 'ten-minutes');
  await tenMinutes(tenDir);
  const reopenStarted = performance.now();
  const reopened = new ReadingStore({ dir: tenDir, log, clock: systemClock });
  await reopened.open();
  emit({ bench: 'store', figure: 'reopen', ms: Math.round(performance.now() - reopenStarted), bytes: reopened.stats().bytes, readings: reopened.stats().readings, journalReadings: reopened.stats().journalReadings });
  await reopened.close();

  const raw = await rawBaseline();
  emit({ bench: 'store', figure: 'raw-json-batch', readingsPerS: Math.round(raw), batch: RAW_BATCH, readings: READINGS });

  const oneDir = join(root, 'one');
  const one = new ReadingStore({ dir: oneDir, log, clock: systemClock });
  await one.open();
  const oneRate = await stream(one, READINGS, () => 'ESP32_001');
  emit({ bench: 'store', figure: 'one-device', readingsPerS: Math.round(oneRate), rawReadingsPerS: Math.round(raw), ratio: +(oneRate / raw).toFixed(2), appendSize: APPEND_SIZE, inFlight: IN_FLIGHT, readings: READINGS, bytes: one.stats().bytes });

  let iterated = 0;
  const iterStarted = performance.now();
  for await (const chunk of one.iterate('ESP32_001')) iterated += chunk.length;
  emit({ bench: 'store', figure: 'iterate', readingsPerS: Math.round(iterated / ((performance.now() - iterStarted) / 1000)), readings: iterated });
  await one.close();

  const fiftyDir = join(root, 'fifty');
  const fifty = new ReadingStore({ dir: fiftyDir, log, clock: systemClock });
  await fifty.open();
  const fiftyRate = await stream(fifty, READINGS, (batch) => deviceName(batch % 50));
  const stats = fifty.stats();
  emit({ bench: 'store', figure: 'fifty-devices', readingsPerS: Math.round(fiftyRate), rawReadingsPerS: Math.round(raw), ratio: +(fiftyRate / raw).toFixed(2), devices: 50, appendSize: APPEND_SIZE, inFlight: IN_FLIGHT, readings: READINGS, bytes: stats.bytes, blocks: stats.blocks });
  await fifty.close();

}

function deviceName(n: number): string {
  return `ESP32_${String(n).padStart(3, '0')}`;
}

async function tenMinutes(dir: string): Promise<void> {
  global.gc?.();
  const baselineRss = process.memoryUsage().rss;
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const store = new ReadingStore({ dir, log, clock: systemClock });
  await store.open();
  const perTick = (TEN_MINUTE_HZ * TICK_MS) / 1000;
  const ticks = (MINUTES * 60_000) / TICK_MS;
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    const appends: Promise<void>[] = [];
    for (let d = 0; d < TEN_MINUTE_DEVICES; d++) {
      const deviceId = deviceName(d);
      appends.push(store.append(Array.from({ length: perTick }, (_, k) => reading(deviceId, tick * perTick + k))));
    }
    await Promise.all(appends);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const { readings, bytes } = store.stats();
  emit({
    bench: 'store',
    figure: 'ten-minutes',
    readingsPerS: Math.round(readings / seconds),
    readings,
    bytes,
    simulatedS: MINUTES * 60,
    wallS: +seconds.toFixed(1),
    peakRssMb: Math.round(peakRss / 2 ** 20),
    baselineRssMb: Math.round(baselineRss / 2 ** 20),
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  });
  await store.close();
}

try {
  await main();
} finally {
  rmSync(root, { recursive: true, force: true });
}
