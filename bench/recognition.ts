/**
 * bench/recognition.ts (proposed): readings/s through RecognitionService.push (the bus 'readings' listener) for 10 devices at 100 Hz, with
 * and without an active session per device, against a baseline that only walks the same readings.
 *
 *   node --expose-gc --import tsx bench/recognition.ts   (env BENCH_DEVICES=10, BENCH_SECONDS=120)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import pino from 'pino';
import { systemClock } from '../daemon/clock.js';
import { EventBus } from '../daemon/event-bus.js';
import { PredictionStore } from '../daemon/recognition/prediction-store.js';
import { RecognitionService } from '../daemon/recognition/recognition-service.js';
import type { Session } from '../daemon/sessions/types.js';
import type { Reading } from '../drivers/reading.js';
import { ModelRegistry, loadBundledModel } from '../models/index.js';
import { defaultDataDir } from '../models/data-dir.js';
import { listRecordings, loadRecording } from '../models/dataset.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10);
const BATCH = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
const log = pino({ level: 'silent' });
const infos = (await listRecordings(await defaultDataDir(process.env))).slice(0, 10);
const recordings = await Promise.all(infos.map(loadRecording));
const t0 = Date.now();
/** Each device: its recording resampled by index to 100 Hz, looped for SECONDS. */
const streams: Reading[][] = Array.from({ length: DEVICES }, (_, d) => recordings[d % recordings.length]).map((rec, d) => Array.from({ length: SECONDS * 100 }, (_, i) => {
  const s = rec.samples[i % rec.samples.length];
  return { deviceId: `dev-${d}`, ts: t0 + i * 10, accel: s.accel, gyro: s.gyro };
}));
const batches: Reading[][] = [];
for (let i = 0; i < SECONDS * 100; i += BATCH) for (const s of streams) batches.push(s.slice(i, i + BATCH));
const total = batches.reduce((n, b) => n + b.length, 0);

async function run(withSessions: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-rec-'));
  const bus = new EventBus(log);
  const sessions = new Map<string, Session>();
  if (withSessions) for (let d = 0; d < DEVICES; d++) sessions.set(`dev-${d}`, { id: `S${d}`, deviceId: `dev-${d}`, startedAt: t0, status: 'active', synced: false });
  const predictions = new PredictionStore({ dir: join(dir, 'p'), log, clock: systemClock });
  await predictions.open();
  const service = new RecognitionService({
    bus, log, clock: systemClock, predictions,
    registry: new ModelRegistry({ dataDir: dir, loadBundled: loadBundledModel }),
    readings: { async *iterate() {} },
    sessions: {
      active: (id) => sessions.get(id), candidatesFor: () => undefined,
      recordRecognition: async () => undefined, list: async () => ({ items: [], nextCursor: null }),
    },
  });
  await service.start();
  let repsEvents = 0;
  bus.on('reps', 'bench', () => repsEvents++);
  const start = performance.now();
  for (let i = 0; i < batches.length; i++) {
    service.push(batches[i]);
    if (i % 200 === 0) await turn();
  }
  const ms = performance.now() - start;
  global.gc?.();
  const heapMB = Math.round(process.memoryUsage().heapUsed / 1e6);
  await service.stop();
  await predictions.close();
  const status = service.status();
  const reps = repsEvents;
  await rm(dir, { recursive: true, force: true });
  return { readingsPerS: Math.round(total / (ms / 1000)), windows: status.predictions, repsEvents: reps, ms: Math.round(ms), heapMB };
}

function baseline() {
  const start = performance.now();
  let sum = 0;
  for (const b of batches) for (const r of b) sum += r.accel[0] + r.gyro[2] + r.ts;
  const ms = performance.now() - start;
  return { readingsPerS: Math.round(total / (ms / 1000)), check: Math.round(sum) % 10 };
}

global.gc?.();
console.log(JSON.stringify({ heapBeforeMB: Math.round(process.memoryUsage().heapUsed / 1e6) }));
console.log(JSON.stringify({ bench: 'recognition.push', devices: DEVICES, hz: 100, readings: total, baseline: baseline() }));
console.log(JSON.stringify({ bench: 'recognition.push', sessions: false, ...(await run(false)) }));
console.log(JSON.stringify({ bench: 'recognition.push', sessions: true, ...(await run(true)) }));
