import type { DeviceHello, RejectReason } from './types.js';

/** Standard gravity, m/s^2 per g. */
export const STANDARD_GRAVITY_MS2 = 9.80665;
export const RAD_PER_DEG = Math.PI / 180;

export const MAX_ABS_ACCEL_MS2 = 32 * STANDARD_GRAVITY_MS2;
export const MAX_ABS_GYRO_RAD_S = 40;
/**
 * Deliberately generous: the seed format's own example sends raw magnetometer counts (-14421), so the
 * bound only stops absurd values, it does not check physics.
 */
export const MAX_ABS_MAG_UT = 1_000_000;
/** What MEMS IMUs can report at all (their operating range is about -40..85 C). */
export const MIN_TEMP_C = -60;
export const MAX_TEMP_C = 150;
/** Device times beyond 2100-01-01 in epoch ms are garbage, not clocks. */
export const MAX_DEVICE_TIME_MS = 4_102_444_800_000;
export const MAX_UINT32 = 0xffff_ffff;

export interface CodecLimits {
  /** A JSON payload (MQTT message, HTTP body, serial JSON line) over this is rejected whole. */
  maxJsonBytes: number;
  /** A payload carrying more samples than this is rejected whole. */
  maxSamplesPerPayload: number;
  /** A serial CSV line longer than this (in characters) is rejected. */
  maxCsvLineLength: number;
}

export const DEFAULT_CODEC_LIMITS: Readonly<CodecLimits> = Object.freeze({
  maxJsonBytes: 256 * 1024,
  maxSamplesPerPayload: 2000,
  maxCsvLineLength: 1024,
});

export type DeviceUnits = NonNullable<DeviceHello['units']>;

/** Multipliers from a device's declared units to m/s^2 and rad/s. */
export interface UnitScale {
  accel: number;
  gyro: number;
}

export const SI_SCALE: Readonly<UnitScale> = Object.freeze({ accel: 1, gyro: 1 });

export function unitScale(units: DeviceUnits): UnitScale {
  return {
    accel: units.accel === 'g' ? STANDARD_GRAVITY_MS2 : 1,
    gyro: units.gyro === 'deg/s' ? RAD_PER_DEG : 1,
  };
}

/**
 * One sample on its way through the codec. The codec owns a single draft and every format parser writes
 * into it, so that a rejected or duplicate sample costs no allocation; only accepted samples become
 * Reading objects.
 */
export class SampleDraft {
  /** ax, ay, az (m/s^2), gx, gy, gz (rad/s), mx, my, mz (uT), after unit conversion. */
  readonly values = new Float64Array(9);
  hasMag = false;
  /** NaN when the sample carries no temperature. */
  temp = Number.NaN;
  /** Device time in ms, as sent (not yet unwrapped or mapped). */
  time = 0;
  /** -1 when the sample carries no counter. */
  seq = -1;

  reset(): void {
    this.hasMag = false;
    this.temp = Number.NaN;
    this.time = 0;
    this.seq = -1;
  }
}

export interface SampleProblem {
  reason: RejectReason;
  message: string;
}

const AXES = ['x', 'y', 'z'] as const;

/** Checks a converted draft against SPEC section 3; undefined when it is valid. */
export function checkSample(d: SampleDraft): SampleProblem | undefined {
  const v = d.values;
  const n = d.hasMag ? 9 : 6;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(v[i])) return { reason: 'not_finite', message: `${fieldName(i)} is not a finite number` };
  }
  for (let i = 0; i < 3; i++) {
    if (Math.abs(v[i]) > MAX_ABS_ACCEL_MS2) {
      return { reason: 'accel_range', message: `${fieldName(i)} ${v[i]} m/s^2 is beyond 32 g` };
    }
    if (Math.abs(v[i + 3]) > MAX_ABS_GYRO_RAD_S) {
      return { reason: 'gyro_range', message: `${fieldName(i + 3)} ${v[i + 3]} rad/s is beyond ${MAX_ABS_GYRO_RAD_S} rad/s` };
    }
    if (d.hasMag && Math.abs(v[i + 6]) > MAX_ABS_MAG_UT) {
      return { reason: 'mag_range', message: `${fieldName(i + 6)} ${v[i + 6]} is beyond ${MAX_ABS_MAG_UT}` };
    }
  }
  if (!Number.isNaN(d.temp)) {
    if (!Number.isFinite(d.temp)) return { reason: 'not_finite', message: 'temperature is not a finite number' };
    if (d.temp < MIN_TEMP_C || d.temp > MAX_TEMP_C) {
      return { reason: 'temp_range', message: `temperature ${d.temp} C is not plausible` };
    }
  }
  // Zero is allowed: a device that starts sending the moment it boots has millis() == 0.
  if (!(d.time >= 0 && d.time <= MAX_DEVICE_TIME_MS)) {
    return { reason: 'timestamp', message: `device time ${d.time} is not a plausible time in ms` };
  }
  if (d.seq !== -1 && !isUint32(d.seq)) return { reason: 'seq', message: `seq ${d.seq} is not a uint32` };
  return undefined;
}

export function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_UINT32;
}

function fieldName(i: number): string {
  const group = i < 3 ? 'accel' : i < 6 ? 'gyro' : 'mag';
  return `${group}.${AXES[i % 3]}`;
}
