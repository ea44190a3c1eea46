import { fileURLToPath } from 'node:url';
import { loadRecording, listRecordings, type Recording } from '../../models/dataset.js';
import { seededRandom } from '../../models/random.js';
import type { Sample, Vec3 } from '../../models/sample.js';

/** The shared recordings: GYMHUB_SHARED_DATA when set, else ../shared/data/barbell-imu from the repo root. */
export function sharedDataDir(): string {
  const env = process.env.GYMHUB_SHARED_DATA;
  if (env) return env.endsWith('barbell-imu') || env.endsWith('barbell-imu/') ? env : `${env.replace(/\/+$/, '')}/data/barbell-imu`;
  return fileURLToPath(new URL('../../../shared/data/barbell-imu/', import.meta.url));
}

/** Loads the named recordings (file names) of the shared data set. */
export async function loadShared(files: readonly string[]): Promise<Recording[]> {
  const infos = await listRecordings(sharedDataDir());
  return Promise.all(
    files.map((f) => {
      const info = infos.find((i) => i.file === f);
      if (!info) throw new Error(`no recording ${f} in ${sharedDataDir()}`);
      return loadRecording(info);
    }),
  );
}

/** A uniformly random rotation matrix (row-major 3x3) from a seeded quaternion. */
export function randomRotation(seed: number): number[] {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let [w, x, y, z] = [gauss(), gauss(), gauss(), gauss()];
  const n = Math.hypot(w, x, y, z);
  [w, x, y, z] = [w / n, x / n, y / n, z / n];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

export function rotate(m: readonly number[], v: Vec3): Vec3 {
  return [
    m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
    m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
    m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
  ];
}

/** Still sensor: gravity along `up` plus small seeded noise (accel noise m/s^2, gyro noise rad/s, gyro bias). */
export function stillSamples(count: number, rateHz: number, seed = 1, t0 = 1_000_000): Sample[] {
  const random = seededRandom(seed);
  const noise = (scale: number) => (random() - 0.5) * 2 * scale;
  return Array.from({ length: count }, (_, i) => ({
    ts: t0 + (i * 1000) / rateHz,
    accel: [0.3 + noise(0.02), -2.1 + noise(0.02), 9.55 + noise(0.02)] as Vec3,
    gyro: [0.09 + noise(0.004), -0.01 + noise(0.004), 0.02 + noise(0.004)] as Vec3,
  }));
}
