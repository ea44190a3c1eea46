import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../daemon/clock.js';
import { encodeCompactBatch } from '../codec/encode.js';
import { parseRecordingCsv } from '../codec/recording.js';
import { planCompactBatches, type PlannedBatch, type RecordingRow } from './replay-plan.js';
import { sinkForTarget, type ReplayTarget } from './replay-targets.js';

export type { ReplayTarget } from './replay-targets.js';

export interface ReplayOptions {
  file: string;
  target: ReplayTarget;
  /** 1 = real time, 10 = ten times faster, 0 = as fast as the transport takes it. */
  speed: number;
  /** The device's id; defaults to one made from the file name. */
  deviceId?: string;
  clock: Clock;
  log: Logger;
  /** Stops the replay early (e.g. on SIGINT). */
  signal?: AbortSignal;
}

export interface ReplayResult {
  deviceId: string;
  rows: number;
  badLines: number;
  /** Lines (serial) or format (b) batches (mqtt, http) sent. */
  messages: number;
  /** Samples sent (serial: every row; mqtt/http: rows that were new sensor reads). */
  samples: number;
  durationMs: number;
}

/** Streams a recording exactly as the device would: format (c) lines over serial, format (b) batches over MQTT and HTTP. */
export async function replayRecording(options: ReplayOptions): Promise<ReplayResult> {
  const text = await readFile(options.file, 'utf8');
  const parsed = parseRecordingCsv(text);
  const rows: RecordingRow[] = parsed.rows;
  const deviceId = options.deviceId ?? deviceIdFromFile(options.file);
  const sink = await sinkForTarget(options.target, deviceId, estimateHz(rows), options.log);
  const started = options.clock.now();
  let messages = 0;
  let samples = 0;
  try {
    if (options.target.kind === 'serial') {
      const origin = rows[0]?.millis ?? 0;
      const lines = text.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.length > 0);
      const millisOf = (line: string) => Number(line.split(',')[1]);
      for (const line of lines) {
        if (options.signal?.aborted) break;
        const millis = millisOf(line);
        if (Number.isFinite(millis)) await waitUntil(options, started, millis - origin);
        await sink.sendLine(line);
        messages++;
        samples++;
      }
    } else {
      const wallOrigin = options.clock.now();
      for (const batch of planCompactBatches(rows)) {
        if (options.signal?.aborted) break;
        await waitUntil(options, started, batch.atMs);
        await sink.sendBatch(encodeBatch(deviceId, wallOrigin, batch));
        messages++;
        samples += batch.samples.length;
      }
    }
  } finally {
    await sink.close();
  }
  return { deviceId, rows: rows.length, badLines: parsed.badLines.length, messages, samples, durationMs: options.clock.now() - started };
}

/** A device with a synced wall clock: t0 is when the first sample was taken, in ms since the epoch. */
function encodeBatch(deviceId: string, wallOrigin: number, batch: PlannedBatch): string {
  return encodeCompactBatch({ deviceId, t0: wallOrigin + batch.t0Ms, dtMs: batch.dtMs, seq: batch.seq, samples: batch.samples });
}

async function waitUntil(options: ReplayOptions, started: number, deviceOffsetMs: number): Promise<void> {
  if (options.speed <= 0) return;
  const due = started + deviceOffsetMs / options.speed;
  const wait = due - options.clock.now();
  if (wait <= 0) return;
  await new Promise<void>((resolve) => {
    const onAbort = () => {
      options.clock.clearTimeout(timer);
      resolve();
    };
    const timer = options.clock.setTimeout(() => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve();
    }, wait);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** squat_adam_set1_reps10_1.csv -> replay-squat_adam_set1_reps10_1 (within the deviceId pattern). */
export function deviceIdFromFile(file: string): string {
  return `replay-${basename(file).replace(/\.csv$/i, '').replace(/[^A-Za-z0-9_.:-]/g, '_')}`.slice(0, 64);
}

function estimateHz(rows: RecordingRow[]): number {
  if (rows.length < 2) return 0;
  const spanS = (rows[rows.length - 1].millis - rows[0].millis) / 1000;
  return spanS > 0 ? Math.round(rows.length / spanS) : 0;
}
