import type { Reading } from '../../drivers/reading.js';

export interface AxisStats {
  min: number;
  max: number;
  mean: number;
}

export interface Vec3Stats {
  x: AxisStats;
  y: AxisStats;
  z: AxisStats;
}

/** GET /readings/stats: a device's readings in [from, to) summed up. Sensor figures are absent with no readings. */
export interface RangeStats {
  deviceId: string;
  from: number | null;
  to: number | null;
  count: number;
  firstTs: number | null;
  lastTs: number | null;
  accel?: Vec3Stats;
  gyro?: Vec3Stats;
  /** Over the readings that have a magnetometer value. */
  mag?: Vec3Stats;
  /** Over the readings that have a temperature. */
  temp?: AxisStats;
}

class Axis {
  min = Infinity;
  max = -Infinity;
  sum = 0;
  n = 0;

  add(value: number): void {
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.sum += value;
    this.n += 1;
  }

  result(): AxisStats | undefined {
    return this.n === 0 ? undefined : { min: this.min, max: this.max, mean: this.sum / this.n };
  }
}

class Vec3Axes {
  readonly axes = [new Axis(), new Axis(), new Axis()];

  add(value: readonly number[]): void {
    this.axes[0].add(value[0]);
    this.axes[1].add(value[1]);
    this.axes[2].add(value[2]);
  }

  result(): Vec3Stats | undefined {
    const [x, y, z] = this.axes.map((axis) => axis.result());
    return x && y && z ? { x, y, z } : undefined;
  }
}

/** Accumulates readings (in time order) into RangeStats without keeping them. */
export class RangeStatsAccumulator {
  private count = 0;
  private firstTs: number | null = null;
  private lastTs: number | null = null;
  private readonly accel = new Vec3Axes();
  private readonly gyro = new Vec3Axes();
  private readonly mag = new Vec3Axes();
  private readonly temp = new Axis();

  add(readings: readonly Reading[]): void {
    for (const reading of readings) {
      if (this.firstTs === null) this.firstTs = reading.ts;
      this.lastTs = reading.ts;
      this.count += 1;
      this.accel.add(reading.accel);
      this.gyro.add(reading.gyro);
      if (reading.mag) this.mag.add(reading.mag);
      if (reading.temp !== undefined) this.temp.add(reading.temp);
    }
  }

  result(deviceId: string, from: number | undefined, to: number | undefined): RangeStats {
    const stats: RangeStats = { deviceId, from: from ?? null, to: to ?? null, count: this.count, firstTs: this.firstTs, lastTs: this.lastTs };
    const accel = this.accel.result();
    const gyro = this.gyro.result();
    const mag = this.mag.result();
    const temp = this.temp.result();
    if (accel) stats.accel = accel;
    if (gyro) stats.gyro = gyro;
    if (mag) stats.mag = mag;
    if (temp) stats.temp = temp;
    return stats;
  }
}
