import type { RetentionPolicy } from '../store/retention.js';
import { isPendingSync } from './session-keys.js';
import type { Session } from './types.js';

interface DeviceIntervals {
  /** id -> [startedAt, endedAt or +Infinity while active] */
  byId: Map<string, [number, number]>;
  /** Rebuilt lazily after a change: starts ascending, and the largest end among the first i intervals. */
  starts?: Float64Array;
  maxEnds?: Float64Array;
}

/**
 * The time ranges retention must keep: per device, the intervals of its labelled sessions that are not
 * synced (ended or still active). A query is a binary search over the device's intervals sorted by start
 * plus a running maximum of their ends, so retention can ask for every block cheaply.
 */
export class UnsyncedIntervalIndex {
  private readonly devices = new Map<string, DeviceIntervals>();

  /** Adds, moves or removes the session's interval according to its state now. */
  update(session: Session): void {
    if (!isPendingSync(session)) {
      this.remove(session);
      return;
    }
    let device = this.devices.get(session.deviceId);
    if (!device) {
      device = { byId: new Map() };
      this.devices.set(session.deviceId, device);
    }
    device.byId.set(session.id, [session.startedAt, session.endedAt ?? Infinity]);
    device.starts = undefined;
  }

  remove(session: Pick<Session, 'id' | 'deviceId'>): void {
    const device = this.devices.get(session.deviceId);
    if (!device?.byId.delete(session.id)) return;
    device.starts = undefined;
    if (device.byId.size === 0) this.devices.delete(session.deviceId);
  }

  /** Does [fromTs, toTs] (both inclusive) touch an unsynced labelled session of the device? */
  overlaps(deviceId: string, fromTs: number, toTs: number): boolean {
    const device = this.devices.get(deviceId);
    if (!device) return false;
    if (!device.starts || !device.maxEnds) this.rebuild(device);
    const starts = device.starts!;
    // The last interval that starts at or before toTs; any overlap is among it and those before it.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= toTs) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && device.maxEnds![lo - 1] >= fromTs;
  }

  get size(): number {
    let n = 0;
    for (const device of this.devices.values()) n += device.byId.size;
    return n;
  }

  private rebuild(device: DeviceIntervals): void {
    const intervals = [...device.byId.values()].sort((a, b) => a[0] - b[0]);
    device.starts = Float64Array.from(intervals, (i) => i[0]);
    device.maxEnds = new Float64Array(intervals.length);
    let max = -Infinity;
    intervals.forEach((interval, i) => {
      max = Math.max(max, interval[1]);
      device.maxEnds![i] = max;
    });
  }
}

/**
 * Readings in a range touching an unsynced labelled session are kept; everything else may go (SPEC section
 * 5). Until the sessions are loaded nothing may go: the store could otherwise delete what it cannot vouch for.
 */
export function sessionRetentionPolicy(index: UnsyncedIntervalIndex, loaded: () => boolean): RetentionPolicy {
  return { isDeletable: (deviceId, fromTs, toTs) => loaded() && !index.overlaps(deviceId, fromTs, toTs) };
}
