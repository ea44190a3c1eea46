import type { Clock } from './clock.js';
import type { DeviceInfo } from '../drivers/driver.js';
import type { Reading, Transport } from '../drivers/reading.js';

/** Readings per second are measured over this trailing window. */
export const RATE_WINDOW_MS = 10_000;
const RATE_BUCKET_MS = 1_000;

export interface DeviceView {
  deviceId: string;
  transport: Transport | null;
  firstSeen: number | null;
  lastSeen: number | null;
  /** Readings/s over the last RATE_WINDOW_MS. */
  rate: number;
  readings: number;
  /** Samples the device's counter says were lost (seq gaps). */
  dropped: number;
  duplicates: number;
  rejected: number;
  battery: number | null;
  fw: string | null;
  hz: number | null;
  online: boolean | null;
  paired: boolean;
}

interface DeviceEntry extends DeviceView {
  /** Ring of per-second reading counts for the rate; bucketIds says which second each slot holds. */
  buckets: Float64Array;
  bucketIds: Float64Array;
}

export interface CodecCounters {
  duplicates: number;
  gaps: number;
  rejected: number;
}

/**
 * Live status of every device the hub has heard from: transport, lastSeen, measured rate, drops, battery.
 * Counts come from the codec (`codecCounters`), so nothing is counted twice.
 */
export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceEntry>();

  constructor(
    private readonly clock: Clock,
    private readonly codecCounters: (deviceId: string) => CodecCounters | undefined,
    private readonly isPaired: (deviceId: string) => boolean,
  ) {}

  /** Seeds a device known from the store (after a restart) without counting it as traffic. */
  seed(deviceId: string, lastSeen: number | null): void {
    const entry = this.entry(deviceId);
    if (lastSeen !== null && (entry.lastSeen === null || lastSeen > entry.lastSeen)) entry.lastSeen = lastSeen;
  }

  recordReadings(transport: Transport, readings: Reading[]): void {
    const now = this.clock.now();
    let current: DeviceEntry | undefined;
    for (const reading of readings) {
      if (current?.deviceId !== reading.deviceId) {
        current = this.entry(reading.deviceId);
        current.transport = transport;
        current.lastSeen = now;
        current.firstSeen ??= now;
      }
      current.readings++;
      this.bump(current, now);
    }
  }

  recordInfo(deviceId: string, transport: Transport, info: DeviceInfo): void {
    const entry = this.entry(deviceId);
    entry.transport ??= transport;
    if (info.battery !== undefined) entry.battery = info.battery;
    if (info.fw !== undefined) entry.fw = info.fw;
    if (info.hz !== undefined) entry.hz = info.hz;
    if (info.online !== undefined) entry.online = info.online;
  }

  get(deviceId: string): DeviceView | undefined {
    const entry = this.devices.get(deviceId);
    return entry && this.view(entry);
  }

  list(): DeviceView[] {
    return [...this.devices.values()].map((e) => this.view(e)).sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  forget(deviceId: string): boolean {
    return this.devices.delete(deviceId);
  }

  private entry(deviceId: string): DeviceEntry {
    let entry = this.devices.get(deviceId);
    if (!entry) {
      entry = {
        deviceId, transport: null, firstSeen: null, lastSeen: null, rate: 0, readings: 0, dropped: 0, duplicates: 0,
        rejected: 0, battery: null, fw: null, hz: null, online: null, paired: false,
        buckets: new Float64Array(RATE_WINDOW_MS / RATE_BUCKET_MS), bucketIds: new Float64Array(RATE_WINDOW_MS / RATE_BUCKET_MS).fill(-1),
      };
      this.devices.set(deviceId, entry);
    }
    return entry;
  }

  private bump(entry: DeviceEntry, now: number): void {
    const id = Math.floor(now / RATE_BUCKET_MS);
    const slot = id % entry.buckets.length;
    if (entry.bucketIds[slot] !== id) {
      entry.bucketIds[slot] = id;
      entry.buckets[slot] = 0;
    }
    entry.buckets[slot]++;
  }

  private view(entry: DeviceEntry): DeviceView {
    const oldest = Math.floor(this.clock.now() / RATE_BUCKET_MS) - entry.buckets.length;
    let total = 0;
    for (let slot = 0; slot < entry.buckets.length; slot++) if (entry.bucketIds[slot] > oldest) total += entry.buckets[slot];
    const counters = this.codecCounters(entry.deviceId);
    const { buckets: _b, bucketIds: _i, ...rest } = entry;
    return {
      ...rest,
      rate: Math.round((total / (RATE_WINDOW_MS / 1000)) * 10) / 10,
      dropped: counters?.gaps ?? 0,
      duplicates: counters?.duplicates ?? 0,
      rejected: counters?.rejected ?? 0,
      paired: this.isPaired(entry.deviceId),
    };
  }
}
