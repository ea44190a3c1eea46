import type { Logger } from 'pino';
import type { Clock } from '../../daemon/clock.js';
import { encodeCompactBatch } from '../codec/encode.js';
import { sinkForTarget, type ReplayTarget } from './replay-targets.js';
import { SyntheticMotion, type SyntheticExercise } from './synthetic.js';

/** A device batches what it sampled in this span into one format (b) message (10 messages/s, like the firmware). */
export const SYNTHETIC_BATCH_SPAN_MS = 100;

export interface SyntheticDeviceOptions {
  deviceId: string;
  exercise: SyntheticExercise;
  hz: number;
  seed: number;
  target: ReplayTarget;
  clock: Clock;
  log: Logger;
  /** 1 = real time (default); 2 sends two seconds of motion per second. */
  speed?: number;
  /** Stop after this much device time (ms); without it (and without reps) the device runs until aborted. */
  durationMs?: number;
  /** Stop after this many whole reps (a set). */
  reps?: number;
  signal?: AbortSignal;
}

export interface SyntheticDeviceResult {
  deviceId: string;
  /** Samples sent (and, over MQTT QoS 1 or HTTP, acknowledged). */
  samples: number;
  messages: number;
  reps: number;
  durationMs: number;
}

/**
 * Streams one synthetic device as the firmware would: format (b) batches with a sample counter, stamped with a
 * synced wall clock, sent when the batch's last sample is taken, paced by the clock.
 */
export async function runSyntheticDevice(options: SyntheticDeviceOptions): Promise<SyntheticDeviceResult> {
  const { clock, hz } = options;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be positive, got ${speed}`);
  const motion = new SyntheticMotion({ exercise: options.exercise, hz, seed: options.seed });
  const dtMs = 1000 / hz;
  const perBatch = Math.max(1, Math.round(SYNTHETIC_BATCH_SPAN_MS / dtMs));
  const sink = await sinkForTarget(options.target, options.deviceId, hz, options.log);
  const started = clock.now();
  let messages = 0;
  let sent = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) break;
      if (options.durationMs !== undefined && motion.seq * dtMs >= options.durationMs) break;
      if (options.reps !== undefined && motion.reps >= options.reps) break;
      const firstSeq = motion.seq;
      const samples: number[][] = [];
      for (let k = 0; k < perBatch; k++) samples.push(motion.next());
      // Device time of the batch's last sample; at speed 1 it is the wall clock when the batch is sent.
      const lastDeviceMs = (motion.seq - 1) * dtMs;
      await waitUntil(clock, started + lastDeviceMs / speed, options.signal);
      if (options.signal?.aborted) break;
      const t0 = started + firstSeq * dtMs;
      await sink.sendBatch(encodeCompactBatch({ deviceId: options.deviceId, t0: Math.round(t0 * 10) / 10, dtMs: Math.round(dtMs * 1000) / 1000, seq: firstSeq, samples }));
      messages++;
      sent += samples.length;
    }
  } finally {
    await sink.close();
  }
  return { deviceId: options.deviceId, samples: sent, messages, reps: motion.reps, durationMs: clock.now() - started };
}

function waitUntil(clock: Clock, due: number, signal: AbortSignal | undefined): Promise<void> {
  const wait = due - clock.now();
  if (wait <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, wait);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
