import pino from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { runSyntheticDevice, type SyntheticDeviceResult } from '../../drivers/simulator/synthetic-device.js';
import { isSyntheticExercise, SYNTHETIC_EXERCISES } from '../../drivers/simulator/synthetic.js';
import type { ReplayTarget } from '../../drivers/simulator/replay-targets.js';
import { isDeviceId } from '../../drivers/reading.js';
import { numberFlag, parseFlags, UsageError, type CliIo } from './args.js';

export const SIMULATE_HELP = `Usage: gymhub simulate (--mqtt URL | --http URL) [options]

Synthetic devices: each streams plausible IMU motion (gravity, the periodic motion of the exercise at a
lifter's pace, sensor noise, a sample counter) as format (b) batches, ten a second, exactly as the firmware
does: over MQTT (QoS 1, retained status with last will) or HTTP POST /api/v1/readings. Deterministic: the
same --seed gives the same motion. Prints one JSON line per device when done.

Options:
  --mqtt URL          broker URL, e.g. mqtt://127.0.0.1:1883
  --prefix P          MQTT topic prefix (default gymhub)
  --http URL          hub API base URL, e.g. http://127.0.0.1:8080
  --token T           API bearer token for --http (default: GYMHUB_API_TOKEN)
  --devices N         how many devices (default 1)
  --hz N              samples per second per device (default 100)
  --exercise E        ${SYNTHETIC_EXERCISES.join(' | ')} (default squat)
  --duration S        stop after S seconds (default: run until interrupted)
  --id-prefix P       device ids are P-1 .. P-N (default sim)
  --seed N            motion seed (default 1); device i uses seed + i
  -h, --help          this text
`;

const MAX_DEVICES = 1000;
const MAX_HZ = 1000;

/** `gymhub simulate`; the signal (SIGINT from daemon/main.ts) stops every device. */
export async function simulateCommand(io: CliIo, signal: AbortSignal | undefined = io.signal, clock: Clock = systemClock): Promise<number> {
  const { values } = parseFlags(io.argv, {
    mqtt: { type: 'string' }, prefix: { type: 'string' }, http: { type: 'string' }, token: { type: 'string' },
    devices: { type: 'string' }, hz: { type: 'string' }, exercise: { type: 'string' }, duration: { type: 'string' },
    'id-prefix': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(SIMULATE_HELP);
    return 0;
  }
  const target = targetFrom(values, io.env);
  const devices = numberFlag('devices', values.devices, 1);
  if (!Number.isInteger(devices) || devices < 1 || devices > MAX_DEVICES) throw new UsageError(`--devices must be an integer from 1 to ${MAX_DEVICES}`);
  const hz = numberFlag('hz', values.hz, 100);
  if (hz <= 0 || hz > MAX_HZ) throw new UsageError(`--hz must be above 0 and at most ${MAX_HZ}`);
  const exercise = values.exercise ?? 'squat';
  if (!isSyntheticExercise(exercise)) throw new UsageError(`--exercise must be one of ${SYNTHETIC_EXERCISES.join(', ')}`);
  const durationS = values.duration === undefined ? undefined : numberFlag('duration', values.duration, 0);
  const idPrefix = values['id-prefix'] ?? 'sim';
  if (!isDeviceId(`${idPrefix}-${devices}`)) throw new UsageError(`--id-prefix ${JSON.stringify(idPrefix)} does not make valid device ids`);
  const seed = numberFlag('seed', values.seed, 1);

  const log = pino({ level: io.env.GYMHUB_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const runs: Array<Promise<SyntheticDeviceResult>> = [];
  for (let i = 1; i <= devices; i++) {
    runs.push(runSyntheticDevice({
      deviceId: `${idPrefix}-${i}`,
      exercise,
      hz,
      seed: seed + i,
      target,
      clock,
      log,
      durationMs: durationS === undefined ? undefined : durationS * 1000,
      signal,
    }));
  }
  const settled = await Promise.allSettled(runs);
  let failed = 0;
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') io.stdout.write(`${JSON.stringify(outcome.value)}\n`);
    else {
      failed++;
      io.stderr.write(`gymhub simulate: ${(outcome.reason as Error).message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

function targetFrom(values: { mqtt?: string; prefix?: string; http?: string; token?: string }, env: CliIo['env']): ReplayTarget {
  if ((values.mqtt === undefined) === (values.http === undefined)) throw new UsageError('give exactly one of --mqtt URL, --http URL');
  if (values.mqtt !== undefined) return { kind: 'mqtt', url: values.mqtt, prefix: values.prefix };
  const token = values.token ?? env.GYMHUB_API_TOKEN;
  if (!token) throw new UsageError('--http needs --token or GYMHUB_API_TOKEN');
  return { kind: 'http', url: values.http!, token };
}
