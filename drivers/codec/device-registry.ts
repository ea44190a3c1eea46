import type { Reading, Transport } from '../reading.js';
import { DeviceClock, type ClockSyncOptions } from './clock-sync.js';
import { SeqWindow } from './seq-window.js';
import type { RejectReason } from './types.js';

/** What the codec has counted for one device since it was first seen (or last forgotten/evicted). */
export interface DeviceCounters {
  accepted: number;
  duplicates: number;
  /** Samples the device's seq says were lost on the way. */
  gaps: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Transport of the last payload that named this device. */
  transport?: Transport;
  /** Hub time (ms) the last payload that named this device arrived. */
  lastSeenAt?: number;
}

/** Rejections not yet reported in a log line (see RejectionLog). */
export interface PendingRejections {
  count: number;
  byReason: Partial<Record<RejectReason, number>>;
  example?: string;
  transport?: Transport;
  lastLogAt: number;
}

export class DeviceState {
  readonly counters: DeviceCounters = { accepted: 0, duplicates: 0, gaps: 0, rejected: 0, rejectedByReason: {} };
  readonly clock: DeviceClock;
  /** Running uint32 seq of the newest accepted sample; -1 when none. */
  lastSeq = -1;
  /** Which seqs behind lastSeq are missing, so that they are taken as late samples if they come. */
  readonly seqWindow = new SeqWindow();
  /** accel + gyro of the last accepted sample, to spot a CSV re-send of the same sensor read. */
  readonly lastValues = new Float64Array(6);
  hasLastValues = false;
  /** Readings of the payload being decoded whose ts still holds the device time (see Codec). */
  readonly segment: Reading[] = [];
  /** Late samples of that payload, mapped apart: they must not move the device's clock mapping. */
  readonly late: Reading[] = [];
  /** The decode call that last touched this device (Codec bookkeeping). */
  runId = 0;
  readonly pending: PendingRejections = { count: 0, byReason: {}, lastLogAt: Number.NEGATIVE_INFINITY };

  constructor(readonly deviceId: string, clockOptions: Readonly<ClockSyncOptions>) {
    this.clock = new DeviceClock(clockOptions);
  }

  /** Drops the stream state of the old boot (seq, missing seqs, stale-value memory); the clock resets itself. */
  forgetStream(): void {
    this.lastSeq = -1;
    this.seqWindow.clear();
    this.hasLastValues = false;
  }
}

/**
 * Per-device state, bounded: a flood of made-up device ids must not grow memory without bound, so the
 * least recently seen device is evicted once maxDevices is reached. A Map keeps insertion order, and a
 * device is moved to the end whenever it is seen.
 */
export class DeviceRegistry {
  private readonly states = new Map<string, DeviceState>();
  /** The most recently touched state, so a steady stream from one device skips the Map reordering. */
  private newest: DeviceState | undefined;

  constructor(
    private readonly maxDevices: number,
    private readonly clockOptions: Readonly<ClockSyncOptions>,
    private readonly onEvict: (state: DeviceState) => void,
  ) {}

  get(deviceId: string): DeviceState | undefined {
    return this.states.get(deviceId);
  }

  /** The device's state, created if new, and marked as the most recently seen. */
  touch(deviceId: string): DeviceState {
    if (this.newest?.deviceId === deviceId) return this.newest;
    let state = this.states.get(deviceId);
    if (state) {
      this.states.delete(deviceId);
    } else {
      state = new DeviceState(deviceId, this.clockOptions);
      if (this.states.size >= this.maxDevices) this.evictOldest();
    }
    this.states.set(deviceId, state);
    this.newest = state;
    return state;
  }

  delete(deviceId: string): void {
    this.states.delete(deviceId);
    if (this.newest?.deviceId === deviceId) this.newest = undefined;
  }

  values(): IterableIterator<DeviceState> {
    return this.states.values();
  }

  get size(): number {
    return this.states.size;
  }

  private evictOldest(): void {
    const oldest = this.states.values().next().value;
    if (!oldest) return;
    this.states.delete(oldest.deviceId);
    if (this.newest === oldest) this.newest = undefined;
    this.onEvict(oldest);
  }
}
