/**
 * Encoders for the wire formats the codec reads (SPEC section 3), used by the replayer, the simulator and
 * the tests. Values go in the hub's units (m/s^2, rad/s, uT) except where noted.
 */
import type { Vec3 } from '../reading.js';
import { BLE_ACCEL_MS2_PER_LSB, BLE_FLAG_MAG, BLE_FRAME_VERSION, BLE_GYRO_RAD_S_PER_LSB, BLE_HEADER_BYTES, BLE_MAG_UT_PER_LSB, BLE_MAX_SAMPLES, bleFrameBytes } from './ble-frame.js';

export interface CompactBatch {
  deviceId: string;
  /** Device time of the first sample, ms. */
  t0: number;
  /** Interval between samples, ms. */
  dtMs: number;
  seq?: number;
  /** Each [ax, ay, az, gx, gy, gz] or with [mx, my, mz] appended. */
  samples: number[][];
}

/** Format (b) as a JSON string. */
export function encodeCompactBatch(batch: CompactBatch): string {
  const body: Record<string, unknown> = { d: batch.deviceId, t0: batch.t0, dt: batch.dtMs };
  if (batch.seq !== undefined) body.seq = batch.seq;
  body.s = batch.samples;
  return JSON.stringify(body);
}

export interface SeedSample {
  deviceId: string;
  /** Device time, ms (epoch ms for a wall-clock device, millis since boot otherwise). */
  timestamp: number;
  accel: Vec3;
  gyro: Vec3;
  mag?: Vec3;
  temp?: number;
  seq?: number;
}

/** Format (a): one sample as an object, several as an array, in the seed's field names. */
export function encodeSeedJson(samples: SeedSample | SeedSample[]): string {
  return JSON.stringify(Array.isArray(samples) ? samples.map(seedObject) : seedObject(samples));
}

function seedObject(s: SeedSample): Record<string, unknown> {
  const o: Record<string, unknown> = {
    device_id: s.deviceId,
    timestamp: s.timestamp,
    magnetometer_available: s.mag !== undefined,
    accelerometer: xyz(s.accel),
    gyroscope: xyz(s.gyro),
  };
  if (s.mag) o.magnetometer = xyz(s.mag);
  if (s.temp !== undefined) o.temperature = s.temp;
  if (s.seq !== undefined) o.seq = s.seq;
  return o;
}

function xyz(v: Vec3): { x: number; y: number; z: number } {
  return { x: v[0], y: v[1], z: v[2] };
}

/** Format (c), without the line ending: node,millis,ax,ay,az,gx,gy,gz[,mx,my,mz]. */
export function encodeCsvLine(node: number, millis: number, values: readonly number[]): string {
  return `${node},${millis},${values.join(',')}`;
}

export interface BleFrameInput {
  /** seq of the first sample; taken modulo 65536. */
  seq: number;
  /** Device ms of the first sample; taken modulo 2^32. */
  t0: number;
  /** Interval between samples, microseconds (0..65535). */
  dtUs: number;
  /** Each [ax, ay, az, gx, gy, gz] (+ [mx, my, mz] when mag), in m/s^2, rad/s and uT. */
  samples: number[][];
  /** Send magnetometer values; default: when the first sample has 9 values. */
  mag?: boolean;
}

/**
 * Format (d). Values are rounded to the frame's resolution (1 milli-g, 0.1 deg/s, 0.1 uT) and saturate at
 * the int16 limits, as a real sensor's registers do.
 */
export function encodeBleFrame(input: BleFrameInput): Uint8Array {
  const count = input.samples.length;
  if (count > BLE_MAX_SAMPLES) throw new RangeError(`a BLE frame holds at most ${BLE_MAX_SAMPLES} samples, got ${count}`);
  if (!Number.isInteger(input.dtUs) || input.dtUs < 0 || input.dtUs > 0xffff) throw new RangeError(`dtUs ${input.dtUs} is not a u16`);
  const mag = input.mag ?? (input.samples[0]?.length ?? 0) >= 9;
  const frame = new Uint8Array(bleFrameBytes(count, mag));
  const view = new DataView(frame.buffer);
  view.setUint8(0, BLE_FRAME_VERSION);
  view.setUint8(1, mag ? BLE_FLAG_MAG : 0);
  view.setUint16(2, input.seq & 0xffff, true);
  view.setUint32(4, input.t0 >>> 0, true);
  view.setUint16(8, input.dtUs, true);
  view.setUint8(10, count);
  const perSample = mag ? 9 : 6;
  let at = BLE_HEADER_BYTES;
  for (const sample of input.samples) {
    for (let k = 0; k < perSample; k++, at += 2) {
      const lsb = k < 3 ? BLE_ACCEL_MS2_PER_LSB : k < 6 ? BLE_GYRO_RAD_S_PER_LSB : BLE_MAG_UT_PER_LSB;
      view.setInt16(at, toInt16((sample[k] ?? 0) / lsb), true);
    }
  }
  return frame;
}

function toInt16(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.max(-32768, Math.min(32767, Math.round(x)));
}
