import { isDeviceId, type Reading } from '../../drivers/reading.js';
import { InvalidReadingError } from './errors.js';
import { SampleColumns } from './sample-columns.js';

/** Readings per device in arrival order, as columns; refuses what the layout cannot hold. */
export function groupByDevice(readings: readonly Reading[]): Map<string, SampleColumns> {
  const groups = new Map<string, SampleColumns>();
  let currentId: string | undefined;
  let current: SampleColumns | undefined;
  for (const reading of readings) {
    if (reading.deviceId !== currentId || !current) {
      currentId = reading.deviceId;
      current = groups.get(currentId);
      if (!current) {
        if (!isDeviceId(currentId)) throw new InvalidReadingError('invalid device id', { deviceId: currentId });
        current = new SampleColumns(groups.size === 0 ? readings.length : 16);
        groups.set(currentId, current);
      }
    }
    if (typeof reading.ts !== 'number' || !Number.isFinite(reading.ts) || reading.ts < 0) {
      throw new InvalidReadingError('invalid timestamp', { deviceId: currentId, ts: reading.ts });
    }
    current.push(reading);
  }
  return groups;
}
