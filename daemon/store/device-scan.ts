import type { Reading } from '../../drivers/reading.js';
import { decodeBlock } from './block-codec.js';
import { blockRange, keyTs, parseBlockKeyTail } from './keys.js';
import type { TailView } from './store-state.js';

/** The little of LevelDB a scan needs (ClassicLevel fits it). */
export interface BlockSource {
  iterator(options: { gte: string; lt: string }): {
    nextv(size: number): Promise<Array<[string, Buffer]>>;
    close(): Promise<void>;
  };
}

/** One device as a reader captured it: blocks up to this seq, and the tail as it was at that moment. */
export interface DeviceSnapshot {
  deviceId: string;
  visibleBlockSeq: number;
  tail?: TailView;
}

const BLOCKS_PER_FETCH = 16;

/**
 * A device's readings with ts in [from, to), oldest first, as sorted runs (about one block each): the whole
 * range is never in memory. Equal timestamps keep their arrival order.
 *
 * Blocks come in key order (first ts floored to the ms, then block seq = arrival), the tail after every block
 * with the same floored first ts (compaction always takes a whole tail, so blocks hold older arrivals). Blocks
 * of one device normally follow each other in time; when they overlap (late or replayed readings) the merger
 * below holds back what a later run could still undercut.
 */
export async function* scanDevice(db: BlockSource, snapshot: DeviceSnapshot, from: number, to: number): AsyncGenerator<Reading[], void, undefined> {
  const { deviceId } = snapshot;
  const merger = new RunMerger();
  const tail = snapshot.tail ? sortedTail(snapshot.tail, deviceId, from, to) : undefined;
  let tailPending = tail !== undefined;
  const iterator = db.iterator(blockRange(deviceId, from, to));
  try {
    for (;;) {
      const entries = await iterator.nextv(BLOCKS_PER_FETCH);
      if (entries.length === 0) break;
      for (const [key, value] of entries) {
        const parsed = parseBlockKeyTail(key);
        if (parsed.blockSeq > snapshot.visibleBlockSeq) continue;
        if (tail && tailPending && tail.floorTs < parsed.keyTs) {
          tailPending = false;
          const ready = merger.add(tail.floorTs, tail.readings);
          if (ready.length > 0) yield ready;
        }
        const ready = merger.add(parsed.keyTs, decodeBlock(value).readings(deviceId, from, to));
        if (ready.length > 0) yield ready;
      }
    }
  } finally {
    await iterator.close();
  }
  if (tail && tailPending) {
    const ready = merger.add(tail.floorTs, tail.readings);
    if (ready.length > 0) yield ready;
  }
  const rest = merger.flush();
  if (rest.length > 0) yield rest;
}

function sortedTail(view: TailView, deviceId: string, from: number, to: number): { floorTs: number; readings: Reading[] } {
  let min = Infinity;
  for (let i = 0; i < view.length; i++) min = Math.min(min, view.columns.ts[i]);
  const readings = view.columns.readings(deviceId, from, to, 0, view.length);
  // Array.prototype.sort is stable: equal timestamps stay in arrival order.
  readings.sort((a, b) => a.ts - b.ts);
  return { floorTs: keyTs(min), readings };
}

/**
 * Merges sorted runs that arrive ordered by a lower bound of their timestamps (`floorTs`): anything held back
 * with ts <= floorTs of the newest run can no longer be undercut and is released.
 */
export class RunMerger {
  private pending: Reading[] = [];

  add(floorTs: number, run: Reading[]): Reading[] {
    const held = this.pending;
    if (held.length === 0) {
      this.pending = run;
      return held;
    }
    if (held[held.length - 1].ts <= floorTs) {
      this.pending = run;
      return held;
    }
    const cut = firstAfter(held, floorTs);
    this.pending = mergeStable(held.slice(cut), run);
    return held.slice(0, cut);
  }

  flush(): Reading[] {
    const held = this.pending;
    this.pending = [];
    return held;
  }
}

/** Index of the first reading with ts > value in a sorted run. */
function firstAfter(run: Reading[], value: number): number {
  let low = 0;
  let high = run.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (run[mid].ts <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Merges two sorted runs; on equal ts, `first` goes first. */
function mergeStable(first: Reading[], second: Reading[]): Reading[] {
  const out: Reading[] = new Array(first.length + second.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < first.length && j < second.length) out[k++] = second[j].ts < first[i].ts ? second[j++] : first[i++];
  while (i < first.length) out[k++] = first[i++];
  while (j < second.length) out[k++] = second[j++];
  return out;
}
