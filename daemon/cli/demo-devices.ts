import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { defaultDataDir } from '../../models/data-dir.js';
import type { Clock } from '../clock.js';
import { replayRecording } from '../../drivers/simulator/replay.js';
import { runSyntheticDevice } from '../../drivers/simulator/synthetic-device.js';
import type { SyntheticExercise } from '../../drivers/simulator/synthetic.js';

/** One demo station: a device, what it does, what the station allows. */
export interface DemoDevice {
  deviceId: string;
  /** The exercise it performs (the true label). */
  exercise: string;
  /** The station's possible exercises, sent as the session's candidates (SPEC section 6). */
  candidates: string[];
  source: { kind: 'recording'; file: string; reps: number | undefined } | { kind: 'synthetic'; exercise: SyntheticExercise; seed: number };
}

interface Station {
  deviceId: string;
  exercise: SyntheticExercise;
  folder: string;
  /** Clean recordings at a steady rate, tried first; else the folder's first file. */
  preferred: string[];
  candidates: string[];
}

const STATIONS: Station[] = [
  { deviceId: 'squat-1', exercise: 'squat', folder: 'squat', preferred: ['squat_adam_set1_reps10_1.csv'], candidates: ['squat'] },
  // SPEC section 6's curl bench: curls or shoulder presses, recognition tells which.
  { deviceId: 'curl-1', exercise: 'bicep_curl', folder: 'bicep_curl', preferred: ['bicep_adam_set1_reps10_1.csv'], candidates: ['bicep_curl', 'shoulder_press'] },
];

/** Synthetic sets: as many reps as the recordings' sets. */
export const SYNTHETIC_SET_REPS = 10;
const SYNTHETIC_HZ = 50;

/**
 * The demo's devices: the real recordings of a squat set and a curl set when the shared data is there
 * (GYMHUB_SHARED_DATA, or ../shared/data/barbell-imu beside the repository), else synthetic devices.
 */
export async function demoDevices(env: Record<string, string | undefined>, forceSynthetic: boolean): Promise<DemoDevice[]> {
  const dataDir = forceSynthetic ? undefined : await defaultDataDir(env);
  const devices: DemoDevice[] = [];
  for (const [index, station] of STATIONS.entries()) {
    const file = dataDir === undefined ? undefined : await pickRecording(join(dataDir, station.folder), station.preferred);
    devices.push({
      deviceId: station.deviceId,
      exercise: station.exercise,
      candidates: station.candidates,
      source: file
        ? { kind: 'recording', file, reps: repsInFileName(file) }
        : { kind: 'synthetic', exercise: station.exercise, seed: index + 1 },
    });
  }
  return devices;
}

async function pickRecording(folder: string, preferred: string[]): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => n.toLowerCase().endsWith('.csv')).sort();
  } catch {
    return undefined;
  }
  const name = preferred.find((p) => names.includes(p)) ?? names[0];
  return name === undefined ? undefined : join(folder, name);
}

/** squat_adam_set1_reps10_1.csv -> 10 (the data's naming: rep[s]<R>). */
export function repsInFileName(file: string): number | undefined {
  const match = /_reps?(\d+)_/.exec(basename(file));
  return match ? Number(match[1]) : undefined;
}

export function describeSource(device: DemoDevice): string {
  return device.source.kind === 'recording' ? `recording ${basename(device.source.file)}` : `synthetic ${device.source.exercise}, ${SYNTHETIC_SET_REPS} reps a set`;
}

export interface PlaySetOptions {
  device: DemoDevice;
  mqttUrl: string;
  speed: number;
  /** 1 for the first set: synthetic sets differ from one another as a lifter's do. */
  set: number;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
}

/** One set of a device over MQTT, as the device would send it; resolves when the set is done or aborted. */
export async function playSet({ device, mqttUrl, speed, set, clock, log, signal }: PlaySetOptions): Promise<void> {
  const target = { kind: 'mqtt' as const, url: mqttUrl };
  if (device.source.kind === 'recording') {
    await replayRecording({ file: device.source.file, target, speed, deviceId: device.deviceId, clock, log, signal });
  } else {
    await runSyntheticDevice({
      deviceId: device.deviceId,
      exercise: device.source.exercise,
      hz: SYNTHETIC_HZ,
      seed: device.source.seed * 1000 + set,
      target,
      clock,
      log,
      speed,
      reps: SYNTHETIC_SET_REPS,
      signal,
    });
  }
}
