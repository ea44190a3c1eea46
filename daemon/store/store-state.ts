import type { Reading } from '../../drivers/reading.js';
import type { DeviceMeta, StoreMeta } from './meta.js';
import { emptyStoreMeta } from './meta.js';
import { SampleColumns } from './sample-columns.js';

/** A device's readings that are in the journal and not yet in a block (none right after a compaction). */
export interface DeviceTail {
  columns: SampleColumns;
  /** The journal entries these readings came from, oldest first. */
  journalSeqs: number[];
  /** When (store clock) the oldest of them arrived (or, while empty, when it was compacted): a tail older than the maximum age is compacted. */
  since: number;
}

export interface JournalRef {
  /** Devices whose part of this entry is not yet in a block. */
  refs: number;
  bytes: number;
}

/** What a reader needs to see one consistent state: blocks up to a seq, plus the tail as it was then. */
export interface TailView {
  columns: SampleColumns;
  length: number;
}

/**
 * The in-memory mirror of what is durable. Only CommitPlan.apply() changes it, right after its batch is
 * written, so readers that capture (committedBlockSeq, tail views) in one synchronous step see each reading
 * exactly once: a block committed later has a higher seq and is skipped, its readings are in their tail view.
 */
export class StoreState {
  meta: StoreMeta = emptyStoreMeta();
  committedBlockSeq = 0;
  readonly tails = new Map<string, DeviceTail>();
  readonly journal = new Map<number, JournalRef>();
  readonly deviceMeta = new Map<string, DeviceMeta>();
  readonly latest = new Map<string, Reading>();
  /** Devices whose tail reached the maximum age; the next batch compacts them. */
  readonly dueForCompaction = new Set<string>();

  tailView(deviceId: string): TailView | undefined {
    const tail = this.tails.get(deviceId);
    if (!tail || tail.columns.length === 0) return undefined;
    // A copy: once the tail is compacted, its arrays take the device's next readings (commit-plan.ts).
    const columns = new SampleColumns(tail.columns.length);
    columns.appendFrom(tail.columns);
    return { columns, length: columns.length };
  }

  tailReadings(): number {
    let total = 0;
    for (const tail of this.tails.values()) total += tail.columns.length;
    return total;
  }

  knownDevices(): string[] {
    const ids = new Set<string>([...this.deviceMeta.keys(), ...this.tails.keys(), ...this.latest.keys()]);
    return [...ids].sort();
  }

  /** Keeps `reading` as the device's newest unless a newer one is known (equal ts: the later arrival wins). */
  offerLatest(reading: Reading): void {
    const current = this.latest.get(reading.deviceId);
    if (!current || reading.ts >= current.ts) this.latest.set(reading.deviceId, reading);
  }
}
