import type { Reading } from '../../drivers/reading.js';
import { roundFloat32 } from './float32-round.js';

/** Bits of `present`: which optional fields a sample has. */
export const HAS_SEQ = 1;
export const HAS_MAG = 2;
export const HAS_TEMP = 4;

const IMU_VALUES = 6;
const MAG_VALUES = 3;
const MIN_CAPACITY = 16;

/**
 * Readings of one device, column by column, in the precision they are stored with (float64 ts, float32
 * sensors, uint32 seq). The in-memory tail, the block codec and the journal all use it, so a reading reads back
 * the same whether it is still in the journal or already in a block, and a tail of 256 readings is a handful of
 * typed arrays rather than 256 objects of arrays.
 *
 * Appends only ever write past `length`, and growing copies into new arrays: a reader that noted
 * (columns, length) keeps a valid view of the first `length` samples while appends go on.
 */
export class SampleColumns {
  length = 0;
  ts: Float64Array;
  /** accel x, y, z then gyro x, y, z, per sample */
  imu: Float32Array;
  mag: Float32Array;
  temp: Float32Array;
  seq: Uint32Array;
  present: Uint8Array;

  constructor(capacity = MIN_CAPACITY) {
    const size = Math.max(1, capacity);
    this.ts = new Float64Array(size);
    this.imu = new Float32Array(size * IMU_VALUES);
    this.mag = new Float32Array(size * MAG_VALUES);
    this.temp = new Float32Array(size);
    this.seq = new Uint32Array(size);
    this.present = new Uint8Array(size);
  }

  static fromReadings(readings: readonly Reading[]): SampleColumns {
    const columns = new SampleColumns(readings.length);
    for (const reading of readings) columns.push(reading);
    return columns;
  }

  get capacity(): number {
    return this.ts.length;
  }

  /** Forgets every sample and keeps the arrays: only for columns no reader can hold a view of (a device's tail). */
  clear(): void {
    this.length = 0;
  }

  push(reading: Reading): void {
    if (this.length === this.capacity) this.grow(this.length + 1);
    const i = this.length;
    const o = i * IMU_VALUES;
    const { accel, gyro } = reading;
    this.ts[i] = reading.ts;
    this.imu[o] = accel[0];
    this.imu[o + 1] = accel[1];
    this.imu[o + 2] = accel[2];
    this.imu[o + 3] = gyro[0];
    this.imu[o + 4] = gyro[1];
    this.imu[o + 5] = gyro[2];
    let present = 0;
    if (reading.seq !== undefined) {
      this.seq[i] = reading.seq;
      present |= HAS_SEQ;
    }
    if (reading.mag !== undefined) {
      const m = i * MAG_VALUES;
      this.mag[m] = reading.mag[0];
      this.mag[m + 1] = reading.mag[1];
      this.mag[m + 2] = reading.mag[2];
      present |= HAS_MAG;
    }
    if (reading.temp !== undefined) {
      this.temp[i] = reading.temp;
      present |= HAS_TEMP;
    }
    this.present[i] = present;
    this.length = i + 1;
  }

  /** Appends samples [start, end) of another column set. */
  appendFrom(other: SampleColumns, start = 0, end = other.length): void {
    const count = end - start;
    if (count <= 0) return;
    if (this.length + count > this.capacity) this.grow(this.length + count);
    const at = this.length;
    this.ts.set(other.ts.subarray(start, end), at);
    this.imu.set(other.imu.subarray(start * IMU_VALUES, end * IMU_VALUES), at * IMU_VALUES);
    this.mag.set(other.mag.subarray(start * MAG_VALUES, end * MAG_VALUES), at * MAG_VALUES);
    this.temp.set(other.temp.subarray(start, end), at);
    this.seq.set(other.seq.subarray(start, end), at);
    this.present.set(other.present.subarray(start, end), at);
    this.length = at + count;
  }

  /** Sample i as a canonical reading, float32 values rounded to the 7 digits they hold. */
  reading(i: number, deviceId: string): Reading {
    const o = i * IMU_VALUES;
    const imu = this.imu;
    const present = this.present[i];
    const accel: Reading['accel'] = [roundFloat32(imu[o]), roundFloat32(imu[o + 1]), roundFloat32(imu[o + 2])];
    const gyro: Reading['gyro'] = [roundFloat32(imu[o + 3]), roundFloat32(imu[o + 4]), roundFloat32(imu[o + 5])];
    const reading: Reading = (present & HAS_SEQ) !== 0
      ? { deviceId, ts: this.ts[i], seq: this.seq[i], accel, gyro }
      : { deviceId, ts: this.ts[i], accel, gyro };
    if ((present & HAS_MAG) !== 0) {
      const m = i * MAG_VALUES;
      reading.mag = [roundFloat32(this.mag[m]), roundFloat32(this.mag[m + 1]), roundFloat32(this.mag[m + 2])];
    }
    if ((present & HAS_TEMP) !== 0) reading.temp = roundFloat32(this.temp[i]);
    return reading;
  }

  /** The readings of [start, end) whose ts lies in [from, to). */
  readings(deviceId: string, from = -Infinity, to = Infinity, start = 0, end = this.length): Reading[] {
    const out: Reading[] = [];
    for (let i = start; i < end; i++) {
      const ts = this.ts[i];
      if (ts >= from && ts < to) out.push(this.reading(i, deviceId));
    }
    return out;
  }

  /** Index of the sample with the greatest ts (the last one among equals), or -1 when empty. */
  newestIndex(): number {
    let best = -1;
    for (let i = 0; i < this.length; i++) if (best < 0 || this.ts[i] >= this.ts[best]) best = i;
    return best;
  }

  isSortedByTs(): boolean {
    for (let i = 1; i < this.length; i++) if (this.ts[i] < this.ts[i - 1]) return false;
    return true;
  }

  /** A copy sorted by ts; samples with equal ts keep their order (arrival order). */
  sortedByTs(): SampleColumns {
    const order = Array.from({ length: this.length }, (_, i) => i);
    order.sort((a, b) => this.ts[a] - this.ts[b] || a - b);
    const sorted = new SampleColumns(this.length);
    for (const i of order) sorted.appendFrom(this, i, i + 1);
    return sorted;
  }

  /** OR of the presence bits of [start, end): which optional columns a block of them needs. */
  presentIn(start = 0, end = this.length): number {
    let bits = 0;
    for (let i = start; i < end; i++) bits |= this.present[i];
    return bits;
  }

  private grow(needed: number): void {
    const next = new SampleColumns(Math.max(needed, this.capacity * 2, MIN_CAPACITY));
    next.appendFrom(this);
    this.ts = next.ts;
    this.imu = next.imu;
    this.mag = next.mag;
    this.temp = next.temp;
    this.seq = next.seq;
    this.present = next.present;
  }
}
